using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

public sealed partial class TcpConnection
{
    private const int SegmentsPerFlush = 128;
    // RFC 9293 3.8.6.2.1: the sender's SWS override timeout "in the range 0.1 - 1.0 seconds"; the RTO within it, as
    // Linux's probe timer.
    private static readonly TimeSpan SwsOverrideMin = TimeSpan.FromMilliseconds(100), SwsOverrideMax = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan OneMillisecond = TimeSpan.FromMilliseconds(1), TenMilliseconds = TimeSpan.FromMilliseconds(10),
        DelayedAckAllowance = TimeSpan.FromMilliseconds(200);
    // TimeSpan's own * and / go through double and rounding: on the per-ACK path, integer ticks instead.
    private static TimeSpan Ticks(long ticks) => new(ticks);
    private Deadline _swsOverrideAt = Deadline.None;
    private bool _swsOverrideDue;

    private static TimeSpan Clamp(TimeSpan value, TimeSpan min, TimeSpan max) => value < min ? min : value > max ? max : value;

    /// <summary>Sends what is due now: data the windows allow, a FIN, a pending ACK. Called by the table on the stack thread.</summary>
    internal void Flush(TimeSpan now)
    {
        if (_rackPopPending || _batchRttTicks >= 0) SettleAckBatch();
        if (State is TcpState.Closed or TcpState.Listen or TcpState.SynSent) return;
        if (State != TcpState.SynReceived && State != TcpState.TimeWait)
        {
            SendDataDue(now);
            SendFinIfDue(now);
            if (State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.LastAck or TcpState.Closing) ArmTailProbe(now);
        }
        if (_ackNow || (_delayedAckAt <= now))
            if (State != TcpState.SynReceived) SendAck(now);
    }

