using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>Which host of a capture the stack plays, and how the replay runs.</summary>
public sealed record ReplayOptions
{
    /// <summary>The recorded host's address (IPv4 or IPv6): the stack takes it, and its recorded frames are what the stack
    /// must reproduce. The host's other addresses come from the capture: the first IPv4 address and every IPv6 address
    /// its MAC sent from (a dual-stack host); with any IPv6 address the stack runs with IPv6 on (see
    /// <see cref="CaptureReplay"/>).</summary>
    public required IpAddress Host { get; init; }
    /// <summary>The host's MAC address; null takes the one the capture shows it sending from.</summary>
    public MacAddress? HostMac { get; init; }
    /// <summary>The stack's prefix length. Null (the default) puts every address on the link (prefix 0): the stack then
    /// asks ARP for each peer, routed ones included, and the replay answers with the MAC the capture shows for it, which
    /// is the router's for a routed peer, as the recorded host addressed it.</summary>
    public int? PrefixLength { get; init; }
    /// <summary>A gateway for the stack (with <see cref="PrefixLength"/>), or 0.0.0.0 for none.</summary>
    public Ipv4Address Gateway { get; init; }
    /// <summary>The stack's other options (address, MAC, prefix and gateway are replaced by the ones above; the TTL by
    /// the host's recorded one unless <see cref="KeepTimeToLive"/>). Null takes the defaults.</summary>
    public NetworkStackOptions? Stack { get; init; }
    /// <summary>Keep <see cref="Stack"/>'s TTL instead of taking the one the host used in the capture.</summary>
    public bool KeepTimeToLive { get; init; }
    /// <summary>Services started on the stack before the first frame (polled after every poll, as <see cref="StackDriver"/> does).</summary>
    public IReadOnlyList<IStackService> Services { get; init; } = [];
    /// <summary>Serve the host's recorded bytes on each TCP connection it accepted (a <see cref="RecordedTcpServer"/>,
    /// paced on the recorded times unless <see cref="Fast"/>), so a recorded server the stack does not have replays byte
    /// for byte. Default false.</summary>
    public bool ServeRecordedTcp { get; init; }
    /// <summary>Open each TCP connection the host opened (same local port and peer, at the recorded time of its SYN) and
    /// write the host's recorded bytes on it (a <see cref="RecordedTcpClient"/>, paced on the recorded times unless
    /// <see cref="Fast"/>), so a recorded client replays with the stack as the connecting side. Default false; a test can
    /// open its own connection instead (<see cref="Setup"/> or <see cref="Services"/>, <see cref="NetworkStack.ConnectTcp"/>
    /// with the recorded local port).</summary>
    public bool ConnectRecordedTcp { get; init; }
    /// <summary>Called once before the first frame, to open sockets or listeners on the stack (time is virtual, starting at zero).</summary>
    public Action<NetworkStack, TimeSpan>? Setup { get; init; }
    /// <summary>False (the default): each frame goes in at its recorded time, in virtual time, with the stack's timers run
    /// between. True: each frame goes in as soon as the stack is idle, virtual time moving only for the stack's timers.</summary>
    public bool Fast { get; init; }
    /// <summary>How long (virtual time) the replay waits for the stack to send what the host had sent before a peer's
    /// next TCP segment; when it runs out the segment goes in anyway and a <see cref="ReplayDifferenceKind.Timeout"/> is reported.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How long (virtual time) the stack runs after the last frame, for its delayed answers.</summary>
    public TimeSpan Tail { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Rewrite the peers' TCP acknowledgement numbers, SACK blocks and timestamp echoes to the stack's initial
    /// sequence number and timestamps (default true), so that a recorded conversation goes on with the stack.</summary>
    public bool RewriteTcp { get; init; } = true;
    /// <summary>Compare pure ACKs one by one, as every other frame (strict; default false). By default a connection's
    /// pure ACKs (no data, SYN, FIN, RST or SACK blocks) between two of its other segments are compared as a run by what
    /// they acknowledge: how often a receiver ACKs is its delayed-ACK policy, which the stack does not copy from Linux
    /// (quick-ACK and ping-pong modes). See docs/replay.md.</summary>
    public bool PureAcksOneByOne { get; init; }
    /// <summary>Seed of the stack's random source (ISNs, ports, IDs): the same seed gives the same replay.</summary>
    public int Seed { get; init; } = 1;
}
