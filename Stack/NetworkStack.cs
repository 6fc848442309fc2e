using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Links;
using TcpIpSharp.Net;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp;

/// <summary>
/// The root of one host: an interface on a link, its tables and timers. Single-threaded and deterministic:
/// everything happens inside <see cref="Poll(TimeSpan)"/>, on the caller's thread, at the time the caller gives.
/// </summary>
public sealed class NetworkStack : IDisposable
{
    private readonly ILink _link;
    private readonly FrameBatch _received;
    private readonly NetworkStackOptions _options;
    private readonly IRandomSource _random;

    /// <summary>Creates a stack on <paramref name="link"/>.</summary>
    /// <param name="link">The link it owns from now on.</param>
    /// <param name="options">Addresses and bounds.</param>
    /// <param name="random">Randomness (cryptographic when null).</param>
    /// <param name="loggerFactory">Where events go (nowhere when null).</param>
    public NetworkStack(ILink link, NetworkStackOptions options, IRandomSource? random = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(link);
        ArgumentNullException.ThrowIfNull(options);
        _link = link;
        _options = options;
        _random = random ?? new CryptoRandomSource();
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TcpIpSharp");
        Statistics = new StackStatistics();
        Interface = new EthernetInterface(options, link, Statistics, logger);
        Internet = new InternetLayer(options, Interface, Statistics, logger, _random);
        _received = new FrameBatch(ReceiveBatchFrames, Math.Max(link.Capabilities.MaxFrameSize, EthernetHeader.TaggedSize + 1500));
        DnsServers = [];
        SetDnsServers([.. options.DnsServers]);
        _wallEpoch = options.WallClockEpoch;
    }

    /// <summary>The counters (read them from any thread).</summary>
    public StackStatistics Statistics { get; }
    /// <summary>The link.</summary>
    public ILink Link => _link;
    /// <summary>The link end of the interface: MAC, EtherType dispatch, neighbour tables, transmission.</summary>
    internal EthernetInterface Interface { get; }
    /// <summary>What both families share: the transports and their output.</summary>
    internal InternetLayer Internet { get; }
    /// <summary>The IPv4 layer: address, ARP, reassembly, ICMP.</summary>
    internal Net.Ipv4.Ipv4Layer Ipv4 => Internet.Ipv4;
    /// <summary>Every TCP connection and listener (both families).</summary>
    internal Transport.Tcp.TcpTable Tcp => Internet.Tcp;
    /// <summary>Every UDP endpoint (both families).</summary>
    internal UdpTable Udp => Internet.Udp;
    /// <summary>The IPv6 layer, or null when IPv6 is off.</summary>
    internal Net.Ipv6.Ipv6Layer? Ipv6 => Internet.Ipv6;

    /// <summary>True when the stack speaks IPv6 (<see cref="NetworkStackOptions.Ipv6"/> was given).</summary>
    public bool Ipv6Enabled => Internet.Ipv6 is not null;

    /// <summary>The interface's IPv6 addresses with their state and lifetimes (empty while IPv6 is off). Call on the stack thread.</summary>
    public IReadOnlyList<Net.Ipv6.Ipv6AddressInfo> Ipv6Addresses => Internet.Ipv6?.Addresses(Interface.Now) ?? [];

    /// <summary>The IPv6 default routers (from router advertisements or configured).</summary>
    public IReadOnlyList<Ipv6Address> Ipv6Routers => Internet.Ipv6?.Routers ?? [];

    /// <summary>Raised (on the stack thread) when an IPv6 address becomes preferred after duplicate address detection.</summary>
    public event Action<Net.Ipv6.Ipv6AddressInfo>? Ipv6AddressPreferred
    {
        add { if (Internet.Ipv6 is { } v6) v6.AddressPreferred += value; }
        remove { if (Internet.Ipv6 is { } v6) v6.AddressPreferred -= value; }
    }

    /// <summary>Raised (on the stack thread) when duplicate address detection fails for one of our IPv6 addresses or another node claims one.</summary>
    public event Action<Ipv6Address, MacAddress?>? Ipv6AddressConflict
    {
        add { if (Internet.Ipv6 is { } v6) v6.AddressConflict += value; }
        remove { if (Internet.Ipv6 is { } v6) v6.AddressConflict -= value; }
    }

