using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

// Explicit Congestion Notification (RFC 3168 6.1), kept apart from loss recovery: the setup on the SYN and SYN-ACK,
// the IP ECN field and the ECE/CWR bits of each segment sent (one hook in Transmit), the receiver's echo of CE marks,
// and the sender's once-per-window reduction on ECE.
public sealed partial class TcpConnection
{
    private bool _ecn;               // negotiated (RFC 3168 6.1.1)
    private bool _ecnAsked;          // our SYN was an ECN-setup SYN (ECE and CWR)
    private bool _ecnEcho;           // receiver: a CE mark arrived; ECE on every ACK until a CWR arrives (6.1.3)
    private bool _cwrPending;        // sender: CWR on the next new data segment (6.1.2)
    private bool _ecnWindowReduced;  // sender: a reduction covers the data up to LossState.EcnRecover

    private sealed partial class LossState   // made on the first ECE, as on a first loss
    {
        public uint EcnRecover;      // SND.MAX when the window was last reduced for ECE
        public uint CwndBeforeEce;   // cwnd before the ACK carrying ECE was processed (it must not grow it)
    }

    /// <summary>True when both ends agreed on ECN in the handshake (RFC 3168 6.1.1).</summary>
    public bool EcnNegotiated => _ecn;

    // RFC 3168 6.1.1: an ECN-setup SYN carries ECE and CWR; an ECN-setup SYN-ACK carries ECE without CWR. Called from
    // TakeSynOptions with the peer's SYN (passive open, simultaneous open) or SYN-ACK (active open).
    private void TakeEcnSetup(TcpSegment segment)
    {
        var flags = segment.Flags & (TcpFlags.Ece | TcpFlags.Cwr | TcpFlags.Ack);
        _ecn = (flags & TcpFlags.Ack) != 0
            ? _ecnAsked && flags == (TcpFlags.Ece | TcpFlags.Ack)
            : AcceptsEcnSetup(_options, flags);
        if (_ecn) _table.Statistics.EcnNegotiatedCount++;
    }

    /// <summary>Whether a listener with these options answers a SYN with these flags with an ECN-setup SYN-ACK (RFC 3168 6.1.1).</summary>
    internal static bool AcceptsEcnSetup(TcpConnectionOptions options, TcpFlags synFlags)
        => options.Ecn != TcpEcnMode.Off && (synFlags & (TcpFlags.Ece | TcpFlags.Cwr | TcpFlags.Ack)) == (TcpFlags.Ece | TcpFlags.Cwr);

    // A connection made from a SYN cookie (RFC 4987): ECN was agreed in the SYN-ACK only if the cookie's timestamp says
    // so, as Linux keeps it (without timestamps the SYN-ACK did not offer it).
    private void TakeEcnFromCookie(bool ecn)
    {
        _ecn = ecn;
        if (_ecn) _table.Statistics.EcnNegotiatedCount++;
    }

    // The ECN part of a segment about to be sent: sets ECE/CWR in its header (already written to the segment buffer, not
    // yet checksummed) and returns the IP ECN field. ECT(0) only on new data: never on a SYN or SYN-ACK (6.1.1), a pure
    // ACK, a window probe or keepalive (6.1.4, 6.1.6), a retransmission (6.1.5) or a reset.
    private IpEcn EcnForSegment(Span<byte> segment, TcpFlags flags, uint sequence, int length)
    {
        if ((flags & TcpFlags.Rst) != 0) return IpEcn.NotEct;
        ref byte wireFlags = ref segment[TcpSegment.Field.Flags];
        if ((flags & TcpFlags.Syn) != 0)
        {
            if ((flags & TcpFlags.Ack) != 0)
            {
                if (_ecn) wireFlags |= (byte)TcpFlags.Ece;
            }
            // As Linux (tcp_ecn_clear_syn): a retransmitted SYN no longer asks, in case a middlebox drops ECN-setup SYNs
            // (RFC 3168 6.1.1.1); a SYN-ACK with ECE still negotiates.
            else if (State == TcpState.SynSent && _options.Ecn == TcpEcnMode.Request && _retransmissions == 0)
            {
                wireFlags |= (byte)(TcpFlags.Ece | TcpFlags.Cwr);
                _ecnAsked = true;
            }
            return IpEcn.NotEct;
        }
        if (!_ecn) return IpEcn.NotEct;
        if (_ecnEcho && (flags & TcpFlags.Ack) != 0) wireFlags |= (byte)TcpFlags.Ece;
        if (length == 0 || Seq.Lt(sequence, _sndMax)) return IpEcn.NotEct;
        if (_cwrPending)
        {
            wireFlags |= (byte)TcpFlags.Cwr;   // 6.1.2: on the first new data segment after the reduction
            _cwrPending = false;
            _table.Statistics.EcnCwrSentCount++;
        }
        return IpEcn.Ect0;
    }

    /// <summary>
    /// The ECN signals of an arriving segment for the receiver (RFC 3168 6.1.3), on the fast path and the slow one alike:
    /// CWR ends the echo, then CE (on this segment, perhaps the same one) starts it again. As Linux, the first CE of an
    /// echo is acknowledged at once: the sender may have a small window.
    /// </summary>
    internal void OnEcnArrival(in TcpSegment segment, IpEcn ecn, TimeSpan now)
    {
        if ((segment.Flags & TcpFlags.Ece) != 0) Loss.CwndBeforeEce = Cwnd;
        if ((segment.Flags & (TcpFlags.Cwr | TcpFlags.Syn)) == TcpFlags.Cwr) _ecnEcho = false;
        if (ecn != IpEcn.Ce) return;
        _table.Statistics.EcnCeReceivedCount++;
        if (_ecnEcho || State is TcpState.SynSent) return;
        _ecnEcho = true;
        if (!segment.Payload.IsEmpty)
        {
            _ackNow = true;
            _table.MarkPending(this);
        }
        _ = now;
    }

    // RFC 3168 6.1.2: an ECE on an acceptable ACK halves the window (the congestion control's loss response: CUBIC's
    // β, NewReno's half) without a retransmission, once per window of data: ECEs acknowledging data sent before the
    // last reduction answer the same congestion. Already in loss recovery the window has been reduced for this window;
    // only CWR is owed. The reduction is not undoable (as Linux's tcp_enter_cwr clears the undo marker). 6.1.2 also
    // says an ACK with ECE SHOULD NOT grow the window: outside loss recovery, the growth this ACK gave is taken back.
    private void OnEcnEcho(TimeSpan now)
    {
        _table.Statistics.EcnEceReceivedCount++;
        var loss = Loss;
        if (!_inRecovery) Cwnd = Math.Min(Cwnd, Math.Max(loss.CwndBeforeEce, (uint)_mss));
        if (_ecnWindowReduced && Seq.Le(_sndUna, loss.EcnRecover)) return;
        _ecnWindowReduced = true;
        _cwrPending = true;
        if (_inRecovery)
        {
            loss.EcnRecover = Seq.Max(_recover, _sndMax);
            return;
        }
        loss.EcnRecover = _sndMax;
        _ssthresh = _congestion.OnLoss(Cwnd, FlightSize, _mss, now, timeout: false);
        Cwnd = Math.Max(Math.Min(Cwnd, _ssthresh), (uint)_mss);
        _undoArmed = false;
        _table.Statistics.EcnReductionsCount++;
    }
}
