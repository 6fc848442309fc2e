using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

// Loss recovery guided by SACK, per RFC 6675: IsLost, the pipe estimate and NextSeg. Used when both ends agreed on
// SACK; a connection without SACK keeps NewReno's recovery (RFC 6582) in TcpConnection.cs.
public sealed partial class TcpConnection
{
    private const int DupThresh = 3;

    // True while recovery is driven by pipe (RFC 6675 5) rather than by NewReno's inflated window.
    private bool _pipeRecovery;

    // What only loss uses (this file's undo, PRR, F-RTO, RACK's timeout and D-SACK state, the D-SACK we owe the peer;
    // each part declared beside its algorithm), in an object made on a connection's first loss signal (a SACK block, a
    // duplicate segment received, a recovery episode, a timeout) and kept from then on, as the SACK scoreboard is
    // (TakeSackBlocks). An idle or loss-free connection holds none of it (issue 18: the 1 KB per idle connection);
    // the fields the loss-free ACK path tests (_inRecovery, _undoArmed, _frto, _rackAfterTimeout, _dsackPending, ...)
    // stay in the connection, and each says whether this object is there to be read.
    private sealed partial class LossState;

    private LossState? _loss;

    private LossState Loss => _loss ??= new LossState();

    /// <summary>Whether the connection has made its loss state (for tests: a loss-free one never does).</summary>
    internal bool HoldsLossState => _loss is not null;

    private sealed partial class LossState
    {
        // When the segment at SND.UNA was last resent: ACKs still arriving well after it mean the resend was lost too.
        public TimeSpan UnaRetransmittedAt;
    }

    // Undo (RFC 3708 3.2, with the Eifel response's idea, RFC 4015, and Linux's undo_marker/undo_retrans): for the
    // latest fast-recovery episode, the window and threshold before its reduction, where it began, and how many bytes
    // it retransmitted that no D-SACK has yet reported as received twice. Armed from the episode's start until it is
    // undone, a timeout or a new episode.
    private bool _undoArmed;

    private sealed partial class LossState
    {
        public bool UndoRetransmittedAny;
        public uint UndoMarker, UndoCongestionWindow, UndoSlowStartThreshold, UndoRetransmitted;
        // Eifel detection (RFC 3522): our timestamp on the episode's first retransmission. An ACK that covers it but
        // echoes an older timestamp was drawn by the original: the retransmission was needless.
        public uint UndoRetransmitStamp;
    }

    private void BeginUndoEpisode()
    {
        _undoArmed = true;
        var loss = Loss;
        loss.UndoRetransmittedAny = false;
        loss.UndoMarker = _sndUna;
        loss.UndoCongestionWindow = Cwnd;
        loss.UndoSlowStartThreshold = _ssthresh;
        loss.UndoRetransmitted = 0;
    }

    private void NoteRetransmittedForUndo(int length, TimeSpan now)
    {
        if (!_undoArmed) return;
        var loss = Loss;
        if (!loss.UndoRetransmittedAny) loss.UndoRetransmitStamp = Timestamp(now);
        loss.UndoRetransmitted += (uint)length;
        loss.UndoRetransmittedAny = true;
    }

    // RFC 3708 3.2: a D-SACK for data at or after the episode's start reports one of its retransmissions as needless.
    // Once every retransmitted byte has been so reported, the reduction was for nothing and is undone: at once when
    // the episode is over (the usual order: the original arrives, the full ACK ends recovery, then the resend draws
    // the D-SACK), else when the full ACK ends it.
    private void OnDuplicateReported(uint left, uint right)
    {
        if (!_undoArmed) return;
        var loss = Loss;
        if (loss.UndoRetransmitted == 0 || Seq.Lt(left, loss.UndoMarker) || !Seq.Lt(left, right)) return;
        loss.UndoRetransmitted -= Math.Min(right - left, loss.UndoRetransmitted);
        if (loss.UndoRetransmitted == 0 && !_inRecovery) UndoReduction();
    }

    // At the full ACK that ends the episode: every retransmission D-SACKed (RFC 3708), or the ACK's timestamp echo
    // older than the first retransmission (RFC 3522's Eifel detection; with RFC 7323 4.3 the echo is the newest
    // in-order segment's, so a hole repaired by a needed retransmission makes it at least that new).
    private void UndoIfSpurious(in TcpOptions options)
    {
        if (!_undoArmed) return;
        var loss = Loss;
        if (!loss.UndoRetransmittedAny) return;
        if (loss.UndoRetransmitted == 0) { UndoReduction(); return; }
        if (EchoPredates(options, loss.UndoRetransmitStamp)) { _table.Statistics.EifelUndoCount++; UndoReduction(); }
    }

