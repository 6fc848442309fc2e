using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

// RACK-TLP loss detection (RFC 8985), used when both ends agreed on SACK (and TcpConnectionOptions.RackLossDetection):
// a segment is lost when a segment sent after it has been delivered and more than RACK.rtt + RACK.reo_wnd has passed
// since it was sent, instead of when three duplicate ACKs (RFC 6675 IsLost) arrive. This file keeps the per-segment
// transmit records, RACK's state, the reordering timer and the tail loss probe (RFC 8985 7); the recovery that sends
// what RACK marks lost stays RFC 6675's pipe and NextSeg (TcpConnection.Recovery.cs), with IsLost replaced by the
// marks here. Connections without SACK keep NewReno's duplicate-ACK rules.
public sealed partial class TcpConnection
{
    // One transmitted range of the send sequence space: what one SendData call put on the wire (a segment, or an
    // offloaded burst), split where a retransmission or a SACK block begins or ends inside it.
    private struct RackSegment
    {
        public uint Start, End;
        public long SentTicks;       // RFC 8985 6.1 Segment.xmit_ts: the latest transmission
        public uint Order;           // transmit order: breaks ties between segments sent at the same clock reading
        public byte Flags;
    }

    private const byte RackLost = 1, RackRetransmitted = 2, RackSacked = 4;
    private const int RackInitialCapacity = 16;
    private static readonly TimeSpan RackMinRttWindow = TimeSpan.FromMinutes(5);   // Linux's tcp_min_rtt_wlen

    // The records cover [SND.UNA, highest data sent) in sequence order, oldest first, in a ring that grows by doubling
    // (as the send ring does: during warm-up) up to a bound taken from the send buffer and the MSS, never per segment.
    private RackSegment[]? _rackSegments;
    private int _rackHead, _rackCount;
    private long _rackBytes, _rackSackedBytes, _rackLostBytes;
    private int _rackRetransmittedCount, _rackSackedSegments;

    // RFC 8985 6.1: RACK.xmit_ts, RACK.rtt, RACK.min_RTT, RACK.fack, RACK.reordering_seen (RACK.dsack_round, the
    // reordering window's multiplier and persistence: in LossState). No RACK.end_seq: RFC 8985 breaks ties between
    // segments sent at one clock reading by it; RackSentAfter breaks them by transmit order (_rackOrder) instead.
    private bool _rackHaveSegment, _rackFackSet, _rackReorderingSeen, _rackDsackRoundActive;
    private long _rackXmitTicks, _rackRttTicks, _rackMinRttTicks = long.MaxValue, _rackMinRttAtTicks;
    private uint _rackOrder, _rackFack, _rackSendOrder;
    private Deadline _rackTimerAt = Deadline.None;            // RFC 8985 6.2 step 5: the reordering timer
    // After a timeout every outstanding segment is lost (RFC 8985 6.3 as Linux's tcp_timeout_mark_lost): "RTO recovery"
    // until the data outstanding at the timeout is acknowledged.
    private bool _rackAfterTimeout;

    private sealed partial class LossState
    {
        // RACK.dsack_round (while _rackDsackRoundActive) and the reordering window's multiplier and persistence.
        public uint RackDsackRound;
        public int RackReoWndMult = 1, RackReoWndPersist;
        // The data outstanding at the last timeout, [low, high): "RTO recovery" ends at high (while _rackAfterTimeout).
        public uint RackTimeoutLow, RackTimeoutHigh;
    }
    // RFC 8985 7: the TLP episode (TLP.end_seq; TLP.is_retrans always holds: the probe is a resend, RackSendTailProbe).
    private bool _tlpActive;
    private uint _tlpEndSeq;

    private bool RackEnabled => _sack && _options.RackLossDetection;

    /// <summary>RFC 8985's RACK.reordering_seen (for tests): reordering was inferred, so RACK.reo_wnd stays open in recovery.</summary>
    internal bool RackReorderingSeen => _rackReorderingSeen;

    // RFC 6298's RTT sample for the ACK being processed, taken from the transmit records in clock ticks (as Linux's
    // seq_rtt_us, tcp_clean_rtx_queue): the time since the oldest newly acknowledged segment was sent, when none of the
    // segments it acknowledges cumulatively was retransmitted; -1 when the ACK gives none (then the timestamp echo is
    // used). The echo counts whole milliseconds: on a path of a tenth of a millisecond its samples are 0 or 1 ms, SRTT
    // sinks towards 0 between millisecond edges, and RACK.reo_wnd (at most SRTT, RFC 8985 6.2 step 4) with it: no
    // D-SACK could then widen the window.
    private long _rackAckRttTicks = -1;
    private const long RackRttDeferred = -2;   // _rackAckRttTicks: the sample comes with the batch's deferred pop

