using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace TcpIpSharp.Gateway;

/// <summary>
/// A gateway's counters, written by the stack's thread and the relays' tasks (interlocked), read from any thread; also
/// published as observable counters <c>tcpipsharp.gateway.*</c> on the <c>TcpIpSharp</c> meter.
/// </summary>
public sealed class GatewayStatistics : IDisposable
{
    internal long _tcpOpened, _tcpClosed, _tcpRefused, _tcpResetsFromHost, _tcpResetsFromGuest, _connectFailures, _tcpFlowLimit, _pendingLimit;
    internal long _udpOpened, _udpClosed, _udpFlowLimit, _udpDatagramsUp, _udpDatagramsDown, _udpDropped, _udpRejected;
    internal long _bytesUp, _bytesDown, _relayErrors, _dnsQueries, _socks5Failures;
    internal long _dnsHostLookups, _dnsRelayed, _dnsDropped, _dnsTcpSessions, _dnsCacheHits;
    internal long _echoRequestsRelayed, _echoRepliesRelayed, _icmpErrorsToGuest, _socks5UdpAssociations;
    internal int _tcpActive, _tcpPending, _udpActive;
    private Meter? _meter;

    /// <summary>TCP flows whose host connection was made.</summary>
    public long TcpFlowsOpened => Interlocked.Read(ref _tcpOpened);
    /// <summary>TCP flows ended (either way).</summary>
    public long TcpFlowsClosed => Interlocked.Read(ref _tcpClosed);
    /// <summary>TCP SYNs refused by the rule, the allow/deny lists, or a failed host connection.</summary>
    public long TcpFlowsRefused => Interlocked.Read(ref _tcpRefused);
    /// <summary>Host connections that failed or timed out (the guest got a reset).</summary>
    public long ConnectFailures => Interlocked.Read(ref _connectFailures);
    /// <summary>Resets from the host side carried to the guest.</summary>
    public long ResetsFromHost => Interlocked.Read(ref _tcpResetsFromHost);
    /// <summary>Resets (or aborts) from the guest carried to the host.</summary>
    public long ResetsFromGuest => Interlocked.Read(ref _tcpResetsFromGuest);
    /// <summary>SYNs refused because <see cref="GatewayOptions.MaxTcpFlows"/> flows were open.</summary>
    public long TcpFlowLimitRefused => Interlocked.Read(ref _tcpFlowLimit);
    /// <summary>SYNs refused because <see cref="GatewayOptions.MaxPendingConnects"/> host connections were being made.</summary>
    public long PendingConnectLimitRefused => Interlocked.Read(ref _pendingLimit);
    /// <summary>TCP flows open now (connecting included).</summary>
    public int TcpFlowsActive => Volatile.Read(ref _tcpActive);
    /// <summary>UDP flows made.</summary>
    public long UdpFlowsOpened => Interlocked.Read(ref _udpOpened);
    /// <summary>UDP flows closed (idle, or on stop).</summary>
    public long UdpFlowsClosed => Interlocked.Read(ref _udpClosed);
    /// <summary>UDP flows open now.</summary>
    public int UdpFlowsActive => Volatile.Read(ref _udpActive);
    /// <summary>Datagrams for a new flow dropped because <see cref="GatewayOptions.MaxUdpFlows"/> flows were open.</summary>
    public long UdpFlowLimitDropped => Interlocked.Read(ref _udpFlowLimit);
    /// <summary>Datagrams the guest sent that were relayed.</summary>
    public long UdpDatagramsUp => Interlocked.Read(ref _udpDatagramsUp);
    /// <summary>Datagrams relayed back to the guest.</summary>
    public long UdpDatagramsDown => Interlocked.Read(ref _udpDatagramsDown);
    /// <summary>Datagrams dropped on the way (host socket full, or the guest's reply queue full).</summary>
    public long UdpDatagramsDropped => Interlocked.Read(ref _udpDropped);
    /// <summary>Bytes relayed guest to host (TCP payload and UDP payload).</summary>
    public long BytesUp => Interlocked.Read(ref _bytesUp);
    /// <summary>Bytes relayed host to guest.</summary>
    public long BytesDown => Interlocked.Read(ref _bytesDown);
    /// <summary>Host socket errors other than a reset (sends and receives that failed).</summary>
    public long RelayErrors => Interlocked.Read(ref _relayErrors);
    /// <summary>DNS queries to the gateway's address taken (over UDP or TCP).</summary>
    public long DnsQueries => Interlocked.Read(ref _dnsQueries);
    /// <summary>DNS queries answered from the host's resolver (A and AAAA).</summary>
    public long DnsHostLookups => Interlocked.Read(ref _dnsHostLookups);
    /// <summary>DNS queries relayed to the DNS server.</summary>
    public long DnsRelayed => Interlocked.Read(ref _dnsRelayed);
    /// <summary>DNS queries dropped (malformed, too long, <see cref="GatewayOptions.MaxDnsInFlight"/> in flight, no answer) and DNS-over-TCP connections refused by <see cref="GatewayOptions.MaxDnsTcpSessions"/>.</summary>
    public long DnsDropped => Interlocked.Read(ref _dnsDropped);
    /// <summary>DNS queries answered from the gateway's cache (<see cref="GatewayOptions.DnsCacheEntries"/>).</summary>
    public long DnsCacheHits => Interlocked.Read(ref _dnsCacheHits);
    /// <summary>DNS-over-TCP connections to the gateway's address accepted.</summary>
    public long DnsTcpSessions => Interlocked.Read(ref _dnsTcpSessions);
    /// <summary>ICMP echo requests relayed to their destination (<see cref="GatewayEchoMode"/>).</summary>
    public long EchoRequestsRelayed => Interlocked.Read(ref _echoRequestsRelayed);
    /// <summary>ICMP echo replies relayed back to the guest.</summary>
    public long EchoRepliesRelayed => Interlocked.Read(ref _echoRepliesRelayed);
    /// <summary>ICMP errors sent to the guest for what the host side reported (unreachable or time exceeded for a UDP flow, an echo request or a TCP connect).</summary>
    public long IcmpErrorsToGuest => Interlocked.Read(ref _icmpErrorsToGuest);
    /// <summary>SOCKS5 UDP associations made (one per UDP flow under the SOCKS5 rule).</summary>
    public long Socks5UdpAssociations => Interlocked.Read(ref _socks5UdpAssociations);
    /// <summary>SOCKS5 handshakes that failed (the guest got a reset).</summary>
    public long Socks5Failures => Interlocked.Read(ref _socks5Failures);

