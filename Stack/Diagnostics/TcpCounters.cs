namespace TcpIpSharp.Diagnostics;

/// <summary>What TCP adds to the statistics (issue: TCP, item 11). Written by the stack thread only.</summary>
public sealed class TcpCounters
{
    internal long ActiveOpensCount, PassiveOpensCount, SegmentsSentCount, ResetsSentCount, ResetsReceivedCount;
    internal long TimeoutRetransmitsCount, FastRetransmitsCount, SackRetransmitsCount, OutOfOrderSegmentsCount, OutOfOrderDroppedCount;
    internal long DuplicateAcksCount, WindowProbesCount, ChallengeAcksCount, PawsDropsCount, OutOfWindowCount, AckForUnsentCount;
    internal long ListenOverflowsCount, SynQueueFullCount, TailProbesCount, LostRetransmitsCount, IcmpIgnoredCount, MssLoweredCount, SynCookiesSentCount, SynCookiesValidatedCount, SynCookiesRejectedCount;
    internal long BadOptionsCount, ListenDropsCount, ConnectionLimitCount, FastPathAcksCount, FastPathDataCount, DirectReceivedBytes;
    internal long DsackSentCount, DsackReceivedCount, SpuriousUndoCount;
    internal long RackLossesCount, RackReorderTimeoutsCount, TlpRecoveriesCount;
    internal long PrrProportionalAcksCount, PrrBoundAcksCount, FrtoSpuriousCount, FrtoTimeoutsCount, EifelUndoCount;
    internal long EcnNegotiatedCount, EcnCeReceivedCount, EcnEceReceivedCount, EcnCwrSentCount, EcnReductionsCount;
    internal long TimeWaitReclaimedCount;

    /// <summary>Segments sent (data, ACKs, control).</summary>
    public long SegmentsSent => Volatile.Read(ref SegmentsSentCount);
    internal long SegmentsSentCount_ForTests => SegmentsSentCount;
    /// <summary>Connections we opened (SYN sent).</summary>
    public long ActiveOpens => Volatile.Read(ref ActiveOpensCount);
    /// <summary>Connections opened by peers (SYN received on a listener).</summary>
    public long PassiveOpens => Volatile.Read(ref PassiveOpensCount);
    /// <summary>Resets sent.</summary>
    public long ResetsSent => Volatile.Read(ref ResetsSentCount);
    /// <summary>Retransmissions on a timeout.</summary>
    public long TimeoutRetransmits => Volatile.Read(ref TimeoutRetransmitsCount);
    /// <summary>Fast retransmissions (three duplicate ACKs or SACK evidence).</summary>
    public long FastRetransmits => Volatile.Read(ref FastRetransmitsCount);

