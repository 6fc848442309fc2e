namespace TcpIpSharp.Services.Dns;

/// <summary>Configuration of the DNS resolver: timeouts, attempts and the bounds of its tables (the spirit of lwIP's <c>opt.h</c>).</summary>
public sealed record DnsResolverOptions
{
    /// <summary>Wait for an answer to the first query (each round through the servers doubles it).</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Longest wait for one answer.</summary>
    public TimeSpan MaximumQueryTimeout { get; init; } = TimeSpan.FromSeconds(8);
    /// <summary>Rounds through the server list before a lookup fails (lwIP: 4 tries).</summary>
    public int Attempts { get; init; } = 4;
    /// <summary>Lookups in flight at once (each holds a UDP port); more fail with <see cref="DnsError.TooManyQueries"/>.</summary>
    public int MaximumPendingQueries { get; init; } = 16;
    /// <summary>Wait for a whole answer over TCP, handshake included, after a truncated UDP answer (RFC 7766).</summary>
    public TimeSpan TcpQueryTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Rounds through the server list over TCP before a truncated lookup fails.</summary>
    public int TcpAttempts { get; init; } = 2;
    /// <summary>Largest answer taken over TCP (at most 65535, RFC 1035 4.2.2); a longer one is refused and the next server asked.</summary>
    public int MaximumTcpMessageSize { get; init; } = 16384;
    /// <summary>CNAMEs followed from the name asked, within one answer and across new queries (RFC 1034 3.6.2).</summary>
    public int MaximumCnameHops { get; init; } = 8;

    /// <summary>
    /// Ask <c>.local</c> names (and the reverse names of link-local addresses) by one-shot multicast DNS query (RFC 6762
    /// 5.1, lwIP's LWIP_DNS_SUPPORT_MDNS_QUERIES); default true. They never go to the unicast servers: off, they fail.
    /// </summary>
    public bool MulticastDns { get; init; } = true;
    /// <summary>Wait for an answer to one multicast query.</summary>
    public TimeSpan MulticastQueryTimeout { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Multicast queries sent for one <c>.local</c> lookup before it fails with <see cref="DnsError.NameNotFound"/>.</summary>
    public int MulticastAttempts { get; init; } = 2;

    /// <summary>Names (of one type each) cached; the least recently used makes room.</summary>
    public int CacheSize { get; init; } = 64;
    /// <summary>Addresses kept per cached name (the rest of a long answer is dropped).</summary>
    public int MaximumAddressesPerName { get; init; } = 8;
    /// <summary>Longest time an answer is cached, whatever its TTL says.</summary>
    public TimeSpan MaximumCacheTtl { get; init; } = TimeSpan.FromDays(1);
    /// <summary>How long NXDOMAIN and NODATA are cached when the answer carries no SOA (RFC 2308 5).</summary>
    public TimeSpan NegativeCacheTtl { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Longest time NXDOMAIN and NODATA are cached (the short bound of RFC 2308 5; lwIP does not cache them).</summary>
    public TimeSpan MaximumNegativeCacheTtl { get; init; } = TimeSpan.FromSeconds(60);
}
