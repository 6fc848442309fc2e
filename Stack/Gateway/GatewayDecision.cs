using System.Net.Sockets;

namespace TcpIpSharp.Gateway;

/// <summary>A <see cref="GatewayRule"/>'s answer: an action and, for <see cref="GatewayAction.Handle"/>, the connector.</summary>
/// <param name="Action">What to do.</param>
/// <param name="Connector">For <see cref="GatewayAction.Handle"/>: makes the connected socket the flow is spliced with (on the
/// thread pool; returning null or throwing refuses the flow: with the ICMP host or network unreachable a router would send
/// for a <see cref="SocketException"/> of EHOSTUNREACH, ETIMEDOUT or ENETUNREACH, with a reset for anything else).</param>
public readonly record struct GatewayDecision(GatewayAction Action, Func<GatewayFlow, CancellationToken, ValueTask<Socket?>>? Connector = null)
{
    /// <summary>Relay directly.</summary>
    public static GatewayDecision Relay => new(GatewayAction.Relay);
    /// <summary>Relay through the SOCKS5 proxy.</summary>
    public static GatewayDecision Socks5 => new(GatewayAction.Socks5);
    /// <summary>Refuse with a reset or port unreachable.</summary>
    public static GatewayDecision Reject => new(GatewayAction.Reject);
    /// <summary>Drop silently.</summary>
    public static GatewayDecision Drop => new(GatewayAction.Drop);
    /// <summary>Splice with the socket <paramref name="connector"/> returns.</summary>
    public static GatewayDecision Handle(Func<GatewayFlow, CancellationToken, ValueTask<Socket?>> connector) => new(GatewayAction.Handle, connector);
}