    /// <summary>The source address the stack uses toward <paramref name="destination"/> (either family; unspecified when it has none yet).</summary>
    public IpAddress SourceAddressFor(IpAddress destination) => Internet.SourceAddressFor(destination);

    /// <summary>The options the stack was made with.</summary>
    internal NetworkStackOptions Options => _options;

    /// <summary>Called after every received frame is processed: simulations and fuzzers check <see cref="Diagnostics.StackInvariants"/> here.</summary>
    internal Action<NetworkStack>? AfterFrame { get; set; }

    /// <summary>The interface's MAC address.</summary>
    public MacAddress MacAddress => Interface.Mac;
    /// <summary>The interface's IPv4 address (0.0.0.0 when none).</summary>
    public Ipv4Address Address => Ipv4.Address;
    /// <summary>The on-link prefix length.</summary>
    public int PrefixLength => Ipv4.PrefixLength;
    /// <summary>The default gateway (0.0.0.0 when none).</summary>
    public Ipv4Address Gateway => Ipv4.Gateway;
    /// <summary>The IP MTU.</summary>
    public int Mtu => Interface.Mtu;

    /// <summary>Sees every frame in and out (a tracer); null for none.</summary>
    public FrameObserver? FrameObserver { get => Interface.Observer; set => Interface.Observer = value; }

    /// <summary>Raised (on the stack thread) when another host claims our address (RFC 5227).</summary>
    public event Action<Ipv4Address, MacAddress>? AddressConflict
    {
        add => Ipv4.AddressConflict += value;
        remove => Ipv4.AddressConflict -= value;
    }

    /// <summary>Sets the interface's address, prefix and gateway (as DHCP does).</summary>
    public void Configure(Ipv4Address address, int prefixLength, Ipv4Address gateway) => Ipv4.SetAddress(address, prefixLength, gateway);

    /// <summary>The subnet mask of <see cref="PrefixLength"/>.</summary>
    public Ipv4Address SubnetMask => Ipv4.Mask;
    /// <summary>The directed broadcast address of the subnet (DHCP option 28 may set it).</summary>
    public Ipv4Address BroadcastAddress => Ipv4.SubnetBroadcast;

    /// <summary>Lowers (or restores) the IP MTU, as DHCP option 26 does; clamped to 68 .. the MTU the stack was created with.</summary>
    public void SetMtu(int mtu) => Interface.SetMtu(mtu);

    /// <summary>The DNS servers the resolver asks, in order (set by hand, or by DHCP option 6).</summary>
    public IReadOnlyList<Ipv4Address> DnsServers { get; private set; }

    /// <summary>Replaces the DNS servers (at most <see cref="MaximumDnsServers"/> are kept; 0.0.0.0 entries are skipped).</summary>
    public void SetDnsServers(ReadOnlySpan<Ipv4Address> servers)
    {
        var list = new List<Ipv4Address>(Math.Min(servers.Length, MaximumDnsServers));
        foreach (var server in servers)
            if (!server.IsAny && !list.Contains(server) && list.Count < MaximumDnsServers) list.Add(server);
        DnsServers = list.AsReadOnly();
        _resolverServers = null;
    }

    /// <summary>
    /// The servers the resolver asks, in order: the IPv4 ones (<see cref="DnsServers"/>), the IPv6 ones configured
    /// (<see cref="Net.Ipv6.Ipv6Options.DnsServers"/>), then those IPv6 router advertisements gave (RDNSS, RFC 8106), as a
    /// Linux host's resolv.conf lists them after rdnssd.
    /// </summary>
    public IReadOnlyList<IpAddress> ResolverServers
    {
        get
        {
            var configured = _options.Ipv6?.DnsServers;
            var learned = Internet.Ipv6?.DnsServers;
            if ((configured is null || configured.Count == 0) && (learned is null || learned.Count == 0))
                return _resolverServers ??= [.. DnsServers.Select(s => (IpAddress)s)];
            return [.. DnsServers.Select(s => (IpAddress)s), .. (configured ?? []).Select(s => (IpAddress)s), .. (learned ?? []).Select(s => (IpAddress)s)];
        }
    }

    private IpAddress[]? _resolverServers;

    /// <summary>Most DNS servers kept.</summary>
    public const int MaximumDnsServers = 4;

