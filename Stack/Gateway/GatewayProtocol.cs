namespace TcpIpSharp.Gateway;

/// <summary>The transport of a <see cref="GatewayFlow"/>.</summary>
public enum GatewayProtocol
{
    /// <summary>A TCP connection.</summary>
    Tcp,
    /// <summary>A UDP flow (datagrams between one guest port and one destination).</summary>
    Udp,
    /// <summary>An ICMP or ICMPv6 echo flow (echo requests with one identifier, the flow's source port, to one destination; destination port 0).</summary>
    Icmp,
}
