namespace TcpIpSharp.Transport.Tcp;

/// <summary>An active open refused because <see cref="NetworkStackOptions.TcpMaxConnections"/> connections exist (the socket layer's ENOMEM).</summary>
internal sealed class ConnectionLimitException(int bound)
    : InvalidOperationException($"the stack holds {bound} TCP connections, its bound (NetworkStackOptions.TcpMaxConnections)");