    // True when the segment echoes a timestamp of ours sent before `stamp` (wrap-aware; 0 means no echo).
    private bool EchoPredates(in TcpOptions options, uint stamp)
        => _timestamps && options.Timestamp is TcpTimestamp ts && ts.EchoReply != 0 && (int)(ts.EchoReply - stamp) < 0;

    // As Linux's tcp_undo_cwnd_reduction: the larger of now and before, so a window grown since is not cut. The
    // congestion-control module keeps what its OnLoss set (CUBIC's W_max, as Linux's CUBIC does).
    private void UndoReduction()
    {
        _undoArmed = false;
        RestoreWindow(Loss.UndoCongestionWindow, Loss.UndoSlowStartThreshold);
    }

    // The undo itself, for fast recovery and for a spurious timeout (F-RTO) alike.
    private void RestoreWindow(uint congestionWindow, uint slowStartThreshold)
    {
        Cwnd = Math.Max(Cwnd, congestionWindow);
        _ssthresh = Math.Max(_ssthresh, slowStartThreshold);
        _table.Statistics.SpuriousUndoCount++;
        _table.MarkPending(this);
    }

    // RFC 6675 4 IsLost: more than (DupThresh - 1) * SMSS bytes, or DupThresh or more segments, SACKed above seq.
    // The scoreboard holds merged blocks; a block's segments are counted as its length over SMSS, rounded up.
    private bool IsLost(uint seq)
    {
        uint bytes = 0;
        int segments = 0, mss = Math.Max(_mss, 1);
        for (int i = _sackCount - 1; i >= 0 && Seq.Gt(_sackRight[i], seq); i--)
        {
            uint left = Seq.Max(_sackLeft[i], seq + 1), length = _sackRight[i] - left;
            bytes += length;
            segments += (int)((length + (uint)mss - 1) / (uint)mss);
        }
        return bytes > (uint)((DupThresh - 1) * mss) || segments >= DupThresh;
    }

    // RFC 6675 4 SetPipe: for every unSACKed octet between HighACK and HighData, one if it is not lost, and one more
    // if it was retransmitted (at or below HighRxt). IsLost is the same for every octet of one gap between SACK
    // blocks, so the sum is taken gap by gap.
    private uint Pipe()
    {
        if (RackEnabled) return RackPipe();   // RFC 8985: RACK's lost marks in place of IsLost
        uint pipe = 0, from = _sndUna;
        for (int i = 0; i <= _sackCount; i++)
        {
            uint to = i < _sackCount ? _sackLeft[i] : _sndMax;
            if (Seq.Lt(from, to))
            {
                if (!IsLost(from)) pipe += to - from;
                if (Seq.Lt(from, _highRetransmitted)) pipe += Seq.Min(to, _highRetransmitted) - from;
            }
            if (i < _sackCount) from = Seq.Max(from, _sackRight[i]);
        }
        return pipe;
    }

    // RFC 6675 5 steps 4.1-4.4: enter recovery, resend the first segment presumed dropped, then send what pipe allows.
    // The window is then PRR's (RFC 6937), not ssthresh at once.
    private void EnterPipeRecovery(TimeSpan now)
    {
        BeginUndoEpisode();
        BeginPrr();
        // RFC 5681 3.2 step 2: the data limited transmit sent beyond cwnd is not part of the FlightSize halved.
        _ssthresh = _congestion.OnLoss(Cwnd, Math.Min(FlightSize, Cwnd), _mss, now, timeout: false);
        Cwnd = _ssthresh;
        _recover = _sndMax;
        _inRecovery = true;
        _pipeRecovery = true;
        _highRetransmitted = _sndUna;
        _table.Statistics.FastRetransmitsCount++;
        PrrOnAck();   // RFC 6937: the ACK that starts recovery counts its delivered data too
        if (!RackEnabled || !RackRetransmitFirstLost(Math.Max(1, _mss - SegmentOptions(now).Length), now)) RetransmitFrom(_sndUna, now);
        SendWhilePipeAllows(now);
    }

    // RFC 6675 5 step (C): while cwnd - pipe >= SMSS, send the segment NextSeg names; nothing when it names none. PRR
    // (TcpConnection.Prr.cs) has set cwnd to pipe + what this ACK may send.
    private void SendWhilePipeAllows(TimeSpan now)
    {
        int segmentSize = Math.Max(1, _mss - SegmentOptions(now).Length);
        for (int budget = SegmentsPerFlush; budget > 0; budget--)
        {
            uint pipe = Pipe();
            if (Cwnd < pipe || Cwnd - pipe < (uint)segmentSize) return;
            bool dsack = _dsackPending;
            if (!SendNextSegment(segmentSize, now)) return;
            if (dsack) segmentSize = Math.Max(1, _mss - SegmentOptions(now).Length);   // the D-SACK went on that one only
        }
        _table.MarkPending(this);
    }

