using TcpIpSharp.Wire;

namespace TcpIpSharp;

/// <summary>
/// Configuration of one stack: its addresses and the bounds of every table an attacker could grow.
/// Defaults follow Linux and lwIP where they agree (the spirit of lwIP's <c>opt.h</c>, as code).
/// </summary>
public sealed record NetworkStackOptions
{
    /// <summary>The interface's MAC address.</summary>
    public MacAddress MacAddress { get; init; } = MacAddress.Parse("02:00:00:00:00:02");
    /// <summary>The interface's IPv4 address (0.0.0.0 until configured, for example by DHCP).</summary>
    public Ipv4Address Address { get; init; }
    /// <summary>The prefix length of the on-link network.</summary>
    public int PrefixLength { get; init; } = 24;
    /// <summary>The default gateway, or 0.0.0.0 for none.</summary>
    public Ipv4Address Gateway { get; init; }
    /// <summary>The IP MTU; null takes the link's.</summary>
    public int? Mtu { get; init; }
    /// <summary>DNS servers to ask, in order (DHCP may replace them); none by default.</summary>
    public IReadOnlyList<Ipv4Address> DnsServers { get; init; } = [];
    /// <summary>
    /// IPv6 (link-local and SLAAC addresses, Neighbour Discovery, MLD); null (the default for the library) leaves the
    /// stack IPv4-only, as before IPv6 existed. The program's <c>up</c> turns it on unless given <c>--no-ipv6</c>.
    /// </summary>
    public Net.Ipv6.Ipv6Options? Ipv6 { get; init; }
    /// <summary>
    /// The host name (one label): the name the mDNS responder (<see cref="Services.Mdns.MdnsResponder"/>) answers as
    /// <c>NAME.local</c>; the Pico's default is "PicoW" (its <c>network.hostname()</c>).
    /// </summary>
    public string Hostname { get; init; } = "PicoW";
    /// <summary>TTL of datagrams the stack sends.</summary>
    public byte TimeToLive { get; init; } = 64;
    /// <summary>Answer ICMP and ICMPv6 echo requests (default true); false drops them, as Linux's <c>icmp_echo_ignore_all</c>
    /// and <c>net.ipv6.icmp.echo_ignore_all</c> do.</summary>
    public bool AnswerEchoRequests { get; init; } = true;