    // Issue 18 item 4: in a batch of ACKs (TcpConnection.BatchesAckWork) header prediction's ACKs do not pop RACK's
    // records one by one: the records up to SND.UNA, where the batch's last ACK put it, are popped once, when the
    // connection is flushed at the end of the poll or when anything else looks at the records first (RackSettlePop;
    // only an ACK moves SND.UNA, and one on the slow path settles first). Popped at once they leave RACK in the state
    // the single pops would: the last record popped, the most recently sent, sets RACK.xmit_ts, order and rtt, and
    // gives the smallest RTT of the batch for RACK.min_RTT (the batch's ACKs share the poll's clock reading,
    // _lastProgress). No other field: an idle connection stays within its 1 KB (ScalingTests).
    private bool _rackPopPending;

    // Nothing for RACK to look at beyond popping records: no SACK state, nothing lost, no retransmission outstanding,
    // no timer. Header prediction leaves the other cases to the slow path.
    private bool RackBusy => _rackTimerAt.HasValue || _rackLostBytes > 0 || _rackRetransmittedCount > 0 || _sackCount > 0 || _rackSackedBytes > 0 || _tlpActive || _rackAfterTimeout;

    // RackOnAck for header prediction's pure ACK, when RACK is not busy: every record's flags are clear and the records
    // are in transmit order, so the ACK delivers a prefix whose last record is the most recently sent, reorders
    // nothing (no record was delivered out of order before) and can show no loss. Only that last record matters.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]   // into TakeFastPath, its one caller
    private void RackOnCumulativeAck(uint ack, TimeSpan now, bool batch)
    {
        _rackAckRttTicks = -1;
        if (_rackCount == 0 || !RackEnabled) return;
        if (batch)
        {
            _rackPopPending = true;
            _rackAckRttTicks = RackRttDeferred;
            return;
        }
        RackPopCumulative(ack, now);
    }

    // The pop deferred by a batch's ACKs, done now; its RTT sample (from the oldest record the batch acknowledged, the
    // first ACK's) goes to the batch's sample (TcpConnection.NoteBatchRtt).
    private void RackSettlePop()
    {
        _rackPopPending = false;
        var now = _lastProgress;   // the batch's clock reading (OnNewAck's), not that of whatever asked first
        RackPopCumulative(_sndUna, now);
        NoteBatchRtt(_rackAckRttTicks);
        _rackAckRttTicks = -1;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]   // into its two callers
    private void RackPopCumulative(uint ack, TimeSpan now)
    {
        _rackAckRttTicks = -1;
        if (_rackCount == 0) return;
        // The ring, its head and count in locals, each record reached once (a pure ACK's path: the same decisions as
        // RackOnAck makes for such an ACK, without re-reading the fields and re-wrapping the index for every look).
        var ring = _rackSegments!;
        int head = _rackHead, count = _rackCount;
        ref var first = ref ring[head];
        uint firstStart = first.Start;
        if (Seq.Lt(firstStart, ack)) _rackAckRttTicks = now.Ticks - first.SentTicks;   // no record is retransmitted here
        if (_rackDsackRoundActive && Seq.Ge(ack, _loss!.RackDsackRound)) _rackDsackRoundActive = false;   // active: made
        int popped = 0, index = head;
        while (popped < count && Seq.Le(ring[index].End, ack))
        {
            popped++;
            if (++index == ring.Length) index = 0;
        }
        if (popped > 0)
        {
            ref var last = ref ring[index == 0 ? ring.Length - 1 : index - 1];
            long rtt = now.Ticks - last.SentTicks;
            if (rtt > 0 && (rtt <= _rackMinRttTicks || now.Ticks - _rackMinRttAtTicks > RackMinRttWindow.Ticks))
            {
                _rackMinRttTicks = rtt;
                _rackMinRttAtTicks = now.Ticks;
            }
            uint lastEnd = last.End;
            _rackRttTicks = rtt;
            _rackHaveSegment = true;
            _rackXmitTicks = last.SentTicks;
            _rackOrder = last.Order;
            if (!_rackFackSet || Seq.Gt(lastEnd, _rackFack)) { _rackFack = lastEnd; _rackFackSet = true; }
            _rackBytes -= lastEnd - firstStart;
            _rackHead = index;
            _rackCount = count -= popped;
        }
        if (count > 0)
        {
            ref var s = ref ring[index];
            if (Seq.Lt(s.Start, ack))
            {
                _rackBytes -= ack - s.Start;
                s.Start = ack;
            }
        }
    }

    private int RackCapacityBound => Math.Clamp(2 * _options.SendBufferSize / Math.Max(_mss, 64) + 16, RackInitialCapacity, 1 << 16);

