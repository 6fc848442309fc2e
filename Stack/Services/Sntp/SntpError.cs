namespace TcpIpSharp.Services.Sntp;

/// <summary>How an SNTP query ended.</summary>
public enum SntpError
{
    /// <summary>Answered: the offset and delay are set.</summary>
    None,
    /// <summary>Still waiting.</summary>
    Pending,
    /// <summary>No valid answer within the timeout (after every attempt).</summary>
    Timeout,
    /// <summary>No server to ask: none configured, none from DHCP option 42, or every one denied or backing off.</summary>
    NoServer,
    /// <summary>The server sent a Kiss-o'-Death DENY or RSTR (now or before): it is not asked again.</summary>
    Denied,
    /// <summary>The server sent a Kiss-o'-Death RATE (now or lately): it is not asked until its back-off has passed.</summary>
    RateLimited,
    /// <summary>A Kiss-o'-Death with another code (<see cref="SntpQuery.KissCode"/>).</summary>
    KissOfDeath,
    /// <summary>The server's clock is not synchronised (leap indicator 3, or stratum 16 or more).</summary>
    Unsynchronised,
    /// <summary>The request could not be sent (no address yet, no route, the server unresolvable).</summary>
    SendFailed,
    /// <summary>Too many queries in flight at once (<see cref="SntpClient.MaximumPendingQueries"/>).</summary>
    TooManyQueries,
    /// <summary>The client was stopped before an answer came.</summary>
    Stopped,
}
