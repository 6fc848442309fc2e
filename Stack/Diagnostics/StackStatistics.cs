using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace TcpIpSharp.Diagnostics;

/// <summary>
/// The stack's counters, in the spirit of lwIP's <c>lwip_stats</c>: per protocol received, sent, dropped and errors,
/// drops by reason, and a few event counts. Written only by the stack thread; readable from any thread.
/// Also published through <see cref="System.Diagnostics.Metrics"/> under the meter <c>TcpIpSharp</c>.
/// </summary>
public sealed class StackStatistics : IDisposable
{
    /// <summary>The meter name for dotnet-counters: <c>dotnet-counters monitor --counters TcpIpSharp</c>.</summary>
    public const string MeterName = "TcpIpSharp";

    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];
    private readonly List<(string Name, Func<long> Read)> _all = [];
    private Meter? _meter;

    internal long ArpRequestsSentCount, ArpRepliesSentCount, ArpConflictCount, GratuitousArpSentCount, ArpProbesSentCount, ArpNeighbourSuspectsCount;
    internal long FragmentsReceivedCount, DatagramsReassembledCount, FragmentsSentCount, EchoRepliesSentCount, IcmpErrorsSentCount;
    internal long IcmpErrorsReceivedCount, EchoRequestsSentCount, EchoRepliesReceivedCount;
    internal long TcpSegmentsOffloadedCount, TcpLargeSegmentsReceivedCount;
    internal long NeighbourSolicitationsSentCount, NeighbourAdvertisementsSentCount, RouterSolicitationsSentCount, RouterAdvertisementsReceivedCount;
    internal long DadConflictCount, Ipv6FragmentsReceivedCount, Ipv6ReassembledCount, Ipv6FragmentsSentCount, PacketTooBigReceivedCount, MldReportsSentCount;
    internal long IgmpQueriesReceivedCount, IgmpOlderVersionQueriesCount, IgmpReportsSentCount, IgmpLeavesSentCount;

    /// <summary>Creates the counters and registers them with a meter named <see cref="MeterName"/>.</summary>
    public StackStatistics()
    {
        foreach (var (name, counters) in new[] { ("link", Link), ("eth", Ethernet), ("arp", Arp), ("ipv4", Ipv4), ("icmp", Icmp), ("igmp", Igmp), ("udp", Udp), ("tcp", Tcp), ("ipv6", Ipv6), ("icmpv6", Icmpv6), ("nd", Nd) })
        {
            _all.Add(($"{name}.received", () => counters.Received));
            _all.Add(($"{name}.sent", () => counters.Sent));
            _all.Add(($"{name}.dropped", () => counters.Dropped));
            _all.Add(($"{name}.errors", () => counters.Errors));
        }
        _all.Add(("arp.requests_sent", () => Volatile.Read(ref ArpRequestsSentCount)));
        _all.Add(("arp.replies_sent", () => Volatile.Read(ref ArpRepliesSentCount)));
        _all.Add(("arp.gratuitous_sent", () => Volatile.Read(ref GratuitousArpSentCount)));
        _all.Add(("arp.conflicts", () => Volatile.Read(ref ArpConflictCount)));
        _all.Add(("arp.reresolved_on_timeouts", () => Volatile.Read(ref ArpNeighbourSuspectsCount)));
        _all.Add(("arp.probes_sent", () => Volatile.Read(ref ArpProbesSentCount)));
        _all.Add(("ipv4.fragments_received", () => Volatile.Read(ref FragmentsReceivedCount)));
        _all.Add(("ipv4.reassembled", () => Volatile.Read(ref DatagramsReassembledCount)));
        _all.Add(("ipv4.fragments_sent", () => Volatile.Read(ref FragmentsSentCount)));
        _all.Add(("icmp.echo_replies_sent", () => Volatile.Read(ref EchoRepliesSentCount)));
        _all.Add(("icmp.echo_requests_sent", () => Volatile.Read(ref EchoRequestsSentCount)));
        _all.Add(("icmp.echo_replies_received", () => Volatile.Read(ref EchoRepliesReceivedCount)));
        _all.Add(("icmp.errors_sent", () => Volatile.Read(ref IcmpErrorsSentCount)));
        _all.Add(("icmp.errors_received", () => Volatile.Read(ref IcmpErrorsReceivedCount)));
        _all.Add(("nd.solicitations_sent", () => Volatile.Read(ref NeighbourSolicitationsSentCount)));
        _all.Add(("nd.advertisements_sent", () => Volatile.Read(ref NeighbourAdvertisementsSentCount)));
        _all.Add(("nd.router_solicitations_sent", () => Volatile.Read(ref RouterSolicitationsSentCount)));
        _all.Add(("nd.router_advertisements_received", () => Volatile.Read(ref RouterAdvertisementsReceivedCount)));
        _all.Add(("nd.dad_conflicts", () => Volatile.Read(ref DadConflictCount)));
        _all.Add(("ipv6.fragments_received", () => Volatile.Read(ref Ipv6FragmentsReceivedCount)));
        _all.Add(("ipv6.reassembled", () => Volatile.Read(ref Ipv6ReassembledCount)));
        _all.Add(("ipv6.fragments_sent", () => Volatile.Read(ref Ipv6FragmentsSentCount)));
        _all.Add(("icmpv6.packet_too_big_received", () => Volatile.Read(ref PacketTooBigReceivedCount)));
        _all.Add(("mld.reports_sent", () => Volatile.Read(ref MldReportsSentCount)));
        _all.Add(("igmp.queries_received", () => Volatile.Read(ref IgmpQueriesReceivedCount)));
        _all.Add(("igmp.older_version_queries_received", () => Volatile.Read(ref IgmpOlderVersionQueriesCount)));
        _all.Add(("igmp.reports_sent", () => Volatile.Read(ref IgmpReportsSentCount)));
        _all.Add(("igmp.leaves_sent", () => Volatile.Read(ref IgmpLeavesSentCount)));
        _all.Add(("tcp.large_segments_sent", () => Volatile.Read(ref TcpSegmentsOffloadedCount)));
        _all.Add(("tcp.large_segments_received", () => Volatile.Read(ref TcpLargeSegmentsReceivedCount)));
        foreach (var counter in TcpDetail.All()) _all.Add(counter);
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            var r = reason;
            _all.Add(($"drop.{r}", () => Volatile.Read(ref _drops[(int)r])));
        }
    }

    /// <summary>Frames through the link.</summary>
    public ProtocolCounters Link { get; } = new();
    /// <summary>Ethernet frames.</summary>
    public ProtocolCounters Ethernet { get; } = new();
    /// <summary>ARP packets.</summary>
    public ProtocolCounters Arp { get; } = new();
    /// <summary>IPv4 packets (fragments counted one by one).</summary>
    public ProtocolCounters Ipv4 { get; } = new();
    /// <summary>ICMP messages.</summary>
    public ProtocolCounters Icmp { get; } = new();
    /// <summary>IGMP messages (queries and other members' reports received; reports and leaves sent).</summary>
    public ProtocolCounters Igmp { get; } = new();
    /// <summary>UDP datagrams.</summary>
    public ProtocolCounters Udp { get; } = new();
    /// <summary>TCP segments.</summary>
    public ProtocolCounters Tcp { get; } = new();
    /// <summary>IPv6 packets.</summary>
    public ProtocolCounters Ipv6 { get; } = new();
    /// <summary>ICMPv6 messages (Neighbour Discovery and MLD included).</summary>
    public ProtocolCounters Icmpv6 { get; } = new();
    /// <summary>Neighbour Discovery: the IPv6 neighbour table's queue, resolution and table bounds.</summary>
    public ProtocolCounters Nd { get; } = new();
    /// <summary>TCP's own counters: opens, resets, retransmissions by kind, out-of-order segments, probes.</summary>
    public TcpCounters TcpDetail { get; } = new();

    /// <summary>Drops counted under <paramref name="reason"/>.</summary>
    public long Drops(DropReason reason) => Volatile.Read(ref _drops[(int)reason]);
    /// <summary>TCP segments of more than one MSS handed to the link to cut into MSS-sized segments (segmentation offload).</summary>
    public long TcpLargeSegmentsSent => Volatile.Read(ref TcpSegmentsOffloadedCount);
    /// <summary>TCP segments larger than the MTU received (coalesced by the link).</summary>
    public long TcpLargeSegmentsReceived => Volatile.Read(ref TcpLargeSegmentsReceivedCount);
    /// <summary>ARP conflicts seen: another host claiming our address.</summary>
    public long ArpConflicts => Volatile.Read(ref ArpConflictCount);
    /// <summary>Echo replies the stack sent.</summary>
    public long EchoRepliesSent => Volatile.Read(ref EchoRepliesSentCount);

    internal void Drop(ProtocolCounters counters, DropReason reason, bool error = false)
    {
        counters.DroppedCount++;
        if (error) counters.ErrorCount++;
        _drops[(int)reason]++;
    }

    /// <summary>Every counter by name (for example <c>ipv4.received</c>, <c>drop.UdpNoEndpoint</c>), in a fixed order.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Snapshot()
    {
        var list = new List<KeyValuePair<string, long>>(_all.Count);
        foreach (var (name, read) in _all) list.Add(new(name, read()));
        return list;
    }

    /// <summary>The non-zero counters as "name value" lines.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (name, value) in Snapshot())
            if (value != 0) text.Append(CultureInfo.InvariantCulture, $"{name,-34} {value}\n");
        return text.ToString();
    }

    internal void Publish()
    {
        if (_meter is not null) return;
        _meter = new Meter(MeterName);
        foreach (var (name, read) in _all)
        {
            var r = read;
            _meter.CreateObservableCounter("tcpipsharp." + name, () => r());
        }
    }

    /// <summary>Disposes the meter.</summary>
    public void Dispose() => _meter?.Dispose();
}