    private ref RackSegment RackAt(int i)
    {
        int index = _rackHead + i;
        if (index >= _rackSegments!.Length) index -= _rackSegments.Length;
        return ref _rackSegments[index];
    }

    // ------------------------------------------------------------------ transmit records

    // Called for every data transmission (SendData): new data is appended; a resend of tracked data (a retransmission,
    // a probe, a go-back-N resend after a timeout) takes the new time, is no longer lost and is marked retransmitted.
    private void RackOnSend(uint sequence, int length, TimeSpan now)
    {
        if (_rackPopPending) RackSettlePop();
        if (!RackEnabled || length <= 0) return;
        uint end = sequence + (uint)length;
        if (_rackCount > 0 && Seq.Lt(sequence, RackAt(_rackCount - 1).End))
        {
            uint resentEnd = Seq.Min(end, RackAt(_rackCount - 1).End);
            RackSplitAt(sequence);
            RackSplitAt(resentEnd);
            for (int i = RackIndexOf(sequence); i >= 0 && i < _rackCount; i++)
            {
                ref var s = ref RackAt(i);
                if (!Seq.Lt(s.Start, resentEnd)) break;
                if ((s.Flags & RackSacked) != 0) continue;
                RackSetFlags(ref s, (byte)((s.Flags & ~RackLost) | RackRetransmitted));
                s.SentTicks = now.Ticks;
                s.Order = ++_rackSendOrder;
            }
            if (!Seq.Lt(resentEnd, end)) return;
            sequence = resentEnd;
        }
        RackAppend(sequence, end, now.Ticks);
    }

    private void RackAppend(uint start, uint end, long sentTicks)
    {
        if (_rackSegments is null) _rackSegments = new RackSegment[Math.Min(RackInitialCapacity, RackCapacityBound)];
        if (_rackCount == _rackSegments.Length && !RackGrow())
        {
            // At the bound: the newest record takes the new range too (sent now, so never presumed lost early).
            ref var tail = ref RackAt(_rackCount - 1);
            RackSetFlags(ref tail, (byte)(tail.Flags & RackRetransmitted));
            tail.End = end;
            tail.SentTicks = sentTicks;
            tail.Order = ++_rackSendOrder;
            _rackBytes += end - start;
            return;
        }
        ref var s = ref RackAt(_rackCount++);
        s = new RackSegment { Start = start, End = end, SentTicks = sentTicks, Order = ++_rackSendOrder };
        _rackBytes += end - start;
    }

    private bool RackGrow()
    {
        int bound = RackCapacityBound;
        if (_rackSegments!.Length >= bound) return false;
        var grown = new RackSegment[Math.Min(bound, _rackSegments.Length * 2)];
        for (int i = 0; i < _rackCount; i++) grown[i] = RackAt(i);
        _rackSegments = grown;
        _rackHead = 0;
        return true;
    }

