using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv6;

/// <summary>
/// IPv6 on the interface (RFC 8200, RFC 4861, RFC 4862, RFC 3810): addressing, Neighbour Discovery and the bounds of
/// every table a neighbour or router could grow. Defaults follow RFC 4861 10's constants and Linux where they agree.
/// Set <see cref="NetworkStackOptions.Ipv6"/> to turn IPv6 on; the program's <c>up</c> does by default.
/// </summary>
public sealed record Ipv6Options
{
    /// <summary>
    /// Interface identifiers from RFC 7217 (a keyed hash of the prefix and this secret: stable per network, not the
    /// MAC) instead of the modified EUI-64 of the MAC (RFC 4291 appendix A, as the Pico W's lwIP forms them). Null
    /// (the default) takes EUI-64.
    /// </summary>
    public byte[]? StablePrivacySecret { get; init; }
    /// <summary>Addresses configured by hand (each goes through duplicate address detection, then never expires).</summary>
    public IReadOnlyList<(Ipv6Address Address, int PrefixLength)> StaticAddresses { get; init; } = [];
    /// <summary>A default router configured by hand (a link-local or on-link address), or null.</summary>
    public Ipv6Address? StaticGateway { get; init; }
    /// <summary>IPv6 DNS servers configured by hand; the resolver asks them after the IPv4 ones and before those RDNSS gives.</summary>
    public IReadOnlyList<Ipv6Address> DnsServers { get; init; } = [];
    /// <summary>Form addresses from router advertisements' prefixes with the autonomous flag (SLAAC, RFC 4862 5.5.3).</summary>
    public bool Autoconfigure { get; init; } = true;
    /// <summary>Neighbour solicitations sent to detect a duplicate before an address is used (RFC 4862 DupAddrDetectTransmits); 0 skips DAD.</summary>
    public int DupAddrDetectTransmits { get; init; } = 1;
    /// <summary>Router solicitations sent at start (RFC 4861 MAX_RTR_SOLICITATIONS); 0 sends none.</summary>
    public int RouterSolicitations { get; init; } = 3;
    /// <summary>Time between router solicitations (RFC 4861 RTR_SOLICITATION_INTERVAL).</summary>
    public TimeSpan RouterSolicitationInterval { get; init; } = TimeSpan.FromSeconds(4);
    /// <summary>Longest random delay before the first router solicitation and the first DAD probe (RFC 4861 MAX_RTR_SOLICITATION_DELAY).</summary>
    public TimeSpan MaxRouterSolicitationDelay { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Hop limit of packets sent, until a router advertisement gives one.</summary>
    public byte HopLimit { get; init; } = 64;
    /// <summary>How long a neighbour stays REACHABLE after a confirmation (RFC 4861 REACHABLE_TIME; a router advertisement may change it).</summary>
    public TimeSpan ReachableTime { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Time between neighbour solicitations (RFC 4861 RETRANS_TIMER; a router advertisement may change it).</summary>
    public TimeSpan RetransmitTimer { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How long a neighbour waits in DELAY before it is probed (RFC 4861 DELAY_FIRST_PROBE_TIME).</summary>
    public TimeSpan DelayFirstProbeTime { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Multicast solicitations before resolution fails (RFC 4861 MAX_MULTICAST_SOLICIT).</summary>
    public int MaxMulticastSolicit { get; init; } = 3;
    /// <summary>Unicast probes before an unreachable neighbour is removed (RFC 4861 MAX_UNICAST_SOLICIT).</summary>
    public int MaxUnicastSolicit { get; init; } = 3;
    /// <summary>Addresses held at most (link-local, SLAAC and static together); more advertised prefixes are counted and ignored.</summary>
    public int MaxAddresses { get; init; } = 8;
    /// <summary>On-link prefixes held at most.</summary>
    public int MaxPrefixes { get; init; } = 8;
    /// <summary>Default routers held at most.</summary>
    public int MaxRouters { get; init; } = 4;
    /// <summary>DNS servers learned from RDNSS options (RFC 8106) held at most.</summary>
    public int MaxDnsServers { get; init; } = 3;
    /// <summary>Destinations with a path MTU below the link's held at most (the least recently updated is replaced).</summary>
    public int DestinationCacheSize { get; init; } = 64;
    /// <summary>How long a path MTU learned from Packet Too Big holds before it is tried at the link's again (RFC 8201 5.3: at least 5 minutes; 10 recommended).</summary>
    public TimeSpan PathMtuAging { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>How long a datagram may take to reassemble (RFC 8200 4.5: 60 s).</summary>
    public TimeSpan ReassemblyTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>MLD reports sent for each change of membership (RFC 3810 robustness variable).</summary>
    public int MldRobustness { get; init; } = 2;
    /// <summary>Longest random delay between the repetitions of an unsolicited MLD report (RFC 3810 Unsolicited Report Interval).</summary>
    public TimeSpan MldUnsolicitedReportInterval { get; init; } = TimeSpan.FromSeconds(1);
}
