namespace TcpIpSharp.Gateway;

/// <summary>What a <see cref="GatewayRule"/> does with a flow.</summary>
public enum GatewayAction
{
    /// <summary>Relay it through a host socket to its original destination.</summary>
    Relay,
    /// <summary>Relay a flow through the SOCKS5 proxy of <see cref="GatewayOptions.Socks5Proxy"/>: TCP by CONNECT, UDP by a UDP ASSOCIATE of its own (RFC 1928 7).</summary>
    Socks5,
    /// <summary>Refuse it: a TCP reset, or an ICMP port unreachable for UDP.</summary>
    Reject,
    /// <summary>Drop it silently.</summary>
    Drop,
    /// <summary>Hand a TCP flow to <see cref="GatewayDecision.Connector"/>, which returns the connected socket to splice it with.</summary>
    Handle,
}
