namespace TcpIpSharp.Transport.Tcp;

/// <summary>What identifies a connection on a single-address host: the peer's address and port, and our port.</summary>
internal readonly record struct TcpKey(uint RemoteAddress, ushort RemotePort, ushort LocalPort);
