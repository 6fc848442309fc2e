using System.Buffers.Binary;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Fuzz;

/// <summary>
/// The fuzz targets (issue 8, item 1). Each takes one input and must neither throw nor break an invariant; the fuzz
/// program runs them under SharpFuzz, and Stack.Tests replays fuzz/corpus and fuzz/crashes through them.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>The targets by name.</summary>
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["receive"] = Receive,
        ["stateful"] = Stateful,
        ["dns"] = Dns,
        ["dhcp"] = Dhcp,
        ["tcp-options"] = TcpOptionsTarget,
    };

    private static readonly Ipv4Address StackIp = new(192, 0, 2, 2), PeerIp = new(192, 0, 2, 1);
    private static readonly MacAddress StackMac = MacAddress.Parse("02:00:00:00:00:02"), PeerMac = MacAddress.Parse("02:00:00:00:00:01");

    /// <summary>One frame into a stack with a UDP echo endpoint, a TCP listener and an open connection.</summary>
    public static void Receive(byte[] input) => Feed([input]);

    /// <summary>A sequence of frames (each prefixed by a big-endian u16 length) into the same stack, with time passing between them.</summary>
    public static void Stateful(byte[] input)
    {
        var frames = new List<byte[]>();
        for (int at = 0; at + 2 <= input.Length && frames.Count < 64;)
        {
            int length = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(input.AsSpan(at)), input.Length - at - 2);
            frames.Add(input.AsSpan(at + 2, length).ToArray());
            at += 2 + length;
        }
        Feed(frames);
    }

    private static void Feed(List<byte[]> frames)
    {
        var (a, peer) = InMemoryLink.CreatePair(queueFrames: 256);
        using var stack = new NetworkStack(a, new NetworkStackOptions { MacAddress = StackMac, Address = StackIp, PrefixLength = 24, Gateway = PeerIp });
        using (peer)
        {
            stack.AfterFrame = StackInvariants.Check;
            var now = TimeSpan.Zero;
            stack.Poll(now);
            var udp = stack.OpenUdp(7);
            var listener = stack.ListenTcp(80);
            // Learn the peer, then open a connection to it (its SYN goes out; the fuzz input may answer it).
            peer.TrySend(ArpRequest());
            stack.Poll(now);
            var connection = stack.ConnectTcp(PeerIp, 5001);
            connection.Send(new byte[3000]);
            var buffer = new byte[70000];
            foreach (var frame in frames)
            {
                peer.TrySend(frame);
                now += TimeSpan.FromMilliseconds(50);
                stack.Poll(now);
                while (peer.TryReceive(buffer) > 0) { }
                while (udp.Receive(buffer, out _, out _) >= 0) { }
                while (listener.TryAccept(out var accepted)) accepted.Receive(buffer);
                connection.Receive(buffer);
            }
            stack.Poll(now + TimeSpan.FromSeconds(31));   // timers: reassembly timeout, retransmissions
            StackInvariants.Check(stack);
        }
    }

    private static byte[] ArpRequest()
    {
        var frame = new byte[EthernetHeader.Size + ArpHeader.Size];
        new EthernetHeader(StackMac, PeerMac, EtherType.Arp).WriteTo(frame);
        new ArpHeader(ArpOperation.Request, PeerMac, PeerIp, MacAddress.Zero, StackIp).WriteTo(frame.AsSpan(EthernetHeader.Size));
        return frame;
    }

    /// <summary>The DNS message parser and reader: every question, record, name and record field.</summary>
    public static void Dns(byte[] input)
    {
        if (DnsMessage.TryParse(input, out var message) != WireError.None) return;
        var reader = message.GetReader();
        Span<char> name = stackalloc char[256];
        while (reader.TryReadQuestion(out var q)) q.Name.TryDecode(name, out _);
        while (reader.TryReadRecord(out var r))
        {
            r.Name.TryDecode(name, out _);
            _ = r.Address;
            r.DomainName.TryDecode(name, out _);
            _ = r.Preference;
            r.MailExchange.TryDecode(name, out _);
            foreach (var _ in r.Text) { }
            r.PrimaryNameServer.TryDecode(name, out _);
            r.ResponsibleMailbox.TryDecode(name, out _);
            _ = r.Serial + r.Refresh + r.Retry + r.Expire + r.Minimum;
        }
    }

    /// <summary>The DHCP message parser and option reader, with every typed option accessor.</summary>
    public static void Dhcp(byte[] input)
    {
        if (DhcpMessage.TryParse(input, out var message) != WireError.None) return;
        var options = message.GetOptionReader();
        while (options.Read()) { }
        _ = message.ServerName.Length + message.BootFileName.Length + message.HostName.Length + message.ClientIdentifier.Length;
        _ = (message.MessageType, message.SubnetMask, message.Router, message.LeaseTime, message.ServerIdentifier, message.RequestedIpAddress,
             message.RenewalTime, message.RebindingTime, message.BroadcastAddress, message.InterfaceMtu);
        var routers = message.Routers;
        for (int i = 0; i < routers.Count; i++) _ = routers[i];
        var servers = message.DomainNameServers;
        for (int i = 0; i < servers.Count; i++) _ = servers[i];
    }

    /// <summary>The TCP option parser.</summary>
    public static void TcpOptionsTarget(byte[] input)
    {
        if (input.Length > 40) return;   // a TCP header holds at most 40 bytes of options
        _ = TcpOptions.TryParse(input, out _);
    }
}
