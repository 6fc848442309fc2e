namespace TcpIpSharp.Gateway;

/// <summary>How a gateway treats ICMP echo requests to addresses not its own (chosen at start, per family, from what the host allows).</summary>
public enum GatewayEchoMode
{
    /// <summary>Answered by the gateway itself for every address (as slirp): neither socket below could be opened, or <see cref="GatewayOptions.RelayEcho"/> is off.</summary>
    Answered,
    /// <summary>Relayed through an unprivileged ICMP datagram socket per flow (Linux "ping sockets": the process's group is in <c>net.ipv4.ping_group_range</c>).</summary>
    DatagramSocket,
    /// <summary>Relayed through a raw ICMP socket per flow (root or CAP_NET_RAW).</summary>
    RawSocket,
}
