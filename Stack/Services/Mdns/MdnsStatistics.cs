namespace TcpIpSharp.Services.Mdns;

/// <summary>What the mDNS responder received, answered, suppressed and dropped.</summary>
public sealed class MdnsStatistics
{
    /// <summary>Queries received on port 5353.</summary>
    public long QueriesReceived { get; internal set; }
    /// <summary>Responses received on port 5353.</summary>
    public long ResponsesReceived { get; internal set; }
    /// <summary>Datagrams dropped as malformed (bad header, names, counts or record data); never thrown.</summary>
    public long Malformed { get; internal set; }
    /// <summary>Datagrams ignored: another opcode, or a response from a port other than 5353 (RFC 6762 6).</summary>
    public long Ignored { get; internal set; }
    /// <summary>Packets from a source not on the link, dropped unanswered and unbelieved (RFC 6762 11: no reflection, no renaming from afar).</summary>
    public long OffLink { get; internal set; }
    /// <summary>Multicast response packets sent (answers, announcements and goodbyes).</summary>
    public long MulticastResponsesSent { get; internal set; }
    /// <summary>Unicast responses to queries with the QU bit (RFC 6762 5.4).</summary>
    public long UnicastResponsesSent { get; internal set; }
    /// <summary>Legacy unicast responses: to queries from ports other than 5353 (RFC 6762 6.7).</summary>
    public long LegacyResponsesSent { get; internal set; }
    /// <summary>Records not multicast because they had been less than a second before (RFC 6762 6).</summary>
    public long RateLimited { get; internal set; }
    /// <summary>Records not sent because the query listed them as known answers (RFC 6762 7.1).</summary>
    public long KnownAnswersSuppressed { get; internal set; }
    /// <summary>Pending multicast records dropped because another responder sent them first (RFC 6762 7.4).</summary>
    public long DuplicatesSuppressed { get; internal set; }
    /// <summary>Probes sent (RFC 6762 8.1).</summary>
    public long ProbesSent { get; internal set; }
    /// <summary>Announcements sent (RFC 6762 8.3).</summary>
    public long AnnouncementsSent { get; internal set; }
    /// <summary>Goodbye packets sent (TTL 0, RFC 6762 10.1).</summary>
    public long GoodbyesSent { get; internal set; }
    /// <summary>Conflicts for our names (RFC 6762 9): each one renames (while probing) or probes again.</summary>
    public long Conflicts { get; internal set; }
    /// <summary>Simultaneous probes lost on the tie-break (RFC 6762 8.2): probing starts again a second later.</summary>
    public long TieBreaksLost { get; internal set; }
    /// <summary>Datagrams left queued for the next poll (the per-poll bound).</summary>
    public long DeferredDatagrams { get; internal set; }
    /// <summary>Answers to browses ignored because a browse was full.</summary>
    public long BrowseOverflows { get; internal set; }

    /// <summary>Every counter by name.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Snapshot() =>
    [
        new("mdns.queries_received", QueriesReceived), new("mdns.responses_received", ResponsesReceived), new("mdns.malformed", Malformed),
        new("mdns.ignored", Ignored), new("mdns.off_link", OffLink), new("mdns.multicast_responses_sent", MulticastResponsesSent), new("mdns.unicast_responses_sent", UnicastResponsesSent),
        new("mdns.legacy_responses_sent", LegacyResponsesSent), new("mdns.rate_limited", RateLimited), new("mdns.known_answers_suppressed", KnownAnswersSuppressed),
        new("mdns.duplicates_suppressed", DuplicatesSuppressed), new("mdns.probes_sent", ProbesSent), new("mdns.announcements_sent", AnnouncementsSent),
        new("mdns.goodbyes_sent", GoodbyesSent), new("mdns.conflicts", Conflicts), new("mdns.tie_breaks_lost", TieBreaksLost),
        new("mdns.deferred_datagrams", DeferredDatagrams), new("mdns.browse_overflows", BrowseOverflows),
    ];
}
