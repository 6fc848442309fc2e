namespace TcpIpSharp.Services.AutoIp;

/// <summary>
/// Settings of IPv4 link-local addressing (RFC 3927); the timings are the RFC's constants (section 9), and the
/// DHCP fall-back time is this project's choice (RFC 3927 leaves it to the host; see <see cref="DhcpFallbackAfter"/>).
/// </summary>
public sealed record AutoIpOptions
{
    /// <summary>
    /// Seeds the first address chosen (RFC 3927 2.1: the generator SHOULD be seeded from the MAC so a host picks the
    /// same address each time); null seeds it from the MAC. Later choices, after conflicts, draw from the stack's random source.
    /// </summary>
    public int? Seed { get; init; }
    /// <summary>Largest random wait before the first probe (PROBE_WAIT, 1 s).</summary>
    public TimeSpan ProbeWait { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Probes sent (PROBE_NUM, 3).</summary>
    public int ProbeCount { get; init; } = 3;
    /// <summary>Least gap between probes (PROBE_MIN, 1 s).</summary>
    public TimeSpan ProbeMinimum { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Largest gap between probes (PROBE_MAX, 2 s).</summary>
    public TimeSpan ProbeMaximum { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Wait after the last probe before the address is taken (ANNOUNCE_WAIT, 2 s).</summary>
    public TimeSpan AnnounceWait { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Announcements sent (ANNOUNCE_NUM, 2).</summary>
    public int AnnounceCount { get; init; } = 2;
    /// <summary>Gap between announcements (ANNOUNCE_INTERVAL, 2 s).</summary>
    public TimeSpan AnnounceInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Conflicts after which new addresses are tried only once per <see cref="RateLimitInterval"/> (MAX_CONFLICTS, 10).</summary>
    public int MaxConflicts { get; init; } = 10;
    /// <summary>The gap between attempts once <see cref="MaxConflicts"/> is reached (RATE_LIMIT_INTERVAL, 60 s).</summary>
    public TimeSpan RateLimitInterval { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>A second conflict within this time of the first makes the host give the address up (DEFEND_INTERVAL, 10 s).</summary>
    public TimeSpan DefendInterval { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>
    /// With a DHCP client, how long it must have gone without a lease before a link-local address is configured. RFC 3927
    /// 1.9 leaves the time to the host; lwIP counts DISCOVERs (LWIP_DHCP_AUTOIP_COOP_TRIES); 10 s here, three DISCOVERs
    /// of the DHCP client's 4, 8, 16 s schedule (about what dhcpcd and Windows wait). DHCP keeps trying meanwhile, and
    /// its lease replaces the link-local address when it comes.
    /// </summary>
    public TimeSpan DhcpFallbackAfter { get; init; } = TimeSpan.FromSeconds(10);
}
