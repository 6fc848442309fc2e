using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

/// <summary>Takes in-order bytes straight from a received frame (<see cref="TcpConnection.DirectReceiver"/>); returns how many it took.</summary>
internal delegate int DirectReceive(ReadOnlySpan<byte> data);

public sealed partial class TcpConnection
{
    /// <summary>RCV.NXT (for tests).</summary>
    internal uint ReceiveNext => _rcvNxt;
    /// <summary>The receive ring's array length now (for tests: whether a segment can be staged without growing it).</summary>
    internal int ReceiveStorageLength => _receive.StorageLength;

    /// <summary>
    /// Header prediction (Van Jacobson's, as Linux's <c>tcp_rcv_established</c> fast path): in a steady transfer almost
    /// every segment is either a pure ACK for new data or the next in-order data segment, with an unchanged window and no
    /// SACK information. For those, RFC 9293 3.10.7.4's checks all pass in a known way, so this takes the segment with
    /// only the work that changes state; anything else (returns false) goes through <see cref="OnSegment"/>, which
    /// gives the same result for these segments, only slower.
    /// </summary>
    internal bool TryFastPath(in TcpSegment segment, in TcpOptions options, TimeSpan now)
    {
        if (!FastPathPredicts(segment, options)) return false;
        TakeFastPath(segment, options, now, staged: false);
        return true;
    }

    /// <summary>
    /// True when <paramref name="segment"/> takes the fast path with data that the receive ring can stage as it is: the
    /// caller then verifies the checksum while copying (<see cref="StageFastPathData"/>), and on a good sum takes it with
    /// <see cref="TakeFastPath"/> (staged); on a bad one it drops the segment and nothing here has changed.
    /// </summary>
    internal bool FastPathStagesData(in TcpSegment segment, in TcpOptions options)
        => !segment.Payload.IsEmpty && FastPathPredicts(segment, options) && _receive.CanStage(segment.Payload.Length);

    /// <summary>Copies the payload past the readable bytes (not yet readable) and returns <paramref name="sum"/> with its sum added.</summary>
    internal uint StageFastPathData(ReadOnlySpan<byte> payload, uint sum) => _receive.StageAndSum(payload, sum);

    /// <summary>
    /// An application on the stack's thread that takes in-order data straight from the frame the link lent (lwIP's
    /// <c>tcp_recv</c> callback, without its pbuf): the bytes then skip the receive ring, one copy fewer. Called from
    /// <see cref="TakeFastPath"/> for a segment whose checksum is known good (the link vouched for it, or it was summed
    /// before it came here; a staged one is already in the ring)
    /// and only while the ring is empty, so the order of the bytes holds; it returns how many it took, and the rest goes
    /// into the ring as usual (readable, <see cref="Ready"/> raised). It must not call back into the connection or the
    /// stack, and keeps no reference to the span. The gateway's relay uses it (docs/gateway.md).
    /// </summary>
    internal DirectReceive? DirectReceiver { get; set; }

    // Out of line (NoInlining): TakeFastPath is the pure ACK's path too, and stays as small as it was.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void DeliverDirect(DirectReceive direct, ReadOnlySpan<byte> payload)
    {
        int taken = direct(payload);
        if ((uint)taken > (uint)payload.Length) taken = taken < 0 ? 0 : payload.Length;
        _table.Statistics.DirectReceivedBytes += taken;
        if (taken < payload.Length) _receive.Write(0, payload[taken..]);
    }

    // The prediction alone: no state is changed.
    private bool FastPathPredicts(in TcpSegment segment, in TcpOptions options)
    {
        // The prediction: ESTABLISHED (or CLOSE-WAIT for an ACK, FIN-WAIT-2 for data, where RFC 9293 does the same with
        // them), ACK (and perhaps PSH) alone, the next sequence number, a window that is not zero, no SACK blocks, no
        // recovery or duplicate ACKs being counted.
        bool takesText = State is TcpState.Established or TcpState.FinWait2;
        if (!(takesText || State == TcpState.CloseWait) || (segment.Flags & ~TcpFlags.Psh) != TcpFlags.Ack || segment.SequenceNumber != _rcvNxt
            || segment.WindowSize == 0 || options.SackBlocks.Count > 0 || _inRecovery || _dupAcks != 0 || RackBusy)
            return false;
        uint ack = segment.AcknowledgmentNumber;
        if (Seq.Lt(ack, _sndUna) || Seq.Gt(ack, _sndNxt)) return false;
        if (_timestamps)
        {
            // RFC 7323 5.3 (PAWS) passes only for a timestamp not older than TS.Recent; no timestamp: the slow path decides.
            if (options.Timestamp is not TcpTimestamp ts || (int)(ts.Value - _tsRecent) < 0) return false;
        }
        var payload = segment.Payload;
        if (payload.IsEmpty ? ack == _sndUna                   // a duplicate ACK: counted by the slow path
                : !takesText || _receive.Ranges > 0 || _pendingFinSequence is not null || payload.Length > _receive.Window)
            return false;                                      // data out of order, or cut by the window
        return true;
    }

    /// <summary>
    /// Takes a segment <see cref="FastPathPredicts"/> said yes to; with <paramref name="staged"/> its payload is already
    /// in the receive ring (<see cref="StageFastPathData"/>) and is only made readable.
    /// </summary>
    internal void TakeFastPath(in TcpSegment segment, in TcpOptions options, TimeSpan now, bool staged)
    {
        // Each header field read once (the getters were calls here, the JIT's inlining budget spent).
        uint ack = segment.AcknowledgmentNumber, sequence = segment.SequenceNumber;
        uint tsValue = _timestamps ? options.Timestamp.GetValueOrDefault().Value : 0;   // FastPathPredicts saw it present
        var payload = segment.Payload;
        _lastReceived = now;
        _keepaliveProbes = 0;
        if (_timestamps && Seq.Le(sequence, _lastAckSent)) _tsRecent = tsValue;   // RFC 7323 4.3
        TakeWindowUpdate(sequence, segment.WindowSize, ack);
        if (ack != _sndUna)
        {
            bool batch = BatchesAckWork;
            RackOnCumulativeAck(ack, now, batch);   // RACK is not busy here: the records of the acknowledged prefix go
            OnNewAck(ack, options, now, batch);
        }
        // An ACK that opens the window or frees cwnd may let queued data or a queued FIN out.
        if (DataOffset(_sndNxt) < _send.Count || (_finQueued && !_finSent)) _table.MarkPending(this);
        if (payload.IsEmpty)
        {
            _table.Statistics.FastPathAcksCount++;
            _table.ScheduleEarlier(this, _retransmitAt);
            _table.ScheduleEarlier(this, _probeAt);
            return;
        }

        _table.Statistics.FastPathDataCount++;
        if (staged) _receive.CommitStaged(payload.Length);
        else if (DirectReceiver is { } direct && _receive.Readable == 0) DeliverDirect(direct, payload);
        else _receive.Write(0, payload);
        _rcvNxt += (uint)payload.Length;
        CountSegmentForAck(payload.Length, now);
        _table.MarkPending(this);
        Notify();
    }
}