    /// <summary>Every counter by name, in a fixed order.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Snapshot() =>
    [
        new("gateway.tcp_opened", TcpFlowsOpened), new("gateway.tcp_closed", TcpFlowsClosed), new("gateway.tcp_active", TcpFlowsActive),
        new("gateway.tcp_refused", TcpFlowsRefused), new("gateway.connect_failures", ConnectFailures),
        new("gateway.resets_from_host", ResetsFromHost), new("gateway.resets_from_guest", ResetsFromGuest),
        new("gateway.tcp_flow_limit", TcpFlowLimitRefused), new("gateway.pending_connect_limit", PendingConnectLimitRefused),
        new("gateway.udp_opened", UdpFlowsOpened), new("gateway.udp_closed", UdpFlowsClosed), new("gateway.udp_active", UdpFlowsActive),
        new("gateway.udp_flow_limit", UdpFlowLimitDropped), new("gateway.udp_datagrams_up", UdpDatagramsUp),
        new("gateway.udp_datagrams_down", UdpDatagramsDown), new("gateway.udp_dropped", UdpDatagramsDropped),
        new("gateway.bytes_up", BytesUp), new("gateway.bytes_down", BytesDown), new("gateway.relay_errors", RelayErrors),
        new("gateway.dns_queries", DnsQueries), new("gateway.dns_host_lookups", DnsHostLookups), new("gateway.dns_relayed", DnsRelayed),
        new("gateway.dns_dropped", DnsDropped), new("gateway.dns_tcp_sessions", DnsTcpSessions), new("gateway.dns_cache_hits", DnsCacheHits),
        new("gateway.echo_requests_relayed", EchoRequestsRelayed), new("gateway.echo_replies_relayed", EchoRepliesRelayed),
        new("gateway.icmp_errors_to_guest", IcmpErrorsToGuest), new("gateway.socks5_failures", Socks5Failures),
        new("gateway.socks5_udp_associations", Socks5UdpAssociations),
    ];

    /// <summary>The counters as "name value" lines.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (name, value) in Snapshot()) text.Append(CultureInfo.InvariantCulture, $"{name,-34} {value}\n");
        return text.ToString();
    }

    /// <summary>Publishes the counters on the <c>TcpIpSharp</c> meter as <c>tcpipsharp.gateway.*</c> (once).</summary>
    public void Publish()
    {
        if (_meter is not null) return;
        _meter = new Meter(Diagnostics.StackStatistics.MeterName);
        foreach (var (name, _) in Snapshot())
        {
            var key = name;
            _meter.CreateObservableCounter("tcpipsharp." + key, () => Read(key));
        }
    }

    private long Read(string name)
    {
        foreach (var (n, v) in Snapshot()) if (n == name) return v;
        return 0;
    }

    /// <summary>Disposes the meter.</summary>
    public void Dispose() => _meter?.Dispose();
}