    // The index of the record holding seq, or -1.
    private int RackIndexOf(uint seq)
    {
        int lo = 0, hi = _rackCount - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            ref var s = ref RackAt(mid);
            if (Seq.Lt(seq, s.Start)) hi = mid - 1;
            else if (!Seq.Lt(seq, s.End)) lo = mid + 1;
            else return mid;
        }
        return -1;
    }

    // Makes seq a record boundary when it falls inside one (no change at the bound: the record is then handled whole).
    private void RackSplitAt(uint seq)
    {
        int i = RackIndexOf(seq);
        if (i < 0 || RackAt(i).Start == seq) return;
        if (_rackCount == _rackSegments!.Length && !RackGrow()) return;
        for (int j = _rackCount; j > i + 1; j--) RackAt(j) = RackAt(j - 1);
        _rackCount++;
        ref var left = ref RackAt(i);
        var right = left;
        right.Start = seq;
        left.End = seq;
        RackAt(i + 1) = right;
        if ((right.Flags & RackRetransmitted) != 0) _rackRetransmittedCount++;
        if ((right.Flags & RackSacked) != 0) _rackSackedSegments++;
    }

    // Changes a record's flags and keeps the byte and count totals that pipe and the fast path read.
    private void RackSetFlags(ref RackSegment s, byte flags)
    {
        long length = s.End - s.Start;
        byte was = s.Flags;
        if ((was & RackLost) != 0) _rackLostBytes -= length;
        if ((was & RackSacked) != 0) { _rackSackedBytes -= length; _rackSackedSegments--; }
        if ((was & RackRetransmitted) != 0) _rackRetransmittedCount--;
        s.Flags = flags;
        if ((flags & RackLost) != 0) _rackLostBytes += length;
        if ((flags & RackSacked) != 0) { _rackSackedBytes += length; _rackSackedSegments++; }
        if ((flags & RackRetransmitted) != 0) _rackRetransmittedCount++;
    }

    // ------------------------------------------------------------------ on an ACK (RFC 8985 6.2)

    // Runs before the ACK moves SND.UNA or recovery: records delivered cumulatively or by SACK update RACK's state
    // (steps 1-4), then the loss detection (step 5) marks what is lost and arms the reordering timer.
    private void RackOnAck(uint ack, in TcpOptions options, bool dsack, TimeSpan now)
    {
        if (_rackPopPending) RackSettlePop();
        _rackAckRttTicks = -1;
        if (!RackEnabled) return;
        bool probeAnswered = dsack && _tlpActive;   // a D-SACK of the tail probe's resend (RFC 8985 7.4)
        TlpOnAck(ack, options, dsack, now);
        // Step 4 first half: the D-SACK round and the window's persistence across recoveries.
        if (_rackDsackRoundActive && Seq.Ge(ack, Loss.RackDsackRound)) _rackDsackRoundActive = false;
        bool exitingRecovery = (_inRecovery && Seq.Ge(ack, _recover)) || (_rackAfterTimeout && Seq.Ge(ack, Loss.RackTimeoutHigh));
        // A D-SACK for data below RACK.fack: a segment RACK resent while its original was only late, so reordering is
        // seen (otherwise the resend's flag hides the late original from step 3, and reo_wnd would stay 0 each time
        // DupThresh segments are SACKed). Not the D-SACK of a timeout's resend or of a tail probe: those resend what
        // was delivered when only its ACK was lost (Linux infers reordering from a D-SACK only for data it had SACKed,
        // which excludes both); counted as reordering they opened the window for good on a path that only loses, and
        // recovery then waited on the reordering timer instead of starting at DupThresh.
        if (dsack && !probeAnswered && !RackOutstandingAtTimeout(options.SackBlocks[0].Left, options.SackBlocks[0].Right) && _rackFackSet && Seq.Le(options.SackBlocks[0].Right, _rackFack)) _rackReorderingSeen = true;
        if (!_rackDsackRoundActive && dsack)
        {
            _rackDsackRoundActive = true;
            var loss = Loss;
            loss.RackDsackRound = _sndMax;
            loss.RackReoWndMult = Math.Min(loss.RackReoWndMult + 1, 255);
            loss.RackReoWndPersist = 16;
        }
        else if (exitingRecovery && --Loss.RackReoWndPersist <= 0) Loss.RackReoWndMult = 1;
        if (_rackAfterTimeout && Seq.Ge(ack, Loss.RackTimeoutHigh)) _rackAfterTimeout = false;

        if (_rackCount == 0) return;
        // Without SACK state, retransmissions or a timer, the records are in transmit order and a cumulative ACK
        // delivers a prefix of them: nothing left was sent before what it delivered, so step 5 has nothing to find
        // (and would cost a scan of the whole flight on every ACK).
        bool mayDetect = _rackRetransmittedCount > 0 || _sackCount > 0 || _rackSackedBytes > 0 || _rackTimerAt.HasValue;
        if (!_rackFackSet) { _rackFack = RackAt(0).Start; _rackFackSet = true; }   // RACK.fack starts at the first data
        uint oldFack = _rackFack;
        bool delivered = false, sacked = false;
        long bestSent = 0;
        uint bestOrder = 0;
        RackCumulativeRtt(ack, now);
        // Cumulatively acknowledged records, oldest first.
        while (_rackCount > 0 && Seq.Le(RackAt(0).End, ack))
        {
            ref var s = ref RackAt(0);
            if ((s.Flags & RackSacked) == 0) RackDelivered(ref s, options, oldFack, ref delivered, ref bestSent, ref bestOrder, now);
            RackSetFlags(ref s, 0);
            _rackBytes -= s.End - s.Start;
            _rackHead = _rackHead + 1 == _rackSegments!.Length ? 0 : _rackHead + 1;
            _rackCount--;
        }
        if (_rackCount > 0 && Seq.Lt(RackAt(0).Start, ack))
        {
            // Partly acknowledged: the rest stays, not yet delivered.
            ref var s = ref RackAt(0);
            byte flags = s.Flags;
            RackSetFlags(ref s, 0);
            _rackBytes -= ack - s.Start;
            s.Start = ack;
            RackSetFlags(ref s, flags);
        }
        // Records newly covered by this ACK's SACK blocks (the D-SACK block, first when present, reports a duplicate).
        if (_sack)
        {
            for (int b = dsack ? 1 : 0; b < options.SackBlocks.Count; b++)
            {
                var block = options.SackBlocks[b];
                uint left = Seq.Max(block.Left, ack), right = block.Right;
                if (!Seq.Lt(left, right) || Seq.Gt(right, _sndMax)) continue;
                RackSplitAt(left);
                RackSplitAt(right);
                int i = RackIndexOf(left);
                if (i < 0) continue;
                if (RackAt(i).Start != left) i++;
                for (; i < _rackCount; i++)
                {
                    ref var s = ref RackAt(i);
                    if (Seq.Gt(s.End, right)) break;
                    if ((s.Flags & RackSacked) != 0) continue;
                    RackDelivered(ref s, options, oldFack, ref delivered, ref bestSent, ref bestOrder, now);
                    RackSetFlags(ref s, (byte)((s.Flags & ~RackLost) | RackSacked));
                    sacked = true;
                }
            }
        }
        if (delivered)
        {
            // Step 2: RACK.rtt from the most recently sent segment this ACK delivered; RACK.xmit_ts (and order) advance to it.
            _rackRttTicks = now.Ticks - bestSent;
            if (!_rackHaveSegment || RackSentAfter(bestSent, bestOrder, _rackXmitTicks, _rackOrder))
            {
                _rackHaveSegment = true;
                _rackXmitTicks = bestSent;
                _rackOrder = bestOrder;
            }
        }
        if (mayDetect || sacked || _rackRetransmittedCount > 0 || _sackCount > 0) RackDetectLoss(now);
    }

    // _rackAckRttTicks for an ACK on the slow path: from the oldest record it newly acknowledges (not SACKed before),
    // unless one of the records it acknowledges cumulatively was retransmitted (Karn's rule, RFC 6298 3).
    private void RackCumulativeRtt(uint ack, TimeSpan now)
    {
        long oldest = -1;
        for (int i = 0; i < _rackCount && Seq.Lt(RackAt(i).Start, ack); i++)
        {
            ref var s = ref RackAt(i);
            if ((s.Flags & RackRetransmitted) != 0) return;
            if (oldest < 0 && (s.Flags & RackSacked) == 0) oldest = s.SentTicks;
        }
        if (oldest >= 0) _rackAckRttTicks = now.Ticks - oldest;
    }

    // Steps 1-3 for one newly delivered record.
    private void RackDelivered(ref RackSegment s, in TcpOptions options, uint oldFack, ref bool delivered, ref long bestSent, ref uint bestOrder, TimeSpan now)
    {
        long rtt = now.Ticks - s.SentTicks;
        bool retransmitted = (s.Flags & RackRetransmitted) != 0;
        // Step 3: an original segment delivered below the highest delivered sequence was reordered. Not after a
        // timeout, for what was outstanding when it fired: it cleared the SACKed marks (RFC 2018 8), so what was
        // SACKed before it is delivered here again (Linux keeps the marks, tcp_timeout_mark_lost, and never sees it
        // twice). The RTO recovery's end is not enough: the ACK that ends it (often the first after a spurious
        // timeout, covering all) delivers those segments again itself, and "reordering seen" then held RACK.reo_wnd
        // open for the rest of the connection: under 2% loss, from the first timeout on, every recovery waited for
        // the reordering timer, new data went out before the retransmission, and more recoveries ended in a timeout.
        if (Seq.Gt(s.End, _rackFack)) _rackFack = s.End;
        else if (Seq.Lt(s.End, oldFack) && !retransmitted && !_rackAfterTimeout && !RackOutstandingAtTimeout(s.Start, s.End)) _rackReorderingSeen = true;
        if (retransmitted)
        {
            // Step 2: this ACK may be for the original; then its time says nothing about the retransmission.
            if (_timestamps && options.Timestamp is TcpTimestamp ts && ts.EchoReply != 0
                && (int)(ts.EchoReply - Timestamp(new TimeSpan(s.SentTicks))) < 0) return;
            // A resend "delivered" at the clock reading it was sent at is the original's ACK: the driver polls several
            // rounds on one reading, so RFC 8985's rtt < min_RTT test alone misses it when both read 0.
            if (rtt < _rackMinRttTicks || rtt <= 0) return;
        }
        else if (rtt > 0 && (rtt <= _rackMinRttTicks || now.Ticks - _rackMinRttAtTicks > RackMinRttWindow.Ticks))
        {
            // Step 1: RACK.min_RTT, the least RTT over five minutes (a new sample replaces a minimum that old). Not
            // from a segment acknowledged at the clock reading it was sent at: the driver reads the clock once a poll,
            // and the kernel behind the TAP answers within the write that sent it, so its ACK is read in the same poll:
            // 0 is below the clock's resolution, not an RTT, and as min_RTT it made RACK.reo_wnd 0 whatever D-SACK said.
            _rackMinRttTicks = rtt;
            _rackMinRttAtTicks = now.Ticks;
        }
        if (!delivered || RackSentAfter(s.SentTicks, s.Order, bestSent, bestOrder))
        {
            delivered = true;
            bestSent = s.SentTicks;
            bestOrder = s.Order;
        }
    }

    // RFC 8985 6.2 RACK_sent_after: later in time, or at the same time later in sequence. Here "later in sequence" is
    // later in transmit order: the stack polls several rounds on one clock reading, and a retransmission sent in a
    // later round than new data (same time, lower sequence) would otherwise read as sent before it, and be marked
    // lost again by every ACK for that data (seen against the kernel: one segment resent on each ACK).
    private static bool RackSentAfter(long t1, uint order1, long t2, uint order2) => t1 > t2 || (t1 == t2 && (int)(order1 - order2) > 0);

    // RFC 8985 6.2 step 4: RACK.reo_wnd. Until reordering is seen it is 0 in recovery, or once DupThresh segments are
    // SACKed (so a connection that never reorders finds loss as fast as the duplicate-ACK rule); else a quarter of the
    // minimum RTT times the D-SACK multiplier, at most SRTT.
    private long RackReorderingWindowTicks()
    {
        if (!_rackReorderingSeen && (_inRecovery || _rackAfterTimeout || _rackSackedSegments >= DupThresh)) return 0;
        if (_rackMinRttTicks == long.MaxValue) return 0;
        return Math.Min(_rackMinRttTicks / 4 * (_loss?.RackReoWndMult ?? 1), _srtt.Ticks);
    }

    // RFC 8985 6.2 step 5: every segment sent before the most recently delivered one and not delivered within
    // RACK.rtt + RACK.reo_wnd of its sending is lost; the earliest of the others arms the reordering timer.
    private void RackDetectLoss(TimeSpan now)
    {
        _rackTimerAt = null;
        if (!_rackHaveSegment) return;
        long reoWnd = RackReorderingWindowTicks(), timeout = 0;
        for (int i = 0; i < _rackCount; i++)
        {
            ref var s = ref RackAt(i);
            if ((s.Flags & (RackSacked | RackLost)) != 0 || !RackSentAfter(_rackXmitTicks, _rackOrder, s.SentTicks, s.Order)) continue;
            long remaining = s.SentTicks + _rackRttTicks + reoWnd - now.Ticks;
            if (remaining <= 0)
            {
                RackSetFlags(ref s, (byte)(s.Flags | RackLost));
                _table.Statistics.RackLossesCount++;
                if ((s.Flags & RackRetransmitted) != 0) _table.Statistics.LostRetransmitsCount++;
            }
            else timeout = Math.Max(timeout, remaining);
        }
        if (timeout > 0) _rackTimerAt = now + Ticks(timeout);
    }

    // After the ACK's own processing: RACK-marked loss outside recovery starts fast recovery (as Linux's
    // tcp_time_to_recover with RACK: lost_out, not a duplicate count).
    private void RackAfterAck(TimeSpan now)
    {
        if (!RackEnabled || _rackLostBytes == 0 || _inRecovery || _rackAfterTimeout) return;
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck)) return;
        RackEnterRecovery(now);
    }

    private void RackEnterRecovery(TimeSpan now)
    {
        _tlpActive = false;   // as Linux's tcp_init_cwnd_reduction: the recovery's reduction covers the probe's episode
        _probeAt = null;
        EnterPipeRecovery(now);
    }

    // RFC 8985 6.3: the reordering timer ran out; what has waited its reordering window is lost.
    private void OnRackTimer(TimeSpan now)
    {
        _rackTimerAt = null;
        if (!RackEnabled) return;
        _table.Statistics.RackReorderTimeoutsCount++;
        long lostBefore = _rackLostBytes;
        RackDetectLoss(now);
        if (_rackLostBytes == lostBefore) return;
        if (_inRecovery && _pipeRecovery) SendWhilePipeAllows(now);
        else RackAfterAck(now);
        _table.MarkPending(this);
    }

    // On a retransmission timeout: every outstanding segment is lost (the scoreboard is cleared with it, RFC 2018 8).
    private void RackOnTimeout()
    {
        if (!RackEnabled) return;
        for (int i = 0; i < _rackCount; i++)
        {
            ref var s = ref RackAt(i);
            RackSetFlags(ref s, (byte)((s.Flags & RackRetransmitted) | RackLost));
        }
        _rackTimerAt = null;
        _tlpActive = false;
        if (_rackCount > 0)
        {
            _rackAfterTimeout = true;
            var loss = Loss;
            loss.RackTimeoutLow = _sndUna;
            loss.RackTimeoutHigh = _sndMax;
        }
    }

    // Whether [left, right) lies in the data outstanding when the last timeout fired: what it marked lost, resent, and
    // whose SACK marks it cleared.
    private bool RackOutstandingAtTimeout(uint left, uint right)
        => _loss is { } loss && loss.RackTimeoutLow != loss.RackTimeoutHigh && Seq.Ge(left, loss.RackTimeoutLow) && Seq.Le(right, loss.RackTimeoutHigh);

    // A timeout found spurious (F-RTO or the timestamp echo, TcpConnection.Frto.cs): its "every outstanding segment is
    // lost" is withdrawn and RACK looks again at what is really missing (as Linux's tcp_undo_cwnd_reduction with
    // unmark_loss, which sets rack.advanced to re-examine). Without this a hole beyond the segment the timeout resent
    // was never repaired: RTO recovery only ends at the data sent before the timeout, no fast recovery may start in
    // it, and with SND.NXT back at SND.MAX nothing resends the hole until a second, backed-off timeout (seen against
    // Linux under 2% loss: 3 of 11 timeouts in one upload, the longest stalls among them, up to 0.9 s).
    private void RackUndoTimeout(TimeSpan now)
    {
        if (!RackEnabled || !_rackAfterTimeout) return;
        if (_rackPopPending) RackSettlePop();
        _rackAfterTimeout = false;
        for (int i = 0; i < _rackCount; i++)
        {
            ref var s = ref RackAt(i);
            if ((s.Flags & RackLost) != 0) RackSetFlags(ref s, (byte)(s.Flags & ~RackLost));
        }
        RackDetectLoss(now);
    }

    // Pipe (RFC 6675 4 SetPipe with RACK's marks for IsLost, as Linux's packets_in_flight): the tracked bytes neither
    // SACKed nor lost. A retransmitted segment is no longer lost, so it counts once, as the resend in flight.
    private uint RackPipe() => (uint)Math.Max(0, _rackBytes - _rackSackedBytes - _rackLostBytes);

    // NextSeg rule 1 with RACK: the lowest segment marked lost, resent whole (at most one segment's worth).
    private bool RackRetransmitFirstLost(int segmentSize, TimeSpan now)
    {
        if (_rackLostBytes == 0) return false;
        for (int i = 0; i < _rackCount; i++)
        {
            ref var s = ref RackAt(i);
            if ((s.Flags & RackLost) == 0) continue;
            uint from = s.Start, end = Seq.Min(s.End, from + (uint)segmentSize);
            int dataStart = DataOffset(from), dataEnd = DataOffset(end);
            if (dataEnd <= dataStart) return false;
            if (from == _sndUna)
            {
                Loss.UnaRetransmittedAt = now;
                // As Linux's tcp_xmit_retransmit_queue: a resent first segment gets a whole RTO, so a lost
                // retransmission RACK found and resent is not overtaken by the timer armed for the original.
                _retransmitAt = now + _rto;
            }
            SendData(from, dataStart, dataEnd - dataStart, now, retransmit: true);
            NotePrrSent(dataEnd - dataStart);   // RFC 6937: what recovery sent counts against PRR's allowance
            if (Seq.Gt(end, _highRetransmitted)) _highRetransmitted = end;
            _table.Statistics.SackRetransmitsCount++;
            return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ tail loss probe (RFC 8985 7)

    // RFC 8985 7.2: with no recovery under way, no SACKed data and no probe episode open, probe after PTO =
    // 2 * SRTT, at least 10 ms (plus the worst-case delayed ACK when one segment is out), at most until the RTO would fire.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]   // into ArmTailProbe: a pure ACK's path
    private void RackArmTailProbe(TimeSpan now)
    {
        if (_probeAt.HasValue || _tlpActive || _inRecovery || _rackAfterTimeout || _sackCount > 0 || _sndUna == _sndMax || !_haveRtt) return;
        // 10 ms at least, as Linux's tcp_schedule_loss_probe has had (and the replays of recorded Linux conversations
        // expect): RFC 8985's 2 ms allowance on a sub-millisecond RTT probes long before an ACK could be late.
        var pto = Max(Ticks(_srtt.Ticks * 2), TenMilliseconds) + (FlightSize <= (uint)_mss ? DelayedAckAllowance : TimeSpan.Zero);
        if (_retransmitAt.HasValue)
        {
            // The probe takes the RTO's place when that is sooner (it re-arms the RTO when it goes). In ticks: the
            // TimeSpan operators were calls here (JIT listing of the pure ACK's path).
            long untilRto = _retransmitAt.OrMaxValue.Ticks - now.Ticks;
            if (untilRto <= OneMillisecond.Ticks) return;
            if (pto.Ticks >= untilRto) pto = new TimeSpan(untilRto - OneMillisecond.Ticks);
        }
        _probeAt = now + pto;
    }

    // RFC 8985 7.3 with one difference: the probe is always the last segment sent again, never new data (as the
    // duplicate-ACK rule's probe, ArmTailProbeWithoutRack, and the TLP draft before RFC 8985). A probe goes when no ACK
    // has come for a PTO; against Linux under random loss that is most often because the one ACK for a burst was
    // lost (Linux ACKs a GRO batch, and compresses its SACKs), the data all delivered. A duplicate draws an ACK at
    // once (a D-SACK, RFC 2883, quick-ACK mode); one new in-order segment is held by the receiver's delayed ACK (40
    // ms at least in Linux). Probing with new data, a 100 MB upload under 2% loss paused 30-100 ms 72 times (78 probes): RACK's rate was two thirds of the duplicate-ACK rule's (docs/benchmarks.md, session 12, wip-loss).
    private void RackSendTailProbe(TimeSpan now)
    {
        _probeAt = null;
        if (_inRecovery || _sndUna == _sndMax || _tlpActive) return;
        SendTailProbeSegment(now);
        _tlpActive = true;
        _tlpEndSeq = _sndMax;
    }

    // RFC 8985 7.4: the ACKs that end a probe's episode. A retransmitted probe whose ACK goes beyond it repaired a
    // loss the original did not: congestion control reacts to it once (as Linux's tcp_process_tlp_ack); a D-SACK or
    // a pure duplicate says both copies arrived.
    private void TlpOnAck(uint ack, in TcpOptions options, bool dsack, TimeSpan now)
    {
        if (!_tlpActive || Seq.Lt(ack, _tlpEndSeq)) return;
        if (dsack) { _tlpActive = false; return; }
        if (Seq.Gt(ack, _tlpEndSeq))
        {
            _tlpActive = false;
            _table.Statistics.TlpRecoveriesCount++;
            if (!_inRecovery)
            {
                _ssthresh = _congestion.OnLoss(Cwnd, FlightSize, _mss, now, timeout: false);
                Cwnd = Math.Max(_ssthresh, (uint)_mss);
            }
        }
        else if (ack == _sndUna && options.SackBlocks.Count == 0) _tlpActive = false;
    }

    // The transmit records' invariants (checked with the connection's, after every frame in tests): contiguous, in
    // order, inside [SND.UNA, SND.MAX], within their bound, and the totals pipe reads agreeing with the flags.
    private string? RackBrokenInvariant()
    {
        // A batch's pop still pending: the records may start below SND.UNA, which is where the batch's last ACK put it.
        if (_rackCount == 0) return _rackBytes == 0 && _rackLostBytes == 0 && _rackSackedBytes == 0 ? null : "RACK totals without records";
        if (_rackCount > _rackSegments!.Length || _rackSegments.Length > RackCapacityBound) return $"RACK records {_rackCount} / {_rackSegments.Length} beyond bound {RackCapacityBound}";
        long bytes = 0, lost = 0, sacked = 0;
        int retransmitted = 0;
        for (int i = 0; i < _rackCount; i++)
        {
            ref var s = ref RackAt(i);
            if (!Seq.Lt(s.Start, s.End)) return $"RACK record {i} [{s.Start}, {s.End}) empty";
            if (i > 0 && s.Start != RackAt(i - 1).End) return $"RACK records {i - 1} and {i} not contiguous";
            if ((s.Flags & RackLost) != 0 && (s.Flags & RackSacked) != 0) return $"RACK record {i} both lost and SACKed";
            long length = s.End - s.Start;
            bytes += length;
            if ((s.Flags & RackLost) != 0) lost += length;
            if ((s.Flags & RackSacked) != 0) sacked += length;
            if ((s.Flags & RackRetransmitted) != 0) retransmitted++;
        }
        if ((!_rackPopPending && Seq.Lt(RackAt(0).Start, _sndUna)) || Seq.Gt(RackAt(_rackCount - 1).End, _sndMax)) return $"RACK records [{RackAt(0).Start}, {RackAt(_rackCount - 1).End}) outside [SND.UNA {_sndUna}, SND.MAX {_sndMax}]";
        if (bytes != _rackBytes || lost != _rackLostBytes || sacked != _rackSackedBytes || retransmitted != _rackRetransmittedCount)
            return $"RACK totals {_rackBytes}/{_rackLostBytes}/{_rackSackedBytes}/{_rackRetransmittedCount} but records hold {bytes}/{lost}/{sacked}/{retransmitted}";
        return null;
    }
}