    internal IEnumerable<(string Name, Func<long> Read)> All()
    {
        yield return ("tcp.active_opens", () => ActiveOpens);
        yield return ("tcp.passive_opens", () => PassiveOpens);
        yield return ("tcp.segments_sent", () => Volatile.Read(ref SegmentsSentCount));
        yield return ("tcp.resets_sent", () => ResetsSent);
        yield return ("tcp.resets_received", () => Volatile.Read(ref ResetsReceivedCount));
        yield return ("tcp.retransmits_timeout", () => TimeoutRetransmits);
        yield return ("tcp.retransmits_fast", () => FastRetransmits);
        yield return ("tcp.retransmits_sack", () => Volatile.Read(ref SackRetransmitsCount));
        yield return ("tcp.out_of_order", () => Volatile.Read(ref OutOfOrderSegmentsCount));
        yield return ("tcp.out_of_order_dropped", () => Volatile.Read(ref OutOfOrderDroppedCount));
        yield return ("tcp.fast_path_acks", () => Volatile.Read(ref FastPathAcksCount));
        yield return ("tcp.fast_path_data", () => Volatile.Read(ref FastPathDataCount));
        yield return ("tcp.direct_received_bytes", () => Volatile.Read(ref DirectReceivedBytes));
        yield return ("tcp.duplicate_acks", () => Volatile.Read(ref DuplicateAcksCount));
        yield return ("tcp.window_probes", () => Volatile.Read(ref WindowProbesCount));
        yield return ("tcp.challenge_acks", () => Volatile.Read(ref ChallengeAcksCount));
        yield return ("tcp.paws_drops", () => Volatile.Read(ref PawsDropsCount));
        yield return ("tcp.out_of_window", () => Volatile.Read(ref OutOfWindowCount));
        yield return ("tcp.ack_for_unsent", () => Volatile.Read(ref AckForUnsentCount));
        yield return ("tcp.listen_overflows", () => Volatile.Read(ref ListenOverflowsCount));
        yield return ("tcp.syn_queue_full", () => Volatile.Read(ref SynQueueFullCount));
        yield return ("tcp.tail_loss_probes", () => Volatile.Read(ref TailProbesCount));
        yield return ("tcp.lost_retransmits", () => Volatile.Read(ref LostRetransmitsCount));
        yield return ("tcp.icmp_ignored", () => Volatile.Read(ref IcmpIgnoredCount));
        yield return ("tcp.mss_lowered", () => Volatile.Read(ref MssLoweredCount));
        yield return ("tcp.syn_cookies_sent", () => Volatile.Read(ref SynCookiesSentCount));
        yield return ("tcp.syn_cookies_validated", () => Volatile.Read(ref SynCookiesValidatedCount));
        yield return ("tcp.syn_cookies_rejected", () => Volatile.Read(ref SynCookiesRejectedCount));
        yield return ("tcp.bad_options", () => Volatile.Read(ref BadOptionsCount));
        yield return ("tcp.listen_drops", () => Volatile.Read(ref ListenDropsCount));
        yield return ("tcp.connection_limit_refused", () => Volatile.Read(ref ConnectionLimitCount));
        // RFC 2883: segments sent with a D-SACK block (data that arrived twice); ACKs received with one (data we sent twice).
        yield return ("tcp.dsack_sent", () => Volatile.Read(ref DsackSentCount));
        yield return ("tcp.dsack_received", () => Volatile.Read(ref DsackReceivedCount));
        // RFC 3708: fast-recovery reductions undone because D-SACKs showed every retransmission was needless.
        yield return ("tcp.spurious_undo", () => Volatile.Read(ref SpuriousUndoCount));
        // RFC 8985: segments RACK marked lost, reordering-timer expiries, and losses a tail loss probe repaired.
        yield return ("tcp.rack_losses", () => Volatile.Read(ref RackLossesCount));
        yield return ("tcp.rack_reo_timeouts", () => Volatile.Read(ref RackReorderTimeoutsCount));
        yield return ("tcp.tlp_recoveries", () => Volatile.Read(ref TlpRecoveriesCount));
        // RFC 6937: ACKs of a SACK recovery episode that sent in proportion to delivery (pipe above ssthresh), and those
        // held to the slow-start reduction bound (pipe at or below ssthresh).
        yield return ("tcp.prr_proportional", () => Volatile.Read(ref PrrProportionalAcksCount));
        yield return ("tcp.prr_reduction_bound", () => Volatile.Read(ref PrrBoundAcksCount));
        // RFC 5682: retransmission timeouts that entered F-RTO, and those it found spurious (the reduction then undone).
        yield return ("tcp.frto_timeouts", () => Volatile.Read(ref FrtoTimeoutsCount));
        yield return ("tcp.frto_spurious", () => Volatile.Read(ref FrtoSpuriousCount));
        // RFC 3522: reductions undone because an ACK's timestamp echo predated the retransmission (of them in tcp.spurious_undo).
        yield return ("tcp.eifel_undo", () => Volatile.Read(ref EifelUndoCount));
        // RFC 3168: connections that negotiated ECN; CE-marked segments received; ACKs received with ECE; segments sent
        // with CWR; window reductions for ECE (at most one per round trip).
        yield return ("tcp.ecn_negotiated", () => Volatile.Read(ref EcnNegotiatedCount));
        yield return ("tcp.ecn_ce_received", () => Volatile.Read(ref EcnCeReceivedCount));
        yield return ("tcp.ecn_ece_received", () => Volatile.Read(ref EcnEceReceivedCount));
        yield return ("tcp.ecn_cwr_sent", () => Volatile.Read(ref EcnCwrSentCount));
        yield return ("tcp.ecn_reductions", () => Volatile.Read(ref EcnReductionsCount));
        // TIME-WAIT connections ended early because the table was full and a new connection arrived (Linux's TCPTimeWaitOverflow).
        yield return ("tcp.time_wait_reclaimed", () => Volatile.Read(ref TimeWaitReclaimedCount));
    }
}
