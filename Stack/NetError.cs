namespace TcpIpSharp;

/// <summary>Errors the core reports to its callers; the socket layer maps them to the Pico's errno values.</summary>
public enum NetError
{
    /// <summary>Success.</summary>
    None = 0,
    /// <summary>The port is already bound (EADDRINUSE).</summary>
    AddressInUse,
    /// <summary>No ephemeral port is free (EADDRINUSE).</summary>
    NoFreePort,
    /// <summary>The destination is off-link and there is no gateway (EHOSTUNREACH).</summary>
    HostUnreachable,
    /// <summary>The peer answered port unreachable (ECONNREFUSED).</summary>
    ConnectionRefused,
    /// <summary>The datagram is larger than 65,507 bytes (EMSGSIZE).</summary>
    MessageTooLong,
    /// <summary>Nothing to receive now, or no room to send now (EAGAIN).</summary>
    WouldBlock,
    /// <summary>An ICMP time exceeded or other unreachable code for this endpoint (EHOSTUNREACH).</summary>
    NetworkUnreachable,
    /// <summary>The endpoint is closed (EBADF).</summary>
    Closed,
    /// <summary>The destination is broadcast and the endpoint does not allow it (EACCES).</summary>
    BroadcastNotAllowed,
    /// <summary>The operation timed out (ETIMEDOUT).</summary>
    TimedOut,
    /// <summary>The peer reset the connection (ECONNRESET).</summary>
    ConnectionReset,
    /// <summary>The interface has no address yet (ENETUNREACH).</summary>
    NoAddress,
}
