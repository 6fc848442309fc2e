namespace TcpIpSharp.Wire;

/// <summary>The BOOTP op field (RFC 2131 2).</summary>
public enum DhcpOperation : byte
{
    /// <summary>Client to server.</summary>
    BootRequest = 1,
    /// <summary>Server to client.</summary>
    BootReply = 2,
}