    /// <summary>The stack's random source (services draw transaction IDs, query IDs and ports from it).</summary>
    internal IRandomSource Random => _random;

    private DateTime? _wallEpoch;

    /// <summary>
    /// What the stack adds to its wall clock (0 until set): <see cref="SetWallClock"/>, or SNTP's <c>SetTime</c>, changes
    /// it, so the socket layer's time helpers and the TLS layer's certificate checks see the time the network gave,
    /// while the system clock is left alone.
    /// </summary>
    public TimeSpan WallClockOffset { get; set; }

    /// <summary>
    /// The stack's wall-clock time (UTC) at <paramref name="now"/> on its clock: <see cref="NetworkStackOptions.WallClockEpoch"/>
    /// (or the system's time at the first poll) plus <paramref name="now"/> plus <see cref="WallClockOffset"/>.
    /// </summary>
    public DateTime WallClock(TimeSpan now)
    {
        _wallEpoch ??= _options.WallClockEpoch ?? DateTime.UtcNow - now;
        long ticks = _wallEpoch.Value.Ticks + now.Ticks + WallClockOffset.Ticks;
        return new DateTime(Math.Clamp(ticks, DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks), DateTimeKind.Utc);
    }

    /// <summary>Ties the wall clock to the system's: <paramref name="utc"/> is the time at <paramref name="now"/> (unless <see cref="NetworkStackOptions.WallClockEpoch"/> fixed it).</summary>
    internal void AnchorWallClock(DateTime utc, TimeSpan now)
    {
        if (_options.WallClockEpoch is null) _wallEpoch = utc - now;
    }

    /// <summary>The stack's wall-clock time (UTC) as of its last poll.</summary>
    public DateTime UtcNow => WallClock(Interface.Now);

    /// <summary>Sets the stack's wall clock so that it reads <paramref name="utc"/> at <paramref name="now"/> (changes <see cref="WallClockOffset"/>).</summary>
    public void SetWallClock(DateTime utc, TimeSpan now) => WallClockOffset += utc.ToUniversalTime() - WallClock(now);

    /// <summary>Publishes the statistics through System.Diagnostics.Metrics (meter <c>TcpIpSharp</c>).</summary>
    public void PublishMetrics() => Statistics.Publish();

    /// <summary>The most frames one lend from the link holds (<see cref="ILink.Lend"/>); a poll takes several batches up to its budget.</summary>
    internal const int ReceiveBatchFrames = 32;

    /// <summary>
    /// Takes received frames (up to the budget), processes them, runs due timers, and transmits what is due.
    /// Returns true when it did anything, so a driver can loop until idle.
    /// </summary>
    /// <remarks>
    /// Frames are parsed and delivered where the link received them (<see cref="ILink.Lend"/>) and handed back batch by
    /// batch; nothing below keeps a reference to a frame after it is processed (what is kept is copied: reassembly,
    /// out-of-order TCP data, frames waiting for a neighbour), so a batch goes back as soon as its frames are processed.
    /// </remarks>
    public bool Poll(TimeSpan now)
    {
        Interface.Now = now;
        if (_wallEpoch is null) _wallEpoch = DateTime.UtcNow - now;
        bool worked = false;
        for (int budget = _options.ReceiveBudgetPerPoll; budget > 0;)
        {
            _received.PrepareLend(Math.Min(budget, ReceiveBatchFrames));
            int count = _link.Lend(_received);
            if (count <= 0) break;
            worked = true;
            budget -= count;
            bool drained = false;
            try
            {
                ProcessReceived(count, now);
            }
            finally
            {
                // Also when an invariant check (AfterFrame) throws: the link gets its buffers back either way.
                drained = _received.Drained;
                _link.Return(_received);
            }
            // Once 64 KB of TCP data came in, the ACKs go now (and what they let out), not after the whole budget: a poll
            // may take hundreds of frames, and a sender that hears nothing until then stalls on its window
            // (docs/benchmarks.md, issue 18). As Linux's receiver ACKs each GRO packet of up to 64 KB.
            if (Tcp.ReceivedSinceFlush >= Transport.Tcp.TcpTable.AckEveryBytes && Tcp.HasPendingOutput) Tcp.FlushPending(now);
            // The link had nothing more when it lent this batch (FrameBatch.Drained): no second lend to find that out.
            // What arrived since waits for the next poll, as it would after a lend that came back empty.
            if (drained) break;
        }
        Internet.PollTimers(now);
        return worked;
    }

