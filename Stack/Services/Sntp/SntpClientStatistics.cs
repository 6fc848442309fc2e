namespace TcpIpSharp.Services.Sntp;

/// <summary>Counters of an <see cref="SntpClient"/>; every datagram dropped is counted under one reason.</summary>
public sealed class SntpClientStatistics
{
    /// <summary>Requests sent (retries included).</summary>
    public long RequestsSent { get; internal set; }
    /// <summary>Replies accepted (offset and delay computed).</summary>
    public long RepliesAccepted { get; internal set; }
    /// <summary>Requests that timed out.</summary>
    public long Timeouts { get; internal set; }
    /// <summary>Datagrams from an address or port no query is waiting on.</summary>
    public long RejectedSource { get; internal set; }
    /// <summary>Replies whose origin timestamp is not the transmit timestamp of the request (RFC 5905's bogus check): dropped.</summary>
    public long RejectedOrigin { get; internal set; }
    /// <summary>Datagrams shorter than 48 bytes, of a version other than 1-4, with a zero transmit timestamp or an impossible delay.</summary>
    public long RejectedMalformed { get; internal set; }
    /// <summary>Replies whose mode is not 4 (server).</summary>
    public long RejectedMode { get; internal set; }
    /// <summary>Replies from an unsynchronised server (leap indicator 3, or stratum 16 or more).</summary>
    public long RejectedUnsynchronised { get; internal set; }
    /// <summary>Kiss-o'-Death replies (stratum 0), every code.</summary>
    public long KissesOfDeath { get; internal set; }
    /// <summary>Of those, DENY and RSTR: the server is not asked again.</summary>
    public long KissDeny { get; internal set; }
    /// <summary>Of those, RATE: the server is asked less often.</summary>
    public long KissRate { get; internal set; }
    /// <summary>Times the wall clock was set from an answer.</summary>
    public long ClockSets { get; internal set; }

    /// <summary>Every counter by name.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Snapshot() =>
    [
        new("sntp.requests_sent", RequestsSent), new("sntp.replies_accepted", RepliesAccepted), new("sntp.timeouts", Timeouts),
        new("sntp.rejected_source", RejectedSource), new("sntp.rejected_origin", RejectedOrigin), new("sntp.rejected_malformed", RejectedMalformed),
        new("sntp.rejected_mode", RejectedMode), new("sntp.rejected_unsynchronised", RejectedUnsynchronised), new("sntp.kiss_of_death", KissesOfDeath),
        new("sntp.kiss_deny", KissDeny), new("sntp.kiss_rate", KissRate), new("sntp.clock_sets", ClockSets),
    ];
}
