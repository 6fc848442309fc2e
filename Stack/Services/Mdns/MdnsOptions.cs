namespace TcpIpSharp.Services.Mdns;

/// <summary>Configuration of the mDNS responder (RFC 6762) and its DNS-SD services (RFC 6763): times, TTLs and table bounds.</summary>
public sealed record MdnsOptions
{
    /// <summary>The host name (one label, without <c>.local</c>); null takes <see cref="NetworkStackOptions.Hostname"/>.</summary>
    public string? Hostname { get; init; }
    /// <summary>Gap between probes (RFC 6762 8.1: 250 ms).</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>Probes sent before a name is taken (RFC 6762 8.1: three).</summary>
    public int ProbeCount { get; init; } = 3;
    /// <summary>Announcements sent once a name is taken (RFC 6762 8.3: at least two).</summary>
    public int AnnounceCount { get; init; } = 2;
    /// <summary>Gap between the first two announcements (RFC 6762 8.3: one second; then doubling).</summary>
    public TimeSpan AnnounceInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>TTL of records that carry a host name (A, AAAA, reverse PTR, SRV): RFC 6762 10 recommends 120 s.</summary>
    public uint HostRecordTtl { get; init; } = 120;
    /// <summary>TTL of the other records (PTR, TXT): RFC 6762 10 recommends 75 minutes.</summary>
    public uint OtherRecordTtl { get; init; } = 4500;
    /// <summary>Largest TTL in a legacy unicast answer (RFC 6762 6.7: no more than 10 s).</summary>
    public uint LegacyUnicastTtl { get; init; } = 10;
    /// <summary>Least time between two multicasts of one record (RFC 6762 6: one second; 250 ms when defending against a probe).</summary>
    public TimeSpan MulticastRateLimit { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Services registered at once at most.</summary>
    public int MaximumServices { get; init; } = 16;
    /// <summary>Bytes of TXT data per service at most (RFC 6763 6.2 recommends under 1300 in total).</summary>
    public int MaximumTxtLength { get; init; } = 1300;
    /// <summary>Datagrams read from port 5353 per poll at most; the rest wait for the next poll (bounded work).</summary>
    public int MaximumDatagramsPerPoll { get; init; } = 16;
    /// <summary>Datagrams queued on port 5353 (a flood beyond it is dropped by the UDP layer and counted).</summary>
    public int ReceiveQueueDatagrams { get; init; } = 32;
    /// <summary>Bytes queued on port 5353.</summary>
    public int ReceiveQueueBytes { get; init; } = 48 * 1024;
    /// <summary>Questions looked at in one query, and records in one message, at most (the rest are ignored).</summary>
    public int MaximumEntriesPerMessage { get; init; } = 64;
    /// <summary>Browses running at once at most.</summary>
    public int MaximumBrowses { get; init; } = 4;
    /// <summary>Instances collected per browse at most (a flood of answers is counted and ignored beyond it).</summary>
    public int MaximumInstancesPerBrowse { get; init; } = 32;
    /// <summary>Addresses kept per discovered instance.</summary>
    public int MaximumAddressesPerInstance { get; init; } = 4;
    /// <summary>Answer and announce on IPv6 (ff02::fb) too when the stack speaks IPv6 (default true).</summary>
    public bool Ipv6 { get; init; } = true;
    /// <summary>
    /// Claim and answer the host name (default true). False makes a querier only, as avahi-browse is: browses and
    /// lookups work, but no name is probed, announced or answered (what <c>tcpipsharp browse</c> runs, so that it never
    /// takes a name from a host running beside it). Services registered then are not published either.
    /// </summary>
    public bool Publish { get; init; } = true;
}