    // RFC 6675 4 NextSeg, rules 1-3 (rule 4, the rescue retransmission, is not used: the tail probe and the RTO cover it).
    private bool SendNextSegment(int segmentSize, TimeSpan now)
    {
        // RFC 8985: with RACK only segments it marked lost are resent (rule 1), then new data; no rule 3.
        if (RackEnabled && RackRetransmitFirstLost(segmentSize, now)) return true;
        uint highestSacked = _sackCount > 0 ? _sackRight[_sackCount - 1] : _sndUna;
        // Rule 1: the first unSACKed octet above HighRxt, below the highest SACKed octet, that IsLost.
        // Rule 3 (kept as the fallback): the same octet when it is not (yet) lost, if rule 2 has nothing.
        uint candidate = FirstUnsackedFrom(Seq.Max(_sndUna, _highRetransmitted));
        bool below = !RackEnabled && Seq.Lt(candidate, highestSacked);
        if (below && IsLost(candidate)) return RetransmitFrom(candidate, now);
        // Rule 2: new data, if the receiver's window has room for it.
        int sentOffset = DataOffset(_sndNxt), unsent = _send.Count - sentOffset;
        if (unsent > 0 && Seq.Ge(_sndNxt, _sndMax))
        {
            uint windowEnd = _sndUna + _sndWnd;
            int length = (int)Math.Min(Math.Min(segmentSize, unsent), Seq.Gt(windowEnd, _sndNxt) ? windowEnd - _sndNxt : 0u);
            if (length == Math.Min(segmentSize, unsent))
            {
                SendData(_sndNxt, sentOffset, length, now, retransmit: false);
                NotePrrSent(length);
                _sndNxt += (uint)length;
                _sndMax = _sndNxt;
                return true;
            }
        }
        if (below) return RetransmitFrom(candidate, now);
        return false;
    }

    // The first octet at or after seq that no SACK block covers.
    private uint FirstUnsackedFrom(uint seq)
    {
        for (int i = 0; i < _sackCount; i++)
        {
            if (Seq.Lt(seq, _sackLeft[i])) break;
            if (Seq.Lt(seq, _sackRight[i])) seq = _sackRight[i];
        }
        return seq;
    }

    // Resends one segment from seq, stopping at the next SACK block; moves HighRxt past it. False when nothing was sent.
    private bool RetransmitFrom(uint from, TimeSpan now)
    {
        if (!Seq.Lt(from, _sndMax)) return false;
        uint end = from + (uint)Math.Max(1, _mss - SegmentOptions(now).Length);
        for (int i = 0; i < _sackCount; i++) if (Seq.Gt(_sackLeft[i], from)) { end = Seq.Min(end, _sackLeft[i]); break; }
        end = Seq.Min(end, _sndMax);
        int dataStart = DataOffset(from), dataEnd = DataOffset(end);
        if (from == _sndUna) Loss.UnaRetransmittedAt = now;
        if (dataEnd > dataStart) { SendData(from, dataStart, dataEnd - dataStart, now, retransmit: true); NotePrrSent(dataEnd - dataStart); }
        else if (_finSent && end == _sndMax) SendControl(_sndMax - 1, 0, Wire.TcpFlags.Fin | Wire.TcpFlags.Ack, now);
        else return false;
        if (Seq.Gt(end, _highRetransmitted)) _highRetransmitted = end;
        if (_sackCount > 0) _table.Statistics.SackRetransmitsCount++;
        return true;
    }

    // In pipe recovery, a duplicate ACK (new SACK information) or a partial ACK only updates the scoreboard; what may
    // be sent is decided by pipe. A first hole resent long ago whose ACK has not come means the resend was lost too
    // (RFC 8985 in spirit): it is sent once more.
    private void OnPipeRecoveryAck(TimeSpan now)
    {
        PrrOnAck();
        if (!RackEnabled && Seq.Lt(_sndUna, _highRetransmitted) && now - Loss.UnaRetransmittedAt > Max(_srtt + _srtt / 4, TimeSpan.FromMilliseconds(2)))
        {
            _table.Statistics.LostRetransmitsCount++;
            uint high = _highRetransmitted;
            RetransmitFrom(_sndUna, now);
            _highRetransmitted = Seq.Max(high, _highRetransmitted);
        }
        SendWhilePipeAllows(now);
    }
}
