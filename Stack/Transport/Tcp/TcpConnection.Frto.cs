using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

// F-RTO (RFC 5682 2.1), detection of spurious retransmission timeouts, with the response of undoing the timeout's
// reduction (RFC 4015's idea, as Linux's tcp_try_undo_loss). After the first timeout of an episode the first segment
// is resent as usual; if the first ACK after it advances the window without covering everything sent before the
// timeout, the sender sends up to two NEW segments instead of resending more; if the second ACK advances the window
// again, it acknowledges data never resent, so the original segments were only delayed: the timeout was spurious and
// cwnd and ssthresh go back to what they were. A duplicate ACK at either step means the loss was real and the
// sender continues as after any timeout (go-back-N in slow start, cwnd at most 3 segments after step 3).
public sealed partial class TcpConnection
{
    private enum FrtoStep : byte { None, FirstAck, SecondAck }

    private FrtoStep _frto;   // here, not in LossState: the ACK path tests it

    private sealed partial class LossState
    {
        // The episode's SND.MAX at the timeout, the window and threshold before it, and our timestamp on the resend.
        public uint FrtoRecover, FrtoCongestionWindow, FrtoSlowStartThreshold, FrtoStamp;
    }

    // RFC 5682 2.1 step 1, called by the timeout before it reduces the window: only the first timeout of an episode.
    private void BeginFrto(TimeSpan now)
    {
        if (!_options.ForwardRtoRecovery || _retransmissions != 1 || _sndUna == _sndMax) { _frto = FrtoStep.None; return; }
        _frto = FrtoStep.FirstAck;
        var loss = Loss;
        loss.FrtoRecover = _sndMax;
        loss.FrtoCongestionWindow = Cwnd;
        loss.FrtoSlowStartThreshold = _ssthresh;
        loss.FrtoStamp = Timestamp(now);
        _table.Statistics.FrtoTimeoutsCount++;
    }

    // Step 2 (the first ACK after the resend) and step 3 (the second), for an ACK that advanced SND.UNA; called at the
    // end of OnNewAck, once the window has taken the ACK.
    private void FrtoOnNewAck(uint ack, in TcpOptions options, TimeSpan now)
    {
        // With timestamps, the first ACK after the resend tells at once (RFC 3522, Eifel detection): an echo older than
        // the resend means the original arrived; the timeout was spurious, nothing more is resent (RFC 4015's response).
        if (_frto == FrtoStep.FirstAck && Seq.Ge(ack, _sndNxt) && EchoPredates(options, Loss.FrtoStamp))
        {
            _frto = FrtoStep.None;
            _sndNxt = _sndMax;
            _highRetransmitted = _sndUna;
            // The timeout took back a FIN it had sent (to resend it after the data); it is out there again now.
            if (_finSequence is uint fin && Seq.Lt(fin, _sndMax)) _finSent = true;
            _table.Statistics.EifelUndoCount++;
            Spurious(now);
            return;
        }
        if (_frto == FrtoStep.FirstAck)
        {
            // 2a: it covers everything sent before the timeout, or not yet what was resent: as after any timeout.
            // 2b: else up to two new segments, if there are any and the peer's window has room.
            _frto = FrtoStep.None;
            if (Seq.Ge(ack, Loss.FrtoRecover) || Seq.Lt(ack, _sndNxt)) return;
            if (DataOffset(_sndMax) >= _send.Count || !Seq.Gt(_sndUna + _sndWnd, _sndMax)) return;
            _sndNxt = _sndMax;   // no more go-back-N: what lies beyond the resent segment is not resent
            _highRetransmitted = _sndUna;
            Cwnd = Math.Max(Cwnd, FlightSize + 2 * (uint)_mss);
            _frto = FrtoStep.SecondAck;
            _table.MarkPending(this);
        }
        else if (_frto == FrtoStep.SecondAck)
        {
            // 3b: this ACK acknowledges data that was not resent after the timeout: the timeout was spurious.
            _frto = FrtoStep.None;
            Spurious(now);
        }
    }

    private void Spurious(TimeSpan now)
    {
        _table.Statistics.FrtoSpuriousCount++;
        RestoreWindow(Loss.FrtoCongestionWindow, Loss.FrtoSlowStartThreshold);
        RackUndoTimeout(now);
    }

    // A duplicate ACK at step 2 (2a) or step 3 (3a): the segment was lost; conventional recovery after a timeout.
    private void FrtoOnDuplicateAck()
    {
        if (_frto == FrtoStep.SecondAck)
        {
            Cwnd = Math.Min(Cwnd, 3 * (uint)_mss);   // 3a: two round trips since the timeout, as slow start would have
            _sndNxt = _sndUna;                          // resend what is unacknowledged, in slow start
            _table.MarkPending(this);
        }
        _frto = FrtoStep.None;
    }
}
