namespace TcpIpSharp.Services.Dhcp;

/// <summary>What the DHCP client sent, received and ignored (read on the stack thread, or as a snapshot).</summary>
public sealed class DhcpClientStatistics
{
    /// <summary>DISCOVERs sent (retransmissions included).</summary>
    public long DiscoversSent { get; internal set; }
    /// <summary>REQUESTs sent (selecting, rebooting, renewing and rebinding, retransmissions included).</summary>
    public long RequestsSent { get; internal set; }
    /// <summary>DECLINEs sent.</summary>
    public long DeclinesSent { get; internal set; }
    /// <summary>RELEASEs sent.</summary>
    public long ReleasesSent { get; internal set; }
    /// <summary>Retransmissions among the messages sent.</summary>
    public long Retransmissions { get; internal set; }
    /// <summary>OFFERs taken.</summary>
    public long OffersReceived { get; internal set; }
    /// <summary>ACKs taken.</summary>
    public long AcksReceived { get; internal set; }
    /// <summary>NAKs taken.</summary>
    public long NaksReceived { get; internal set; }
    /// <summary>Replies ignored because their xid was not the transaction's.</summary>
    public long IgnoredTransactionId { get; internal set; }
    /// <summary>Replies ignored because their chaddr was not our MAC address.</summary>
    public long IgnoredHardwareAddress { get; internal set; }
    /// <summary>Messages ignored because they had no magic cookie (plain BOOTP or garbage).</summary>
    public long IgnoredNoMagicCookie { get; internal set; }
    /// <summary>Messages ignored as malformed (truncated, bad options, missing required options).</summary>
    public long IgnoredMalformed { get; internal set; }
    /// <summary>Well-formed messages ignored as not expected now (a request, a type not awaited, another server's reply).</summary>
    public long IgnoredUnexpected { get; internal set; }
    /// <summary>Leases that expired without renewal.</summary>
    public long LeasesExpired { get; internal set; }
    /// <summary>Address conflicts found by the ARP check.</summary>
    public long Conflicts { get; internal set; }

    /// <summary>Every counter by name.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Snapshot() =>
    [
        new("dhcp.discovers_sent", DiscoversSent), new("dhcp.requests_sent", RequestsSent), new("dhcp.declines_sent", DeclinesSent),
        new("dhcp.releases_sent", ReleasesSent), new("dhcp.retransmissions", Retransmissions), new("dhcp.offers_received", OffersReceived),
        new("dhcp.acks_received", AcksReceived), new("dhcp.naks_received", NaksReceived), new("dhcp.ignored_xid", IgnoredTransactionId),
        new("dhcp.ignored_chaddr", IgnoredHardwareAddress), new("dhcp.ignored_no_cookie", IgnoredNoMagicCookie),
        new("dhcp.ignored_malformed", IgnoredMalformed), new("dhcp.ignored_unexpected", IgnoredUnexpected),
        new("dhcp.leases_expired", LeasesExpired), new("dhcp.conflicts", Conflicts),
    ];
}
