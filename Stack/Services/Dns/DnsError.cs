namespace TcpIpSharp.Services.Dns;

/// <summary>Why a lookup failed. <see cref="DnsLookup.Errno"/> gives the matching <c>getaddrinfo</c> error number.</summary>
public enum DnsError
{
    /// <summary>Success.</summary>
    None = 0,
    /// <summary>The name does not exist (NXDOMAIN), or is not a valid name (EAI_NONAME, -2).</summary>
    NameNotFound,
    /// <summary>The name exists but has no record of the type asked (EAI_NODATA, -5).</summary>
    NoData,
    /// <summary>No server answered within the attempts (EAI_AGAIN, -3).</summary>
    TimedOut,
    /// <summary>Every server answered with an error (SERVFAIL, REFUSED, NOTIMP, FORMERR) (EAI_AGAIN, -3).</summary>
    ServerFailure,
    /// <summary>No DNS server is configured (EAI_AGAIN, -3).</summary>
    NoServers,
    /// <summary>The answer was truncated (TC) even over TCP, with nothing usable in it (EAI_FAIL, -4).</summary>
    Truncated,
    /// <summary>Too many lookups are in flight, or no UDP port is free (EAI_AGAIN, -3).</summary>
    TooManyQueries,
}
