namespace TcpIpSharp.Transport.Tcp;

// Proportional Rate Reduction (RFC 6937) for the SACK-driven fast recovery of TcpConnection.Recovery.cs, with either
// congestion control: on each ACK of the episode the window becomes pipe + sndcnt, where sndcnt spreads the reduction
// from RecoverFS to ssthresh evenly over the ACKs of one round trip while pipe is above ssthresh, and while it is below
// lets pipe climb back toward ssthresh by what was delivered plus one segment (RFC 6937's slow-start reduction bound).
// Recovery without SACK keeps RFC 6582's inflated window: it has no pipe to measure.
public sealed partial class TcpConnection
{
    private sealed partial class LossState
    {
        // RFC 6937 3: prr_delivered, prr_out and RecoverFS, in bytes, for the episode under way.
        public uint PrrDelivered, PrrOut, PrrRecoverFs;
        // What the scoreboard and SND.UNA held when the ACK being processed arrived (for DeliveredData).
        public uint PrrUnaBefore, PrrSackedBefore;
    }

    private uint SackedBytes()
    {
        uint bytes = 0;
        for (int i = 0; i < _sackCount; i++) bytes += _sackRight[i] - _sackLeft[i];
        return bytes;
    }

    // Called before an ACK touches the scoreboard or SND.UNA, only while (or as) recovery may run.
    private void NotePrrAckStart()
    {
        var loss = Loss;
        loss.PrrUnaBefore = _sndUna;
        loss.PrrSackedBefore = SackedBytes();
    }

    // RFC 6937 3, "at the beginning of recovery", before the window is reduced. RecoverFS is the window before the
    // reduction (Linux's prior_cwnd; RFC 6937 takes FlightSize, RFC 9937 pipe): ssthresh / RecoverFS is then the
    // algorithm's own factor (1/2 for NewReno, 0.7 for CUBIC), whatever limited transmit or the application left in flight.
    private void BeginPrr()
    {
        var loss = Loss;
        loss.PrrDelivered = 0;
        loss.PrrOut = 0;
        loss.PrrRecoverFs = Math.Max(Cwnd, 1u);
    }

    // RFC 6937 3 / RFC 9937, on every ACK during recovery: DeliveredData is the change in SND.UNA plus the change in
    // SACKed bytes; the window for what this ACK may send is pipe + sndcnt. Below ssthresh the bound is RFC 6937's
    // PRR-SSRB on every ACK: MAX(prr_delivered - prr_out, DeliveredData) + SMSS. RFC 9937 (and Linux's
    // tcp_cwnd_reduction) add the SMSS only on a "safe ACK" that advances SND.UNA, keeping the conservative bound
    // otherwise; against Linux under 2% random loss that bound let a recovery that began with the pipe empty (every
    // segment after the hole SACKed, the usual case with Linux's compressed SACKs) send only the retransmission, which
    // was then the last segment in flight: if it or its one ACK was lost, only the RTO was left. With the SMSS a new
    // segment follows it, whose SACK or ACK shows the loss or covers the lost ACK. With the duplicate-ACK rule the
    // timeouts per 100 MB fell from 33-41 to 14-31 (as before PRR); with RACK the change was within the noise
    // (docs/benchmarks.md, session 11). An ACK that delivers nothing changes nothing.
    // The first ACK of an episode always lets the fast retransmission out (as Linux does, and the RFC's examples assume).
    private void PrrOnAck()
    {
        var loss = Loss;
        uint delivered = (_sndUna - loss.PrrUnaBefore) + (uint)Math.Max(0, (long)SackedBytes() - loss.PrrSackedBefore);
        if (delivered == 0 && loss.PrrOut != 0) return;
        loss.PrrDelivered += delivered;
        uint pipe = Pipe();
        long sendCount;
        if (pipe > _ssthresh)
        {
            // Proportional part: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
            ulong target = ((ulong)loss.PrrDelivered * _ssthresh + loss.PrrRecoverFs - 1) / loss.PrrRecoverFs;
            sendCount = (long)target - loss.PrrOut;
            _table.Statistics.PrrProportionalAcksCount++;
        }
        else
        {
            long limit = Math.Max((long)loss.PrrDelivered - loss.PrrOut, delivered) + _mss;
            sendCount = Math.Min((long)_ssthresh - pipe, limit);
            _table.Statistics.PrrBoundAcksCount++;
        }
        if (loss.PrrOut == 0) sendCount = Math.Max(sendCount, _mss);
        Cwnd = (uint)Math.Clamp(pipe + Math.Max(sendCount, 0), _mss, MaxCongestionWindow);
    }

    private void NotePrrSent(int length)
    {
        if (_inRecovery && _pipeRecovery) Loss.PrrOut += (uint)length;
    }
}
