namespace TcpIpSharp.Net;

/// <summary>Why the gateway could not deliver a guest's packet: the destination unreachable code it sends (IPv4 code / ICMPv6 code).</summary>
internal enum UnreachableReason
{
    /// <summary>No route to the network (0 / 0 "no route to destination").</summary>
    Network,
    /// <summary>The host is unreachable (1 / 3 "address unreachable").</summary>
    Host,
    /// <summary>Nothing listens on the port (3 / 4).</summary>
    Port,
    /// <summary>Refused by policy (13 "communication administratively prohibited" / 1).</summary>
    Prohibited,
}