    /// <summary>Most ARP entries kept.</summary>
    public int ArpCacheSize { get; init; } = 256;
    /// <summary>How long a resolved entry lives (lwIP ARP_MAXAGE: 5 minutes).</summary>
    public TimeSpan ArpEntryLifetime { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>An entry in use is refreshed by a unicast request this long before it expires.</summary>
    public TimeSpan ArpRefreshBefore { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>Least time between two requests for one address (at most one per second).</summary>
    public TimeSpan ArpRequestInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Requests sent for an address before its resolution fails.</summary>
    public int ArpRequestAttempts { get; init; } = 3;
    /// <summary>Frames queued for one unresolved address (a 64 KB datagram is 45 frames).</summary>
    public int ArpQueuePerAddress { get; init; } = 64;
    /// <summary>Frames queued for all unresolved addresses together.</summary>
    public int ArpQueueTotal { get; init; } = 128;
    /// <summary>Send a gratuitous ARP announcement when the interface comes up.</summary>
    public bool AnnounceOnUp { get; init; } = true;

    /// <summary>Datagrams reassembled at once.</summary>
    public int ReassemblyMaxDatagrams { get; init; } = 8;
    /// <summary>Bytes held by unfinished datagrams together.</summary>
    public int ReassemblyMaxBytes { get; init; } = 256 * 1024;
    /// <summary>Separate pieces one unfinished datagram may have.</summary>
    public int ReassemblyMaxPieces { get; init; } = 64;
    /// <summary>How long a datagram may take to complete (Linux ipfrag_time: 30 s).</summary>
    public TimeSpan ReassemblyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>ICMP errors sent per second at most (a token bucket).</summary>
    public double IcmpErrorsPerSecond { get; init; } = 100;
    /// <summary>ICMP errors sent in a burst at most.</summary>
    public double IcmpErrorBurst { get; init; } = 50;

    /// <summary>IPv4 multicast groups joined at once (224.0.0.1 included); a join beyond it is refused.</summary>
    public int IgmpMaxGroups { get; init; } = 32;
    /// <summary>IGMP Robustness Variable (RFC 3376 8.1, default 2): how many times a join or leave is reported unasked.</summary>
    public int IgmpRobustness { get; init; } = 2;
    /// <summary>
    /// Largest random gap between the repeats of an unsolicited IGMPv3 report (RFC 3376 8.11, 1 s); IGMPv2's is
    /// <see cref="IgmpV2UnsolicitedReportInterval"/>.
    /// </summary>
    public TimeSpan IgmpUnsolicitedReportInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Largest random gap between the repeats of an unsolicited IGMPv1/v2 report (RFC 2236 8.10, 10 s).</summary>
    public TimeSpan IgmpV2UnsolicitedReportInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bytes queued per UDP endpoint for the receiver (a 65,507-byte datagram needs 65,515).</summary>
    public int UdpReceiveQueueBytes { get; init; } = 128 * 1024;
    /// <summary>Datagrams queued per UDP endpoint.</summary>
    public int UdpReceiveQueueDatagrams { get; init; } = 256;
    /// <summary>UDP endpoints open at once.</summary>
    public int UdpMaxEndpoints { get; init; } = 1024;
    /// <summary>Lowest ephemeral port (IANA dynamic range, RFC 6335).</summary>
    public ushort EphemeralPortFirst { get; init; } = 49152;
    /// <summary>Highest ephemeral port.</summary>
    public ushort EphemeralPortLast { get; init; } = 65535;

    /// <summary>Defaults for every TCP connection (per-connection options may override them).</summary>
    public Transport.Tcp.TcpConnectionOptions Tcp { get; init; } = new();
    /// <summary>Handshakes in progress per listener at most (SYN-RECEIVED); more SYNs are dropped and counted.</summary>
    public int TcpSynQueue { get; init; } = 256;
    /// <summary>
    /// Bytes of TCP ring storage kept for reuse after connections close (their send and receive rings go back to a
    /// pool once the user closed them and they reach TIME-WAIT or CLOSED); 0 turns reuse off. The pool never holds more
    /// than connections held at once before. Default 64 MB: 256 rings of the default 256 KB, so a host opening and
    /// closing a hundred connections at a time allocates no ring memory; more churn at once wants a larger pool.
    /// </summary>
    public long TcpBufferPoolBytes { get; init; } = 64L * 1024 * 1024;
    /// <summary>
    /// TCP connections in the stack at most, in every state (handshakes, established, closing, TIME-WAIT), opened
    /// actively or passively. At the bound a SYN to a listener is dropped (a SYN cookie is neither sent nor honoured) and
    /// <see cref="NetworkStack.ConnectTcp"/> throws (ENOMEM in the socket layer, as lwIP when it is out of PCBs);
    /// both are counted as <c>tcp.connection_limit_refused</c>. The default, 16,384, is the size of the ephemeral port range.
    /// </summary>
    public int TcpMaxConnections { get; init; } = 16_384;

    /// <summary>Echo replies queued per echo client.</summary>
    public int EchoClientQueue { get; init; } = 64;
    /// <summary>
    /// The wall-clock time (UTC) at time zero of the clock the stack is polled with; null anchors the wall clock at the
    /// first <see cref="NetworkStack.Poll(TimeSpan)"/> to the system's <see cref="DateTime.UtcNow"/>. Tests in virtual time
    /// set it so that the wall clock is deterministic. SNTP's <c>SetTime</c> adjusts the stack's wall clock through
    /// <see cref="NetworkStack.WallClockOffset"/>, never the system's.
    /// </summary>
    public DateTime? WallClockEpoch { get; init; }
    /// <summary>
    /// IPv4 link-local addressing (RFC 3927, lwIP's AUTOIP): null (the default) leaves it off. Given, a
    /// <see cref="Sockets.SocketStack"/> runs a <see cref="Services.AutoIp.AutoIpClient"/> (alone, or as the DHCP client's
    /// fall-back when it has one); with a <see cref="StackDriver"/> of one's own, add the client by hand. Leave
    /// <see cref="Address"/> unset: the client configures the interface's one IPv4 address itself.
    /// </summary>
    public Services.AutoIp.AutoIpOptions? AutoIp { get; init; }
    /// <summary>Frames taken from the link per <see cref="NetworkStack.Poll(TimeSpan)"/> at most.</summary>
    public int ReceiveBudgetPerPoll { get; init; } = 256;
}
