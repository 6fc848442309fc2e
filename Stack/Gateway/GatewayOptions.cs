using System.Net;

namespace TcpIpSharp.Gateway;

/// <summary>
/// Configuration of a <see cref="GatewayHost"/>: where flows go and the bound of everything a guest can grow. Each bound
/// is counted when it refuses something (<see cref="GatewayStatistics"/>).
/// </summary>
public sealed record GatewayOptions
{
    /// <summary>TCP flows relayed at once (connecting or open); a SYN beyond it is answered with a reset. Default 4,096.</summary>
    public int MaxTcpFlows { get; init; } = 4096;
    /// <summary>TCP flows whose host connection is still being made (SYN-ACK held); a SYN beyond it gets a reset. Default 256.</summary>
    public int MaxPendingConnects { get; init; } = 256;
    /// <summary>How long a host connection may take before the guest's SYN is answered with an ICMP host unreachable (as a last router whose ARP gave up: docs/gateway.md). Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// Host to guest: the most one receive from a host socket puts into the connection's send ring, and the buffer (from
    /// <see cref="System.Buffers.ArrayPool{T}.Shared"/>) of a flow past 1 MB down, whose receives a task of its own
    /// makes. Default 256 KB (measured with a buffer per flow: 0.7-0.8 of the kernel's throughput host to guest,
    /// against about 0.5 with 64 KB).
    /// </summary>
    public int RelayBufferSize { get; init; } = 256 * 1024;
    /// <summary>
    /// Bytes a TCP flow holds between the stack and the host socket, guest to host. Default 64 KB (that direction is
    /// bound by the stack's receive path, not by this buffer); a flow past 1 MB up, whose sends a task of its own makes,
    /// holds two of <see cref="RelayBufferSize"/> instead (if larger; one filled while the other is sent). With the connection's two
    /// rings, a flow's whole memory.
    /// </summary>
    public int UpstreamBufferSize { get; init; } = 64 * 1024;
    /// <summary>UDP flows (guest address and port to destination address and port) at once; a datagram for a new flow beyond it is dropped. Default 1,024.</summary>
    public int MaxUdpFlows { get; init; } = 1024;
    /// <summary>
    /// The largest datagram a UDP flow takes from the host; a longer one is dropped. A flow holds as many slots of this
    /// size as fit in 64 KB (7 by default), from the shared pool. Default 9,216.
    /// </summary>
    public int UdpBufferSize { get; init; } = 9216;
    /// <summary>A UDP flow with no datagram either way for this long is closed. Default 60 s (DNS flows: 10 s).</summary>
    public TimeSpan UdpIdleTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Destinations relayed; empty allows all (then <see cref="Deny"/> alone decides).</summary>
    public IReadOnlyList<IPNetwork> Allow { get; init; } = [];
    /// <summary>Destinations refused (a reset for TCP, port unreachable for UDP), checked before <see cref="Allow"/>.</summary>
    public IReadOnlyList<IPNetwork> Deny { get; init; } = [];
    /// <summary>
    /// A SOCKS5 proxy (RFC 1928) that flows go through when the rule says <see cref="GatewayAction.Socks5"/> (the default
    /// rule when this is set): TCP by CONNECT, each UDP flow by a UDP ASSOCIATE of its own, torn down with the flow.
    /// </summary>
    public EndPoint? Socks5Proxy { get; init; }
    /// <summary>User name for the proxy (RFC 1929 username/password); null offers no-auth only.</summary>
    public string? Socks5User { get; init; }
    /// <summary>Password for the proxy, with <see cref="Socks5User"/>.</summary>
    public string? Socks5Password { get; init; }
    /// <summary>
    /// Where DNS queries sent to the gateway's own address (UDP port 53) go; null takes the first <c>nameserver</c> of the
    /// host's <c>/etc/resolv.conf</c> (the host's resolver, as slirp does).
    /// </summary>
    public IPEndPoint? DnsServer { get; init; }
    /// <summary>
    /// A and AAAA questions to the gateway's address are answered from the host's own resolver (/etc/hosts, nsswitch, the
    /// host's servers: <see cref="System.Net.Dns"/>) with a 10 s TTL; other questions are relayed to <see cref="DnsServer"/>.
    /// False relays every question. Default true. The lookups run in the process's own namespace, even with <see cref="HostNamespace"/>.
    /// </summary>
    public bool ResolveOnHost { get; init; } = true;
    /// <summary>DNS queries to the gateway's address being answered at once (UDP and TCP together); a UDP query beyond it is dropped, a TCP session waits. Default 64.</summary>
    public int MaxDnsInFlight { get; init; } = 64;
    /// <summary>DNS-over-TCP connections to the gateway's address at once; a SYN beyond it gets a reset. Default 32.</summary>
    public int MaxDnsTcpSessions { get; init; } = 32;
    /// <summary>A DNS-over-TCP connection with nothing asked or answered for this long is closed (RFC 7766 6.2.3). Default 10 s.</summary>
    public TimeSpan DnsTcpIdleTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// Answers the gateway's DNS keeps (its own and relayed ones, for their TTL: <see cref="DnsCache"/>); the least
    /// recently used goes when it is full; 0: no cache. Default 1,024 (each at most 4 KB).
    /// </summary>
    public int DnsCacheEntries { get; init; } = 1024;
    /// <summary>
    /// ICMP echo requests to other addresses are relayed to them through an ICMP datagram socket (when the process's group is
    /// in <c>net.ipv4.ping_group_range</c>) or a raw one (root), chosen at start per family; when neither opens, or with
    /// false, the gateway answers them itself for every address. Echo flows count against <see cref="MaxUdpFlows"/> and
    /// close after 10 s idle. Default true.
    /// </summary>
    public bool RelayEcho { get; init; } = true;
    /// <summary>The rule for each new flow (see <see cref="GatewayRule"/>); null relays directly (or through the SOCKS5 proxy when one is set).</summary>
    public GatewayRule? Rule { get; init; }
    /// <summary>
    /// A network namespace (<c>/var/run/netns/NAME</c>) to open the host sockets in; null opens them in the process's
    /// own. Each socket is made on a short-lived thread that entered the namespace (see <see cref="Linux.NetworkNamespace"/>).
    /// </summary>
    public string? HostNamespace { get; init; }
    /// <summary>Called for each flow opened and closed (the program's <c>--trace</c>), on the stack's thread; keep it short.</summary>
    public Action<string>? Trace { get; init; }
}