    // The frames of the batch out, in order (a method of its own: the loop stays out of Poll's try block).
    private void ProcessReceived(int count, TimeSpan now)
    {
        Tcp.InBatch = count > 1;   // per-batch ACK work (TcpTable.InBatch)
        for (int i = 0; i < count; i++)
        {
            Interface.ProcessFrame(_received[i], now);
            AfterFrame?.Invoke(this);
        }
    }

    /// <summary>When <see cref="Poll(TimeSpan)"/> next has timer work to do, or null when only a frame would give it work.</summary>
    public TimeSpan? NextDeadline(TimeSpan now) => Internet.NextDeadline(now);

    /// <summary>Opens a UDP endpoint on <paramref name="port"/> (0 picks a random ephemeral port, RFC 6056).</summary>
    /// <remarks>Bound to 0.0.0.0 (the default) it takes IPv4 datagrams; bound to <see cref="IpAddress.Any"/> (::) both families.</remarks>
    public NetError OpenUdp(ushort port, out UdpEndpoint? endpoint, Ipv4Address localAddress = default)
        => Udp.Open(Internet, localAddress, port, out endpoint);

    /// <summary>Opens a UDP endpoint bound to an address of either family (<see cref="IpAddress.Any"/>: both families).</summary>
    public NetError OpenUdp(ushort port, IpAddress localAddress, out UdpEndpoint? endpoint)
        => Udp.Open(Internet, localAddress, port, out endpoint);

    /// <summary>Opens a UDP endpoint for a socket: with SO_REUSEADDR it may share its port with other such endpoints.</summary>
    internal NetError OpenUdp(ushort port, IpAddress localAddress, bool reuseAddress, out UdpEndpoint? endpoint)
        => Udp.Open(Internet, localAddress, port, out endpoint, reuseAddress: reuseAddress);

    /// <summary>Opens a UDP endpoint with its own receive-queue bounds (a service that expects a few small datagrams).</summary>
    /// <remarks>Bound to :: (both families) when the stack speaks IPv6, so that a service can ask IPv6 servers too.</remarks>
    internal NetError OpenUdp(ushort port, int queueBytes, int queueDatagrams, out UdpEndpoint? endpoint)
        => Udp.Open(Internet, Ipv6Enabled ? IpAddress.Any : IpAddress.AnyIpv4, port, out endpoint, queueBytes, queueDatagrams);

    /// <summary>Opens a UDP endpoint or throws <see cref="InvalidOperationException"/> saying why not.</summary>
    public UdpEndpoint OpenUdp(ushort port = 0)
        => OpenUdp(port, out var endpoint) is var error && error == NetError.None ? endpoint! : throw new InvalidOperationException($"cannot bind UDP port {port}: {error}");

    /// <summary>Listens on a TCP port with an accept backlog (the Pico's <c>listen(backlog)</c>).</summary>
    public Transport.Tcp.TcpListener ListenTcp(ushort port, int backlog = 128, Transport.Tcp.TcpConnectionOptions? options = null)
        => Tcp.Listen(port, backlog, options);

    /// <summary>Opens a TCP connection (the SYN goes out on the next poll); watch its state or Ready callback.</summary>
    /// <exception cref="InvalidOperationException">No address yet, the local port taken, no ephemeral port free, or
    /// <see cref="NetworkStackOptions.TcpMaxConnections"/> connections exist already.</exception>
    public Transport.Tcp.TcpConnection ConnectTcp(IpAddress address, ushort port, Transport.Tcp.TcpConnectionOptions? options = null, ushort localPort = 0)
    {
        if (Internet.SourceAddressFor(address).IsAny) throw new InvalidOperationException(address.IsIpv4 ? "the interface has no address yet" : "the interface has no usable IPv6 address yet");
        return Tcp.Connect(address, port, localPort, options, Interface.Now);
    }

    /// <summary>A debug snapshot of every TCP connection (state, sequence variables, windows, SRTT, RTO, cwnd), one line each.</summary>
    public IReadOnlyList<string> TcpSnapshot() => Tcp.Snapshot();