    private void SendDataDue(TimeSpan now)
    {
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck)) return;
        // RFC 6691: the MSS counts data only; the options each segment carries come out of it.
        if (_inRecovery && _pipeRecovery) { SendWhilePipeAllows(now); return; }
        if (DataOffset(_sndNxt) >= _send.Count) return;   // nothing new to send (the common case after an ACK)
        int segmentSize = 0, burst = 0;
        for (int budget = SegmentsPerFlush; budget > 0; budget--)
        {
            if (segmentSize == 0)
            {
                int optionsLength = SegmentOptions(now).Length;
                segmentSize = Math.Max(1, _mss - optionsLength);
                // A link with segmentation offload takes up to 64 KB at once and cuts it into segmentSize pieces on the wire.
                burst = _output.MaxOffloadSegment(RemoteAddress) > _output.MaxSegment(RemoteAddress)
                    ? Math.Max(segmentSize, (_output.MaxOffloadSegment(RemoteAddress) - TcpHeader.MinimumSize - optionsLength) / segmentSize * segmentSize)
                    : segmentSize;
            }
            int sentOffset = DataOffset(_sndNxt);
            int unsent = _send.Count - sentOffset;
            if (unsent <= 0) return;
            uint window = Math.Min(_sndWnd, _inRecovery ? Cwnd : Cwnd + _limitedTransmit);
            uint inFlight = _sndNxt - _sndUna;
            if (inFlight >= window)
            {
                if (_sndWnd == 0 && _sndUna == _sndMax)
                {
                    if (!_persistAt.HasValue) _persistAt = now + Backoff(_rto, _persistBackoff);
                    if (!_persistSince.HasValue) _persistSince = now;
                }
                return;
            }
            int usable = (int)Math.Min(window - inFlight, int.MaxValue);
            int length = Math.Min(Math.Min(burst, unsent), usable);
            // Offload: whole segments only, but for the last, and that small tail too waits while data is unacknowledged,
            // as Nagle would hold it sent alone (as Linux's tcp_mss_split_point).
            if (length > segmentSize && length % segmentSize != 0
                && (length < unsent || (_sndUna != _sndNxt && !NoDelay && !_options.NoDelay && !_finQueued && !Seq.Lt(_sndNxt, _sndMax))))
                length -= length % segmentSize;
            if (length < segmentSize)
            {
                bool outstanding = _sndUna != _sndNxt;
                // Nagle (RFC 896, RFC 9293 3.7.4): hold a small segment of new data while data is unacknowledged; bytes
                // already sent once (resent after a timeout or a smaller MSS) are not held.
                if (length == unsent && outstanding && !NoDelay && !_options.NoDelay && !_finQueued && !Seq.Lt(_sndNxt, _sndMax)) return;
                // Sender SWS avoidance (RFC 9293 3.8.6.2.1): a window-limited sliver below half the largest window seen
                // waits for the ACKs of what is outstanding, or with nothing outstanding for the override timeout.
                if (length < unsent && length < _maxSndWnd / 2)
                {
                    if (outstanding) return;
                    if (!_swsOverrideDue) { if (!_swsOverrideAt.HasValue) _swsOverrideAt = now + Clamp(_rto, SwsOverrideMin, SwsOverrideMax); return; }
                }
            }
            _swsOverrideAt = null;
            _swsOverrideDue = false;
            bool retransmit = Seq.Lt(_sndNxt, _sndMax);
            // A D-SACK block rides on one segment only (RFC 2883 4): the ones after it have its room for data again.
            if (_dsackPending) segmentSize = 0;
            // A FIN queued behind the last of the data rides on that data's segment, as Linux's tcp_send_fin tacks it
            // onto the unsent tail: a response written and closed in one callback leaves as one segment, and the
            // peer's ACK of the data and of the FIN is one ACK.
            bool fin = length == unsent && FinMayLeave;
            SendData(_sndNxt, sentOffset, length, now, retransmit, fin);
            _sndNxt += (uint)length;
            if (Seq.Gt(_sndNxt, _sndMax)) _sndMax = _sndNxt;
            if (fin) { TakeFinIntoSequence(now); return; }
            if (!_retransmitAt.HasValue) _retransmitAt = now + _rto;
        }
        _table.MarkPending(this);   // budget spent with data left: continue on the next poll
    }

    // RFC 8985 7.2: with nothing more to send and no recovery under way, probe the tail after about two RTTs,
    // so that a lost last segment is found by the SACK/ACK the probe draws instead of by the RTO.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]   // one test before RACK's
    private void ArmTailProbe(TimeSpan now)
    {
        if (RackEnabled) { RackArmTailProbe(now); return; }
        ArmTailProbeWithoutRack(now);
    }

    private void ArmTailProbeWithoutRack(TimeSpan now)
    {
        // RFC 8985 5: RACK-TLP needs SACK; 7.2: not while SACKed data shows loss recovery is under way.
        if (!_sack || _sackCount > 0 || _probeAt.HasValue || _probed || _inRecovery || _sndUna == _sndMax || !_haveRtt) return;
        var pto = Max(Ticks(_srtt.Ticks * 2), TenMilliseconds);
        if (FlightSize <= (uint)_mss) pto += DelayedAckAllowance;   // RFC 8985 7.2: one segment out, allow for a delayed ACK
        if (_retransmitAt.HasValue && now + pto >= _retransmitAt.Value) return;
        _probeAt = now + pto;
    }

    private void SendTailProbe(TimeSpan now)
    {
        if (RackEnabled) { RackSendTailProbe(now); return; }
        _probeAt = null;
        _probed = true;
        if (_inRecovery || _sndUna == _sndMax) return;
        SendTailProbeSegment(now);
    }

    // The tail probe's segment, with RACK or without (RFC 8985 7.3, always a resend here: RackSendTailProbe says why):
    // the last segment's worth of data sent again, or the FIN when only it is outstanding; then the RTO timer re-armed
    // (it stays the last resort).
    private void SendTailProbeSegment(TimeSpan now)
    {
        int segmentSize = Math.Max(1, _mss - SegmentOptions(now).Length);
        int end = DataOffset(_sndMax), start = Math.Max(DataOffset(_sndUna), end - segmentSize);
        _table.Statistics.TailProbesCount++;
        uint dataStart = SynOutstanding ? _iss + 1 : _sndUna;
        if (end > start) SendData(dataStart + (uint)start, start, end - start, now, retransmit: true);
        else if (_finSent) SendControl(_sndMax - 1, _rcvNxt, TcpFlags.Fin | TcpFlags.Ack, now);
        _retransmitAt = now + _rto;
    }

    // The user closed, our FIN is not in the sequence space (or a timeout took it out), and the state sends one.
    private bool FinMayLeave => _finQueued && !_finSent
        && State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck;

    private void SendFinIfDue(TimeSpan now)
    {
        if (!FinMayLeave || DataOffset(_sndNxt) < _send.Count) return;
        if (_sndUna == _sndMax) _lastProgress = now;
        SendControl(_sndNxt, _rcvNxt, TcpFlags.Fin | TcpFlags.Ack, now);
        TakeFinIntoSequence(now);
    }

    // The FIN just sent (alone or on the last data segment) at SND.NXT takes its sequence number.
    private void TakeFinIntoSequence(TimeSpan now)
    {
        _finSequence ??= _sndNxt;
        _sndNxt++;
        if (Seq.Gt(_sndNxt, _sndMax)) _sndMax = _sndNxt;
        _finSent = true;
        if (State == TcpState.Established) State = TcpState.FinWait1;
        else if (State == TcpState.CloseWait) State = TcpState.LastAck;
        if (!_retransmitAt.HasValue) _retransmitAt = now + _rto;
    }

    // ------------------------------------------------------------------ timers

    internal TimeSpan? NextDeadline
    {
        get
        {
            TimeSpan? next = null;
            Earliest(ref next, _retransmitAt);
            Earliest(ref next, _delayedAckAt);
            Earliest(ref next, _timeWaitUntil);
            Earliest(ref next, _finWait2Until);
            Earliest(ref next, _persistAt);
            Earliest(ref next, _swsOverrideAt);
            Earliest(ref next, _keepaliveAt);
            Earliest(ref next, _probeAt);
            Earliest(ref next, _rackTimerAt);
            if (_options.UserTimeout is TimeSpan u && _sndUna != _sndMax) Earliest(ref next, _lastProgress + u);
            if (_options.UserTimeout is TimeSpan p && _persistSince.AsNullable is TimeSpan since) Earliest(ref next, since + p);
            return next;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]   // 10 calls per segment (perf: 7% of a pure ACK)
    private static void Earliest(ref TimeSpan? next, TimeSpan? t)
    {
        if (t is TimeSpan v && (next is null || v < next)) next = v;
    }

    internal void OnTimer(TimeSpan now)
    {
        if (_rackPopPending || _batchRttTicks >= 0) SettleAckBatch();
        if (_timeWaitUntil <= now || (_finWait2Until <= now && State == TcpState.FinWait2)) { SetClosed(NetError.None); return; }
        if (_options.UserTimeout is TimeSpan u && _sndUna != _sndMax && now - _lastProgress >= u) { AbortTimedOut(now); return; }
        // RFC 6429: the user timeout applies to a connection in persist too, even while the peer answers the probes.
        if (_options.UserTimeout is TimeSpan p && _persistSince.AsNullable is TimeSpan since && now - since >= p) { AbortTimedOut(now); return; }
        if (_retransmitAt <= now) { OnRetransmitTimeout(now); if (State == TcpState.Closed) return; }
        if (_persistAt <= now) SendWindowProbe(now);
        if (_swsOverrideAt <= now) { _swsOverrideAt = null; _swsOverrideDue = true; _table.MarkPending(this); }
        if (_probeAt <= now) SendTailProbe(now);
        if (_rackTimerAt <= now) OnRackTimer(now);
        if (_delayedAckAt <= now) { _ackNow = true; _table.MarkPending(this); }
        if (_keepaliveAt <= now) OnKeepalive(now);
    }

    private void OnRetransmitTimeout(TimeSpan now)
    {
        _retransmissions++;
        int limit = State is TcpState.SynSent or TcpState.SynReceived ? _options.MaxSynRetransmissions : _options.MaxRetransmissions;
        if (_retransmissions > limit) { AbortTimedOut(now); return; }
        _rto = Backoff(_rto, 1);               // RFC 6298 5.5
        if (_retransmissions >= 2) _output.SuspectNeighbour(RemoteAddress, now);   // as Linux's negative advice to the neighbour layer
        _rttTiming = false;                    // Karn's rule: no sample from a retransmitted segment
        _table.Statistics.TimeoutRetransmitsCount++;
        // Retransmitted data is counted where it is sent (SendData); a SYN is counted here.
        if (State == TcpState.SynSent) { Retransmits++; SendSyn(now, ack: false); }
        else if (State == TcpState.SynReceived) { Retransmits++; SendSyn(now, ack: true); }
        else
        {
            // RFC 5681 3.1 (equation 4) and 3.2: one segment, and resend from SND.UNA.
            BeginFrto(now);
            _ssthresh = _congestion.OnLoss(Cwnd, FlightSize, _mss, now, timeout: true);
            Cwnd = (uint)_mss;
            _inRecovery = false;
            _pipeRecovery = false;
            _dupAcks = 0;
            _limitedTransmit = 0;   // RFC 3042's allowance came from duplicate ACKs of the window the timeout abandons
            _undoArmed = false;     // a timeout's reduction is undone by F-RTO (TcpConnection.Frto.cs), not by D-SACK
            _sackCount = 0;   // RFC 2018 8: the receiver may have discarded SACKed data
            _sndNxt = _sndUna;
            _highRetransmitted = _sndUna;
            _probeAt = null;
            RackOnTimeout();
            if (_finSent && Seq.Lt(_sndUna, _sndMax)) _finSent = false;
            _table.MarkPending(this);
        }
        _retransmitAt = now + _rto;
    }

    // RFC 9293 3.10.8: a timeout (retransmissions exhausted, the user timeout) deletes the TCB without a reset, as Linux
    // does; a keepalive failure resets, as Linux does.
    private void AbortTimedOut(TimeSpan now, bool reset = false)
    {
        if (reset && State is not (TcpState.SynSent or TcpState.TimeWait)) SendReset(now);
        SetClosed(_softError != NetError.None ? _softError : NetError.TimedOut);   // as Linux: the last soft error explains the timeout
    }

    // RFC 9293 3.8.6.1: probe a zero window; Linux's probe is an ACK with an old sequence number, which the peer answers with its window.
    private void SendWindowProbe(TimeSpan now)
    {
        _table.Statistics.WindowProbesCount++;
        SendControl(_sndUna - 1, _rcvNxt, TcpFlags.Ack, now);
        _persistBackoff++;
        _persistAt = now + Backoff(_rto, _persistBackoff);
    }

    private void OnKeepalive(TimeSpan now)
    {
        if (now - _lastReceived < _options.KeepAliveIdle) { _keepaliveAt = _lastReceived + _options.KeepAliveIdle; return; }
        if (_keepaliveProbes >= _options.KeepAliveCount) { AbortTimedOut(now, reset: true); return; }
        _keepaliveProbes++;
        SendControl(_sndUna - 1, _rcvNxt, TcpFlags.Ack, now);   // RFC 9293 3.8.4: an ACK with SEG.SEQ = SND.NXT - 1
        _keepaliveAt = now + _options.KeepAliveInterval;
    }

    private TimeSpan Backoff(TimeSpan rto, int times)
    {
        int shift = Math.Min(times, 16);
        if (rto.Ticks > long.MaxValue >> shift) return _options.MaxRetransmissionTimeout;
        var t = Ticks(rto.Ticks << shift);
        return t < _options.MaxRetransmissionTimeout ? t : _options.MaxRetransmissionTimeout;
    }

    private void Arm(TimeSpan now)
    {
        if (!_retransmitAt.HasValue) _retransmitAt = now + _rto;
        _rttStart = now;
    }

    // RFC 6298 2.2 and 2.3.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]   // rare paths: the body once
    private void SampleRtt(TimeSpan r) => SampleRttTicks(r.Ticks);

    // RFC 6298 2.2/2.3, in ticks; inlined where a pure ACK samples (OnNewAck from RACK's records).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void SampleRttTicks(long ticks)
    {
        if (ticks < 0) return;
        // In ticks (all of them non-negative and far below overflow): TimeSpan's checked operators were calls here.
        long srtt, rttvar;
        if (!_haveRtt)
        {
            srtt = ticks;
            rttvar = ticks / 2;
            _haveRtt = true;
        }
        else
        {
            srtt = _srtt.Ticks;
            long delta = srtt - ticks;
            rttvar = (_rttvar.Ticks * 3 + (delta < 0 ? -delta : delta)) / 4;
            srtt = (srtt * 7 + ticks) / 8;
        }
        _srtt = new TimeSpan(srtt);
        _rttvar = new TimeSpan(rttvar);
        long rto = srtt + Math.Max(OneMillisecond.Ticks, rttvar * 4);
        long min = _options.MinRetransmissionTimeout.Ticks, max = _options.MaxRetransmissionTimeout.Ticks;
        _rto = new TimeSpan(rto < min ? min : rto > max ? max : rto);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private uint Timestamp(TimeSpan now) => (uint)(long)now.TotalMilliseconds + _tsOffset;

    // ------------------------------------------------------------------ segment builders

    private void SendSyn(TimeSpan now, bool ack)
    {
        var options = new TcpOptions { MaximumSegmentSize = (ushort)Math.Min(_output.MaxSegment(RemoteAddress) - TcpHeader.MinimumSize, 65535) };
        bool offerAll = !ack;   // RFC 7323 / RFC 2018: a SYN-ACK carries only the options the SYN offered
        if (_options.WindowScaling && (offerAll || _rcvScale > 0 || _sndScale > 0)) options = options with { WindowScale = (byte)_receiveScaleWanted };
        if (_options.SelectiveAcknowledgments && (offerAll || _sack)) options = options with { SackPermitted = true };
        if (_options.Timestamps && (offerAll || _timestamps)) options = options with { Timestamp = new TcpTimestamp(Timestamp(now), ack ? _tsRecent : 0) };
        if (ack && !(_rcvScale > 0 || _sndScale > 0)) _rcvScale = 0;
        uint window = Math.Min(ReceiveWindow == 0 && State != TcpState.Established ? (uint)_receive.Window : ReceiveWindow, 65535u);   // never scaled in a SYN
        if (ack) _rcvAdvertisedRight = Seq.Max(_rcvAdvertisedRight, _rcvNxt + window);
        var header = new TcpHeader(LocalPort, RemotePort, _iss, ack ? _rcvNxt : 0, ack ? TcpFlags.Syn | TcpFlags.Ack : TcpFlags.Syn, (ushort)window, 0, options);
        Transmit(header, 0, 0, now);
        if (_retransmissions == 0) _rttStart = now;
    }

    // fin: a FIN rides on this segment for the first time (SendDataDue). A retransmission that ends where the FIN sits
    // carries it again, as Linux resends the FIN with the tail segment it was sent on.
    private void SendData(uint sequence, int offset, int length, TimeSpan now, bool retransmit, bool fin = false)
    {
        if (_sndUna == _sndMax) _lastProgress = now;   // the user timeout counts from when data became outstanding (RFC 5482)
        var flags = TcpFlags.Ack;
        if (offset + length == _send.Count) flags |= TcpFlags.Psh;
        if (fin || (_finSent && _finSequence is uint finSequence && sequence + (uint)length == finSequence)) flags |= TcpFlags.Fin;
        var header = new TcpHeader(LocalPort, RemotePort, sequence, _rcvNxt, flags, WindowField(), 0, SegmentOptions(now));
        Transmit(header, offset, length, now);
        RackOnSend(sequence, length, now);   // RFC 8985 6.1: the per-segment transmit time
        if (retransmit)
        {
            Retransmits++;
            NoteRetransmittedForUndo(length, now);
            if (_rttTiming && Seq.Le(sequence, _rttSequence)) _rttTiming = false;
        }
        else if (!_rttTiming && !_timestamps)
        {
            _rttTiming = true;
            _rttSequence = sequence;
            _rttStart = now;
        }
    }

    private void SendAck(TimeSpan now)
    {
        if (State is TcpState.Closed or TcpState.SynSent or TcpState.Listen) return;
        // The highest sequence sent, not a SND.NXT rewound for retransmission: a pure ACK left of the peer's window
        // fails its acceptance test (RFC 9293 3.10.7.4) and the acknowledgment in it would be lost.
        SendControl(_sndMax, _rcvNxt, TcpFlags.Ack, now);
    }

    private void SendControl(uint sequence, uint ack, TcpFlags flags, TimeSpan now)
    {
        bool rst = (flags & TcpFlags.Rst) != 0;
        var header = new TcpHeader(LocalPort, RemotePort, sequence, ack, flags, rst ? (ushort)0 : WindowField(), 0, rst ? default : SegmentOptions(now));
        Transmit(header, 0, 0, now);
        if (rst) _table.Statistics.ResetsSentCount++;
    }

    // RFC 9293 3.10.4: <SEQ=SND.NXT><CTL=RST>. RFC 7323 3.2: with timestamps in use, a reset of our own (not one
    // answering an unacceptable segment) carries TSopt too, as Linux's does.
    private void SendReset(TimeSpan now)
    {
        var options = _timestamps ? new TcpOptions { Timestamp = new TcpTimestamp(Timestamp(now), _tsRecent) } : default;
        Transmit(new TcpHeader(LocalPort, RemotePort, _sndMax, 0, TcpFlags.Rst, 0, 0, options), 0, 0, now);
        _table.Statistics.ResetsSentCount++;
    }

    private void Transmit(in TcpHeader header, int offset, int length, TimeSpan now)
    {
        var buffer = _output.SegmentBuffer;
        int headerLength = header.WriteTo(buffer);
        int wireSegment = Math.Max(1, _mss - (headerLength - TcpHeader.MinimumSize));   // RFC 6691: options come out of the MSS
        // A segment the output checksums in software has its payload summed as it is copied out of the send ring
        // (issue 18 item 2); one the link cuts (TSO) carries only the pseudo-header sum, so it is copied alone.
        bool sumInCopy = length > 0 && length <= wireSegment;
        uint payloadSum = 0;
        if (sumInCopy) payloadSum = _send.CopyAndSum(offset, buffer.Slice(headerLength, length));
        else if (length > 0) _send.CopyTo(offset, buffer.Slice(headerLength, length));
        var ecn = EcnForSegment(buffer, header.Flags, header.SequenceNumber, length);   // RFC 3168 (TcpConnection.Ecn.cs)
        _output.SendSegment(LocalAddress, RemoteAddress, headerLength + length, now, length > wireSegment ? wireSegment : 0, ecn,
                            sumInCopy ? headerLength : 0, payloadSum);
        _table.Statistics.SegmentsSentCount++;
        if ((header.Flags & TcpFlags.Ack) != 0)
        {
            _ackNow = false;
            _delayedAckAt = null;
            _unackedSegments = 0;
            _lastAckSent = header.AcknowledgmentNumber;
            if (_dsackPending && header.Options.SackBlocks.Count > 0)
            {
                _dsackPending = false;   // RFC 2883 4: each duplicate is reported in one ACK only
                _table.Statistics.DsackSentCount++;
            }
        }
    }

    private ushort WindowField()
    {
        uint window = ReceiveWindow;
        uint field = Math.Min(window >> _rcvScale, 65535u);
        uint right = _rcvNxt + (field << _rcvScale);
        if (Seq.Gt(right, _rcvAdvertisedRight) || _rcvAdvertisedRight == 0) _rcvAdvertisedRight = right;
        return (ushort)field;
    }

    private TcpOptions SegmentOptions(TimeSpan now)
    {
        var options = default(TcpOptions);
        if (_timestamps) options = options with { Timestamp = new TcpTimestamp(Timestamp(now), _tsRecent) };
        if (_sack && (_receive.Ranges > 0 || _dsackPending))
        {
            // RFC 2018 4: report the out-of-order ranges held (3 fit beside timestamps, 4 without): first the one holding
            // the latest out-of-order segment, then the others reported recently, newest first, then the rest in order.
            // RFC 2883 4: a D-SACK block goes first, taking one of those places.
            Span<TcpSackBlock> blocks = stackalloc TcpSackBlock[4];
            int count = 0, first = 0;
            if (_dsackPending) { blocks[count++] = new TcpSackBlock(Loss.DsackLeft, Loss.DsackRight); first = 1; }
            int limit = Math.Min(_receive.Ranges + first, _timestamps ? 3 : 4);
            for (int r = 0; r < _sackRecentCount && count < limit; r++)
            {
                int offset = (int)(_sackRecent[r] - _rcvNxt);
                for (int i = 0; i < _receive.Ranges; i++)
                {
                    var (start, end) = _receive.Range(i);
                    if (offset >= start && offset < end) { AddSackBlock(blocks, ref count, first, start, end); break; }
                }
            }
            for (int i = 0; i < _receive.Ranges && count < limit; i++)
            {
                var (start, end) = _receive.Range(i);
                AddSackBlock(blocks, ref count, first, start, end);
            }
            options = options with { SackBlocks = new TcpSackBlocks(blocks[..count]) };
        }
        return options;
    }

    // Adds a SACK block unless one of the ordinary blocks (from index first: a D-SACK block before them may equal it,
    // RFC 2883 4.1.2) already holds it.
    private void AddSackBlock(Span<TcpSackBlock> blocks, ref int count, int first, int start, int end)
    {
        var block = new TcpSackBlock(_rcvNxt + (uint)start, _rcvNxt + (uint)end);
        for (int i = first; i < count; i++) if (blocks[i] == block) return;
        blocks[count++] = block;
    }
}
