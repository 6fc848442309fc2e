namespace TcpIpSharp.Net;

/// <summary>
/// Why the gateway could not deliver a guest's packet: the ICMP error it sends (IPv4 type and code / ICMPv6 type and
/// code) and where it comes from: a port unreachable from the destination itself (the host that has no such port),
/// every other one from the gateway's own address (the router on the path that could not deliver).
/// </summary>
internal enum UnreachableReason
{
    /// <summary>No route to the network (destination unreachable 0 / 0 "no route to destination").</summary>
    Network,
    /// <summary>The host is unreachable (destination unreachable 1 / 3 "address unreachable").</summary>
    Host,
    /// <summary>Nothing listens on the port (destination unreachable 3 / 4), sent from the destination's address.</summary>
    Port,
    /// <summary>Refused by policy (destination unreachable 13 "communication administratively prohibited" / 1).</summary>
    Prohibited,
    /// <summary>The hop limit ran out on the way (time exceeded 11 code 0 / ICMPv6 3 code 0), as a SOCKS5 proxy's "TTL expired".</summary>
    HopLimit,
}