    /// <summary>Opens an ICMP echo client with a random identifier unless one is given.</summary>
    public EchoClient OpenEchoClient(ushort? identifier = null)
        => Ipv4.OpenEchoClient(this, identifier ?? (ushort)_random.NextUInt32());

    /// <summary>
    /// Joins an IPv4 multicast group: frames and datagrams to it are accepted, and IGMP reports it (RFC 3376, or v2/v1
    /// while such a querier is heard). Reference-counted: only the first join of a group is reported; each join needs
    /// its own <see cref="LeaveMulticast(Ipv4Address)"/>. A join beyond <see cref="NetworkStackOptions.IgmpMaxGroups"/>
    /// is counted (<c>drop.IgmpTooManyGroups</c>) and ignored.
    /// </summary>
    public void JoinMulticast(Ipv4Address group) => Ipv4.JoinMulticast(group, Interface.Now);

    /// <summary>Drops one join of an IPv4 multicast group; the last one stops its datagrams and reports the leave.</summary>
    public void LeaveMulticast(Ipv4Address group) => Ipv4.LeaveMulticast(group, Interface.Now);

    /// <summary>The IPv4 multicast groups joined, 224.0.0.1 included.</summary>
    public IReadOnlyList<Ipv4Address> Ipv4MulticastGroups => Ipv4.Groups;

    internal bool TryJoinMulticast(Ipv4Address group) => Ipv4.JoinMulticast(group, Interface.Now);
    internal bool TryLeaveMulticast(Ipv4Address group) => Ipv4.LeaveMulticast(group, Interface.Now);

    /// <summary>
    /// Sends an ICMP message given whole by a raw socket: as an ICMP payload of IPv4, or as ICMPv6 with its checksum
    /// filled in over the pseudo-header (as Linux does for raw ICMPv6 sockets).
    /// </summary>
    internal NetError SendRawIcmp(ReadOnlySpan<byte> message, IpAddress to, TimeSpan now)
    {
        if (to.IsIpv4)
        {
            message.CopyTo(Ipv4.DatagramPayload);
            return Ipv4.SendDatagram(to.AsIpv4, IpProtocol.Icmp, message.Length, now);
        }
        if (Internet.Ipv6 is not { } v6) return NetError.NetworkUnreachable;
        if (message.Length < Icmpv6Packet.MinimumSize) return NetError.MessageTooLong;
        var source = v6.SelectSource(to.AsIpv6);
        if (source.IsUnspecified) return NetError.NoAddress;
        var payload = v6.PacketPayload[..message.Length];
        message.CopyTo(payload);
        Icmpv6Header.FillChecksum(payload, source, to.AsIpv6);
        return v6.SendPacket(source, to.AsIpv6, IpProtocol.Icmpv6, message.Length, now);
    }

    /// <summary>Joins an IPv6 multicast group (reference-counted; MLD reports it). Throws when IPv6 is off.</summary>
    public void JoinMulticast(Ipv6Address group)
        => (Internet.Ipv6 ?? throw new InvalidOperationException("IPv6 is off")).JoinGroup(group, Interface.Now);

    internal bool TryJoinMulticast(Ipv6Address group) => Internet.Ipv6 is { } v6 && v6.JoinGroup(group, Interface.Now);

    /// <summary>
    /// True when <paramref name="source"/> is on this link (IPv4: our subnet or 169.254/16; IPv6: link-local or an on-link
    /// prefix): RFC 6762 11's check, so that multicast DNS neither answers nor believes packets routed from elsewhere.
    /// </summary>
    internal bool IsOnLinkSource(IpAddress source)
        => source.IsIpv4 ? Ipv4.IsOnLinkSource(source.AsIpv4) : Internet.Ipv6 is { } v6 && v6.IsOnLinkSource(source.AsIpv6);

    /// <summary>Leaves an IPv6 multicast group.</summary>
    public void LeaveMulticast(Ipv6Address group) => Internet.Ipv6?.LeaveGroup(group, Interface.Now);

    /// <summary>The IPv6 multicast groups joined (by the stack itself, such as solicited-node groups, and by sockets); empty while IPv6 is off.</summary>
    public IReadOnlyList<Ipv6Address> Ipv6MulticastGroups => Internet.Ipv6?.Groups ?? [];

    /// <summary>Disposes the link and the metrics.</summary>
    public void Dispose()
    {
        Statistics.Dispose();
        _link.Dispose();
    }
}
