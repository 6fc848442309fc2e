namespace TcpIpSharp.Services.Dns;

/// <summary>What the resolver sent, received, answered from its cache, and rejected.</summary>
public sealed class DnsResolverStatistics
{
    /// <summary>Lookups answered without a query: numeric, localhost, or cached (positive or negative).</summary>
    public long CacheHits { get; internal set; }
    /// <summary>Lookups that needed a query.</summary>
    public long CacheMisses { get; internal set; }
    /// <summary>Queries sent (retries and CNAME chases included).</summary>
    public long QueriesSent { get; internal set; }
    /// <summary>Queries that timed out.</summary>
    public long Timeouts { get; internal set; }
    /// <summary>Responses accepted.</summary>
    public long ResponsesAccepted { get; internal set; }
    /// <summary>Datagrams rejected because they came from another address or port than the server asked.</summary>
    public long RejectedSource { get; internal set; }
    /// <summary>Responses rejected because their ID was not the query's.</summary>
    public long RejectedId { get; internal set; }
    /// <summary>Responses rejected because their question was not the query's (name, type or class).</summary>
    public long RejectedQuestion { get; internal set; }
    /// <summary>Responses rejected as malformed (bad names, pointer loops, counts or lengths past the end, not a response).</summary>
    public long RejectedMalformed { get; internal set; }
    /// <summary>Responses with SERVFAIL, REFUSED, NOTIMP or FORMERR (the next server is asked).</summary>
    public long ServerErrors { get; internal set; }
    /// <summary>Responses with TC set.</summary>
    public long Truncated { get; internal set; }
    /// <summary>Queries sent over TCP after a truncated answer (counted in <see cref="QueriesSent"/> too).</summary>
    public long TcpQueriesSent { get; internal set; }
    /// <summary>Queries over TCP that failed: refused, reset, closed or timed out before a whole answer.</summary>
    public long TcpFailures { get; internal set; }
    /// <summary>One-shot multicast queries sent for <c>.local</c> names (RFC 6762 5.1).</summary>
    public long MulticastQueriesSent { get; internal set; }
    /// <summary>Cache entries evicted to make room.</summary>
    public long CacheEvictions { get; internal set; }

    /// <summary>Every counter by name.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Snapshot() =>
    [
        new("dns.cache_hits", CacheHits), new("dns.cache_misses", CacheMisses), new("dns.queries_sent", QueriesSent),
        new("dns.timeouts", Timeouts), new("dns.responses_accepted", ResponsesAccepted), new("dns.rejected_source", RejectedSource),
        new("dns.rejected_id", RejectedId), new("dns.rejected_question", RejectedQuestion), new("dns.rejected_malformed", RejectedMalformed),
        new("dns.server_errors", ServerErrors), new("dns.truncated", Truncated), new("dns.tcp_queries_sent", TcpQueriesSent),
        new("dns.tcp_failures", TcpFailures), new("dns.cache_evictions", CacheEvictions), new("dns.multicast_queries_sent", MulticastQueriesSent),
    ];
}
