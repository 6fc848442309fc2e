using TcpIpSharp.Storage;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

/// <summary>
/// One TCP connection (RFC 9293): its control block, send and receive rings, timers and congestion state.
/// Used on the stack thread only. <see cref="Send"/> and <see cref="Receive"/> move bytes between the caller's
/// spans and the rings (one copy each way); the stack transmits what is due on its next poll.
/// </summary>
public sealed partial class TcpConnection
{
    private readonly TcpTable _table;
    private readonly ITcpOutput _output;
    private readonly TcpConnectionOptions _options;
    private readonly SendRing _send;
    private readonly ReceiveRing _receive;
    private readonly int _receiveScaleWanted;

    // RFC 9293 3.3.1 send and receive sequence variables.
    private uint _iss, _sndUna, _sndNxt, _sndMax, _sndWnd, _sndWl1, _sndWl2, _maxSndWnd;
    // Once the SYN is acknowledged it stays so: Seq.Le(SND.UNA, ISS) reads true again after 2^31 bytes have been sent.
    private bool _synAcknowledged;
    private uint _irs, _rcvNxt, _rcvAdvertisedRight;
    private int _sndScale, _rcvScale;
    private int _mss = 536;                    // what we may send per segment (RFC 9293 3.7.1 default)
    private bool _timestamps, _sack;
    private uint _tsRecent, _lastAckSent;
    private readonly uint _tsOffset;

    private bool _finQueued, _finSent;         // the user closed its side / our FIN is in the sequence space
    private uint? _finSequence;                // where our FIN sits, once sent the first time
    private bool _finReceived;
    private uint? _pendingFinSequence;         // a FIN seen beyond a gap

    // Timers (null: not running).
    private Deadline _retransmitAt = Deadline.None, _delayedAckAt = Deadline.None, _timeWaitUntil = Deadline.None, _finWait2Until = Deadline.None, _persistAt = Deadline.None, _keepaliveAt = Deadline.None;
    private Deadline _persistSince = Deadline.None;           // when the peer's zero window began holding our data (RFC 6429 user timeout)
    private TimeSpan _lastReceived, _lastProgress;
    private int _retransmissions, _persistBackoff, _keepaliveProbes;
    private bool _ackNow;
    private int _unackedSegments;

    // RFC 6298 round-trip estimation.
    private TimeSpan _srtt, _rttvar, _rto;
    private bool _haveRtt;
    private uint _rttSequence;
    private TimeSpan _rttStart;
    private bool _rttTiming;

    // Congestion control: NewReno (RFC 5681, RFC 6582) with SACK-guided retransmission of holes.
    private uint _ssthresh = uint.MaxValue, _recover, _highRetransmitted;
    private uint _cwnd;
    // Issue 18 item 4: the window growth of in-order ACKs taken by the fast path is added up and given to the congestion
    // control once per batch (when the connection is flushed at the end of the poll, or when the window is read first),
    // instead of once per ACK: one CUBIC step for a batch of 32 ACKs. The growth of either algorithm is linear in the
    // bytes acknowledged within one poll (slow start adds them; congestion avoidance adds acked/cwnd at one time), so the
    // window after the batch is the same within rounding; RFC 5681 3.1 counts bytes, not ACKs (RFC 3465).
    private uint _cwndGrowthPending;

    /// <summary>The congestion window, with any growth still pending from the batch's fast-path ACKs added first.</summary>
    private uint Cwnd
    {
        get
        {
            if (_cwndGrowthPending != 0) SettleCwndGrowth();
            return _cwnd;
        }
        set
        {
            if (_cwndGrowthPending != 0) SettleCwndGrowth();
            _cwnd = value;
        }
    }

    // The same rule on both paths, so that the fast path changes nothing but speed (FastPathTests): the frame came in a
    // batch of several, or this connection's output pass is already due in this poll.
    private bool BatchesAckWork => Pending || _table.InBatch;

    // The RTT sample of a batch of ACKs (BatchesAckWork; -1: none yet): the first ACK's, from the oldest segment the
    // batch acknowledges, given to the estimator once when the batch is settled (SettleAckBatch), on either path, so
    // header prediction changes nothing but speed. RFC 6298 asks for at least one sample per RTT; Linux takes one per
    // ACK, and a batch's later ACKs only add samples of segments sent later in the same flight.
    private int _batchRttTicks = -1;   // an int (214 s) for the 1 KB of an idle connection; a longer RTT counts as that

    private void NoteBatchRtt(long ticks)
    {
        if (ticks > 0 && _batchRttTicks < 0) _batchRttTicks = (int)Math.Min(ticks, int.MaxValue);
        if (_batchRttTicks >= 0 || _rackPopPending) _table.MarkPending(this);   // settled when the poll flushes it
    }

    // The per-batch work of the ACKs taken in this poll, done before anything reads what it changes: RACK's deferred
    // pop, then the batch's RTT sample and the retransmission timer restarted with the RTO it gives (RFC 6298 5.3, at
    // the batch's clock reading, _lastProgress, even when a timer is what settles it).
    private void SettleAckBatch()
    {
        if (_rackPopPending) RackSettlePop();
        if (_batchRttTicks < 0) return;
        long ticks = _batchRttTicks;
        _batchRttTicks = -1;
        SampleRttTicks(ticks);
        if (_retransmitAt.HasValue && _sndUna != _sndMax) _retransmitAt = _lastProgress + _rto;
    }

    private void SettleCwndGrowth()
    {
        uint acked = _cwndGrowthPending;
        _cwndGrowthPending = 0;
        // The table's time is the poll's, that of the ACKs added up (they all arrived in this poll).
        _cwnd = Math.Min(_congestion.OnAck(_cwnd, _ssthresh, acked, _mss, _table.Now, _srtt), MaxCongestionWindow);
    }
    private Deadline _probeAt = Deadline.None;                // RFC 8985 tail loss probe
    private bool _probed;
    private NetError _softError;
    private uint _limitedTransmit;
    private int _dupAcks;
    private bool _inRecovery;
    // The SACK scoreboard (16 blocks) and the recent out-of-order arrivals, allocated on first use: a connection on a
    // clean path never needs them, and they were 216 of an idle connection's bytes (issue 18: at most 1 KB each).
    private const int SackScoreboardSize = 16;
    private uint[] _sackLeft = [], _sackRight = [];
    private uint[] _sackRecent = [];   // newest first: sequence numbers of out-of-order arrivals
    private int _sackRecentCount;
    // RFC 2883: the duplicate data of the segment just received, reported once as the first SACK block of the next ACK
    // (the range, in LossState, while _dsackPending).
    private bool _dsackPending;

    private sealed partial class LossState
    {
        public uint DsackLeft, DsackRight;
    }
    private readonly ICongestionControl _congestion;
    private int _sackCount;

    internal TcpConnection(TcpTable table, ITcpOutput output, TcpConnectionOptions options, IpAddress localAddress, ushort localPort,
        IpAddress remoteAddress, ushort remotePort, uint iss, uint tsOffset, TimeSpan now)
    {
        _table = table;
        _output = output;
        _options = options;
        LocalAddress = localAddress;
        LocalPort = localPort;
        RemoteAddress = remoteAddress;
        RemotePort = remotePort;
        _send = new SendRing(table.Buffers, options.SendBufferSize);   // storage rented as data comes (BufferPool)
        _receive = new ReceiveRing(table.Buffers, options.ReceiveBufferSize, options.MaxOutOfOrderRanges);
        _iss = iss;
        _sndUna = _sndNxt = _sndMax = iss;
        _tsOffset = tsOffset;
        _rto = options.InitialRetransmissionTimeout;
        _congestion = options.CongestionControl == CongestionControlKind.NewReno ? new NewRenoCongestionControl(options.SlowStartAckLimit) : new CubicCongestionControl(options.SlowStartAckLimit);
        // RFC 7323 2.3: the smallest shift that lets the window cover the whole ring.
        _receiveScaleWanted = ScaleFor(options);
        _lastReceived = _lastProgress = now;
    }

    /// <summary>The connection's state.</summary>
    public TcpState State { get; private set; }
    /// <summary>Our address.</summary>
    public IpAddress LocalAddress { get; }
    /// <summary>Our port.</summary>
    public ushort LocalPort { get; }
    /// <summary>The peer's address.</summary>
    public IpAddress RemoteAddress { get; }
    /// <summary>The peer's port.</summary>
    public ushort RemotePort { get; }
    // The IP header in front of every segment: 20 bytes for IPv4, 40 for IPv6 (RFC 8200; extension headers we never send).
    private int IpHeaderSize => RemoteAddress.IsIpv4 ? Ipv4Header.MinimumSize : 40;
    /// <summary>Why the connection failed (reset, refused, timed out), or None.</summary>
    public NetError Error { get; private set; }
    /// <summary>Called on the stack thread when the connection becomes readable, writable, established or closed.</summary>
    public Action<TcpConnection>? Ready { get; set; }
    /// <summary>Bytes ready to read.</summary>
    public int Available => _receive.Readable;
    /// <summary>Room in the send ring.</summary>
    public int SendSpace => IsSendOpen ? _send.Free : 0;
    /// <summary>The most bytes the send ring holds (the options' <see cref="TcpConnectionOptions.SendBufferSize"/>).</summary>
    internal int SendBufferCapacity => _send.Capacity;
    /// <summary>Bytes in the send ring: sent and not yet acknowledged, and not yet sent.</summary>
    internal int SendQueued => _send.Count;
    /// <summary>True once the peer's FIN arrived and every byte before it was read.</summary>
    public bool IsEndOfStream => _finReceived && _receive.Readable == 0;
    /// <summary>True while the user may still send.</summary>
    public bool IsSendOpen => !_finQueued && State is TcpState.Established or TcpState.CloseWait or TcpState.SynSent or TcpState.SynReceived;
    /// <summary>Disables Nagle's algorithm.</summary>
    public bool NoDelay { get; set; }
    /// <summary>The segment size we send (the peer's MSS, lowered by the path).</summary>
    public int MaximumSegmentSize => _mss;
    /// <summary>Smoothed round-trip time (RFC 6298), zero before the first sample.</summary>
    public TimeSpan SmoothedRoundTripTime => _srtt;
    /// <summary>Current retransmission timeout.</summary>
    public TimeSpan RetransmissionTimeout => _rto;
    /// <summary>Congestion window in bytes.</summary>
    public long CongestionWindow => Cwnd;
    /// <summary>The congestion-control algorithm's name.</summary>
    public string CongestionControl => _congestion.Name;
    /// <summary>Segments retransmitted on this connection.</summary>
    public long Retransmits { get; private set; }
    internal bool IsUserClosed { get; private set; }
    private bool _buffersReleased;
    internal TcpListener? Listener { get; set; }
    internal bool Pending { get; set; }
    /// <summary>The deadline of this connection's live entry in the table's timer heap (MaxValue: none).</summary>
    internal TimeSpan TimerAt { get; set; } = TimeSpan.MaxValue;
    internal TcpKey Key => _table.KeyFor(RemoteAddress, RemotePort, LocalAddress, LocalPort);
    /// <summary>
    /// Gateway mode: the SYN was taken (SYN-RECEIVED) but the SYN-ACK waits until the gateway has reached the guest's
    /// destination (<see cref="ReleaseSynAck"/>) or found it refuses (<see cref="Abort"/> sends the reset). Segments
    /// that arrive meanwhile are dropped; a reset closes it.
    /// </summary>
    internal bool SynAckHeld { get; private set; }

    /// <summary>Holds the SYN-ACK of a connection about to take its SYN (see <see cref="SynAckHeld"/>).</summary>
    internal void HoldSynAck() => SynAckHeld = true;

    /// <summary>Sends the held SYN-ACK: the handshake goes on as usual.</summary>
    internal void ReleaseSynAck(TimeSpan now)
    {
        if (!SynAckHeld || State != TcpState.SynReceived) return;
        SynAckHeld = false;
        SendSyn(now, ack: true);
        Arm(now);
        _table.MarkPending(this);
    }

    /// <summary>The peer's initial sequence number (its SYN's), for a gateway's ICMP error that quotes the SYN.</summary>
    internal uint InitialReceiveSequence => _irs;

    /// <summary>A reset arrived for a connection whose SYN-ACK is held: it closes without a word.</summary>
    internal void DropHeld() => SetClosed(NetError.ConnectionReset);

    /// <summary>
    /// Refuses a connection whose SYN-ACK is held, as a closed port would (RFC 9293 3.10.7.1: &lt;SEQ=0&gt;&lt;ACK=SEG.SEQ+SEG.LEN&gt;&lt;CTL=RST,ACK&gt;:
    /// a peer in SYN-SENT takes only a reset that acknowledges its SYN).
    /// </summary>
    internal void RefuseHeld(TimeSpan now)
    {
        if (!SynAckHeld) { Abort(); return; }
        IsUserClosed = true;
        Ready = null;
        SendControl(0, _rcvNxt, TcpFlags.Rst | TcpFlags.Ack, now);
        SetClosed(NetError.ConnectionRefused);
        ReleaseBuffersIfDone();
    }

    /// <summary>The control block in one line, relative sequence numbers (for debug snapshots and test failures).</summary>
    public override string ToString() =>
        $"{LocalPort}->{RemoteAddress}:{RemotePort} {State} una={_sndUna - _iss} nxt={_sndNxt - _iss} max={_sndMax - _iss} wnd={_sndWnd} cwnd={Cwnd} " +
        $"ssthresh={_ssthresh} rcv.nxt={_rcvNxt - _irs} rcv.wnd={ReceiveWindow} srtt={_srtt.TotalMilliseconds:0.###}ms rto={_rto.TotalMilliseconds}ms cc={_congestion.Name} rtx@{_retransmitAt.AsNullable?.TotalMilliseconds} " +
        $"queued={_send.Count} readable={_receive.Readable} ooo={_receive.Ranges} sacked={_sackCount} recovery={_inRecovery} fin={_finQueued}/{_finSent}/{_finReceived} pending={Pending}";

    /// <summary>Queues bytes to send; returns how many fit in the send ring (0 when full or closed for sending).</summary>
    public int Send(ReadOnlySpan<byte> data)
    {
        if (!IsSendOpen) return 0;
        int n = _send.Write(data);
        if (n > 0) _table.MarkPending(this);
        return n;
    }

    /// <summary>
    /// Room in the send ring to write into in place, at most <paramref name="want"/> bytes and contiguous (empty when
    /// the ring is full or sending is closed); <see cref="CommitSend"/> queues what was written. For a writer that reads
    /// straight into the ring (the gateway's receive from a host socket: one copy fewer than through a buffer).
    /// </summary>
    internal Span<byte> GetSendSpan(int want)
    {
        if (!IsSendOpen) return default;
        // Grow the storage by what the writer wants, but no more than it holds already when that is more (a short flow
        // keeps a small array; a long one doubles it up to the ring's size as before).
        return _send.GetWriteSpan(Math.Min(want, Math.Max(_send.StorageFree, SendSpanStep)));
    }

    private const int SendSpanStep = 16 * 1024;

    /// <summary>Queues <paramref name="count"/> bytes written into the span from <see cref="GetSendSpan"/>.</summary>
    internal void CommitSend(int count)
    {
        if (count <= 0) return;
        _send.Commit(count);
        _table.MarkPending(this);
    }

    /// <summary>
    /// Copies received bytes into <paramref name="buffer"/>: the count (&gt; 0), 0 at end of stream (the peer closed and
    /// everything was read), or -1 when nothing is ready yet or the connection failed (see <see cref="Error"/>).
    /// </summary>
    public int Receive(Span<byte> buffer, bool peek = false)
    {
        if (buffer.IsEmpty) return 0;
        int n = _receive.Read(buffer, peek);
        if (n > 0)
        {
            if (!peek) OnWindowOpened();
            return n;
        }
        return _finReceived ? 0 : -1;
    }

    /// <summary>Ends our side: a FIN follows the data already queued (half-close).</summary>
    public void Shutdown()
    {
        if (_finQueued) return;
        switch (State)
        {
            case TcpState.SynSent: case TcpState.Listen: case TcpState.Closed:
                SetClosed(NetError.None);
                break;
            case TcpState.SynReceived: case TcpState.Established: case TcpState.CloseWait:
                _finQueued = true;
                _table.MarkPending(this);
                break;
        }
    }

    /// <summary>Closes the connection: sends what is queued, then FIN; the stack frees it when the close completes.</summary>
    public void Close()
    {
        IsUserClosed = true;
        Ready = null;
        // RFC 9293 3.6 / RFC 2525 2.17: closing with unread data aborts with a reset.
        if (_receive.Readable > 0 && State is TcpState.Established or TcpState.CloseWait) { Abort(); return; }
        Shutdown();
        if (State == TcpState.FinWait2) _finWait2Until = _table.Now + _options.FinWait2Timeout;
        _table.MarkPending(this);
        ReleaseBuffersIfDone();
    }

    /// <summary>Aborts the connection with a reset (RFC 9293 3.10.5).</summary>
    public void Abort()
    {
        IsUserClosed = true;
        Ready = null;
        if (State is TcpState.SynReceived or TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.CloseWait)
            SendReset(_table.Now);
        SetClosed(NetError.None);
        ReleaseBuffersIfDone();
    }

    // ------------------------------------------------------------------ ICMP errors (RFC 1122 4.2.3.9, RFC 1191, RFC 5927)

    /// <summary>
    /// The neighbour our segments go through could not be resolved (ARP or Neighbour Discovery gave up): a connect in
    /// progress fails with EHOSTUNREACH at once, as on Linux, instead of retrying SYNs until its timeout; a synchronized
    /// connection keeps it as a soft error that explains a later timeout.
    /// </summary>
    internal void OnNeighbourUnreachable()
    {
        if (State == TcpState.SynSent) SetClosed(NetError.HostUnreachable);
        else _softError = NetError.HostUnreachable;
    }

    internal void OnIcmpError(NetError error, bool hard, int pathMtu, uint quotedSequence, TimeSpan now)
    {
        // RFC 5927 4.1: only an error quoting a sequence number we have sent and not had acknowledged is believed.
        if (!(Seq.Le(_sndUna, quotedSequence) && Seq.Lt(quotedSequence, Seq.Max(_sndMax, _sndUna + 1)))) { _table.Statistics.IcmpIgnoredCount++; return; }
        if (pathMtu > 0)
        {
            // RFC 1191 / RFC 8201: the path takes smaller packets.
            int mss = Math.Max(pathMtu - IpHeaderSize - TcpHeader.MinimumSize, 88);
            if (mss < _mss)
            {
                _mss = mss;
                _table.Statistics.MssLoweredCount++;
                // RFC 1191 6.5: not a congestion signal, but the resend starts slowly: one segment until ACKs arrive,
                // then slow start back up to the window we had.
                _ssthresh = Math.Max(_ssthresh, Cwnd);
                Cwnd = (uint)_mss;
                _sndNxt = _sndUna;   // resend what is outstanding in smaller segments
                _highRetransmitted = _sndUna;
                _inRecovery = _pipeRecovery = false;
                _undoArmed = false;
                _limitedTransmit = 0;   // RFC 5681 3.1: one segment means one, as after a timeout
                _table.MarkPending(this);
            }
            return;
        }
        // RFC 1122 4.2.3.9: protocol and port unreachable (codes 2, 3) are hard errors; net and host unreachable, time
        // exceeded and the rest are soft: TCP MUST NOT abort on them, and keeps them to explain a later timeout.
        // A hard error aborts a connect (RFC 1122 SHOULD); once synchronized it is soft too (RFC 5461). Unlike Linux, a
        // soft error does not abort a connect (RFC 5461 4 notes that this violates RFC 1122).
        if (hard && (State is TcpState.SynSent || (State == TcpState.SynReceived && Listener is null))) SetClosed(error);
        else _softError = error;
    }

    /// <summary>
    /// RFC 1122 4.2.2.13 and RFC 6191: a new SYN for this four-tuple may end TIME-WAIT and open a new connection when it
    /// cannot be an old duplicate: its timestamp is newer than the last one seen, or its timestamp is the same (or
    /// there are none) and its sequence number is above RCV.NXT.
    /// </summary>
    internal bool YieldsToNewSyn(TcpSegment segment, in TcpOptions options)
    {
        if (State != TcpState.TimeWait || (segment.Flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst)) != TcpFlags.Syn) return false;
        // A timestamp newer than the last one seen, or (as RFC 1122 and Linux's tcp_timewait_state_process) a sequence
        // number beyond RCV.NXT: timestamps tick once a millisecond, and a reconnect within the millisecond of the old
        // connection's last segment carries the same value, while its clock-driven ISN has moved on.
        // An older timestamp fails PAWS whatever the sequence number.
        int age = _timestamps && options.Timestamp is TcpTimestamp ts ? (int)(ts.Value - _tsRecent) : 0;
        bool newer = age > 0 || (age == 0 && Seq.Gt(segment.SequenceNumber, _rcvNxt));
        if (newer) SetClosed(NetError.None);
        return newer;
    }

    // ------------------------------------------------------------------ opening

    internal void Open(TimeSpan now)
    {
        State = TcpState.SynSent;
        _sndNxt = _iss + 1;
        _sndMax = _sndNxt;
        SendSyn(now, ack: false);
        Arm(now);
    }

    internal void AcceptSyn(TcpSegment segment, in TcpOptions options, TimeSpan now)
    {
        State = TcpState.SynReceived;
        TakeSynOptions(segment, options);
        _irs = segment.SequenceNumber;
        _rcvNxt = _irs + 1;
        _rcvAdvertisedRight = _rcvNxt;   // nothing advertised beyond RCV.NXT yet (0 would read as a right edge anywhere)
        _sndWnd = segment.WindowSize;   // RFC 7323 2.2: never scaled in a SYN
        _sndWl1 = segment.SequenceNumber;
        _sndWl2 = _iss;
        _sndNxt = _iss + 1;
        _sndMax = _sndNxt;
        if (SynAckHeld) return;   // gateway mode: ReleaseSynAck sends it
        SendSyn(now, ack: true);
        Arm(now);
    }

    /// <summary>Builds an established connection from a validated SYN cookie (RFC 4987 3.1) and processes the ACK that carried it.</summary>
    internal void AcceptCookie(TcpSegment segment, in TcpOptions options, int mss, int? windowScale, bool sack, TimeSpan now, bool ecn = false)
    {
        TakeEcnFromCookie(ecn);   // RFC 3168 6.1.1, kept in the cookie's timestamp (TcpConnection.Ecn.cs)
        _irs = segment.SequenceNumber - 1;
        _rcvNxt = segment.SequenceNumber;
        _sndUna = _sndNxt = _sndMax = _iss + 1;
        _synAcknowledged = true;
        _mss = Math.Min(mss, _output.MaxSegment(RemoteAddress) - TcpHeader.MinimumSize);
        if (_options.WindowScaling && windowScale is int ws)
        {
            _sndScale = Math.Min(ws, 14);
            _rcvScale = _receiveScaleWanted;
        }
        _timestamps = _options.Timestamps && options.Timestamp is not null;
        if (options.Timestamp is TcpTimestamp ts) _tsRecent = ts.Value;
        _sack = _options.SelectiveAcknowledgments && sack;
        Cwnd = (uint)Math.Min(_options.InitialWindowSegments * _mss, Math.Max(2 * _mss, 14600 * _options.InitialWindowSegments / 10));
        _sndWnd = (uint)segment.WindowSize << _sndScale;
        _maxSndWnd = _sndWnd;
        _sndWl1 = segment.SequenceNumber;
        _sndWl2 = segment.AcknowledgmentNumber;
        _lastAckSent = _rcvNxt;
        _rcvAdvertisedRight = _rcvNxt + (uint)Math.Min(_receive.Window, 65535);
        Established(now);
        if (State == TcpState.Established) OnSegment(segment, options, now);
    }

    /// <summary>The window-scale shift a connection with these options offers.</summary>
    internal static int ScaleFor(TcpConnectionOptions options) => options.WindowScale is int shift ? Math.Clamp(shift, 0, 14) : ScaleFor(options.ReceiveBufferSize);

    internal static int ScaleFor(int receiveBufferSize)
    {
        int shift = 0;
        while (shift < 14 && (65535L << shift) < receiveBufferSize) shift++;
        return shift;
    }

    private void TakeSynOptions(TcpSegment segment, in TcpOptions options)
    {
        int pathMss = _output.MaxSegment(RemoteAddress) - TcpHeader.MinimumSize;
        _mss = Math.Min(options.MaximumSegmentSize ?? 536, pathMss);   // RFC 9293 3.7.1: 536 when absent
        if (_options.WindowScaling && options.WindowScale is byte ws)
        {
            _sndScale = Math.Min((int)ws, 14);   // RFC 7323 2.3: at most 14
            _rcvScale = _receiveScaleWanted;
        }
        _timestamps = _options.Timestamps && options.Timestamp is not null;
        if (options.Timestamp is TcpTimestamp ts) _tsRecent = ts.Value;
        _sack = _options.SelectiveAcknowledgments && options.SackPermitted;
        Cwnd = (uint)Math.Min(_options.InitialWindowSegments * _mss, Math.Max(2 * _mss, 14600 * _options.InitialWindowSegments / 10));
        TakeEcnSetup(segment);   // RFC 3168 6.1.1 (TcpConnection.Ecn.cs)
    }

    // ------------------------------------------------------------------ segment arrives (RFC 9293 3.10.7)

    internal void OnSegment(TcpSegment segment, in TcpOptions options, TimeSpan now)
    {
        _lastReceived = now;
        _keepaliveProbes = 0;
        if (State == TcpState.SynSent) { OnSegmentInSynSent(segment, options, now); return; }
        if (!CheckTimestamp(segment, options, now)) return;
        if (State == TcpState.SynReceived && Listener is null && TakeSimultaneousSynAck(segment, now)) { RecordTimestamp(segment, options); return; }
        // RFC 9293 3.10.7.4: with a zero window a segment with SEG.LEN > 0 is not acceptable, but its ACK (and RST) is
        // still processed ("special allowance"): its text and FIN are not taken, and it is answered with an ACK.
        bool ackOnly = ReceiveWindow == 0 && segment.SequenceLength > 0;
        if (!CheckSequence(segment, now)) return;
        RecordTimestamp(segment, options);
        if ((segment.Flags & TcpFlags.Rst) != 0) { OnReset(segment, now); return; }
        if ((segment.Flags & TcpFlags.Syn) != 0) { ChallengeAck(now); return; }   // RFC 5961 4.2
        if ((segment.Flags & TcpFlags.Ack) == 0) return;
        if (!OnAck(segment, options, now)) return;
        if (_ecn && (segment.Flags & TcpFlags.Ece) != 0) OnEcnEcho(now);   // RFC 3168 6.1.2 (TcpConnection.Ecn.cs)
        if (State is TcpState.Closed) return;
        if (ackOnly)
        {
            _table.Statistics.OutOfWindowCount++;
            SendAck(now);
            return;
        }
        OnText(segment, now);
        OnFin(segment, now);
        if (_receive.Readable > 0 || _finReceived) Notify();
    }

    private void OnSegmentInSynSent(TcpSegment segment, in TcpOptions options, TimeSpan now)
    {
        var flags = segment.Flags;
        bool ack = (flags & TcpFlags.Ack) != 0;
        uint segAck = segment.AcknowledgmentNumber;
        if (ack && (Seq.Le(segAck, _iss) || Seq.Gt(segAck, _sndNxt)))
        {
            if ((flags & TcpFlags.Rst) == 0) SendControl(segAck, 0, TcpFlags.Rst, now);
            return;
        }
        if ((flags & TcpFlags.Rst) != 0)
        {
            if (ack) SetClosed(NetError.ConnectionRefused);   // RFC 9293: "error: connection reset" -> ECONNREFUSED
            return;
        }
        if ((flags & TcpFlags.Syn) == 0) return;
        TakeSynOptions(segment, options);
        _irs = segment.SequenceNumber;
        _rcvNxt = _irs + 1;
        _rcvAdvertisedRight = _rcvNxt;   // nothing advertised beyond RCV.NXT yet (0 would read as a right edge anywhere)
        if (ack)
        {
            _sndUna = segAck;
            _synAcknowledged = true;
            _sndWnd = segment.WindowSize;
            _sndWl1 = segment.SequenceNumber;
            _sndWl2 = segAck;
            _maxSndWnd = _sndWnd;
            if (!_haveRtt && _retransmissions == 0) SampleRtt(now - _rttStart);
            Established(now);
            _ackNow = true;
            _table.MarkPending(this);
        }
        else
        {
            // Simultaneous open (RFC 9293 3.5, figure 8).
            State = TcpState.SynReceived;
            _sndWnd = segment.WindowSize;
            SendSyn(now, ack: true);
        }
    }

    // RFC 9293 3.5 figure 8 (simultaneous open): the peer's SYN-ACK repeats its SYN (SEG.SEQ = IRS, left of the window)
    // and acknowledges ours; it completes the open, as Linux accepts it too. Its window is not scaled (RFC 7323 2.2).
    private bool TakeSimultaneousSynAck(TcpSegment segment, TimeSpan now)
    {
        uint ack = segment.AcknowledgmentNumber;
        if ((segment.Flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst)) != (TcpFlags.Syn | TcpFlags.Ack) || segment.SequenceNumber != _irs
            || !(Seq.Lt(_sndUna, ack) && Seq.Le(ack, _sndNxt)))
            return false;
        _sndUna = ack;
        _synAcknowledged = true;
        _sndWnd = segment.WindowSize;
        _sndWl1 = segment.SequenceNumber;
        _sndWl2 = ack;
        _maxSndWnd = _sndWnd;
        Established(now);
        return true;
    }

    // RFC 7323 5.3 R3, after the window check (R2): the timestamp of an acceptable segment that covers the last ACK sent
    // becomes TS.Recent (PAWS passed it, so it is not older). A duplicate wholly below RCV.NXT fails the window check and
    // leaves it, as in Linux (tcp_sequence before tcp_replace_ts_recent): a resend's newer TSval would otherwise make
    // PAWS drop the original of a later hole that the network held back (timestamps-duplicate-does-not-move-ts-recent.pkt).
    private void RecordTimestamp(TcpSegment segment, in TcpOptions options)
    {
        if (_timestamps && options.Timestamp is TcpTimestamp ts && (segment.Flags & TcpFlags.Rst) == 0 && Seq.Le(segment.SequenceNumber, _lastAckSent))
            _tsRecent = ts.Value;
    }

    // RFC 7323 5.3 (PAWS): an old timestamp on a non-RST segment is dropped with an ACK.
    private bool CheckTimestamp(TcpSegment segment, in TcpOptions options, TimeSpan now)
    {
        if (!_timestamps || options.Timestamp is not TcpTimestamp ts || (segment.Flags & TcpFlags.Rst) != 0) return true;
        if ((int)(ts.Value - _tsRecent) < 0)
        {
            _table.Statistics.PawsDropsCount++;
            // RFC 2883 4.1.1, as Linux's tcp_send_dupack: data below RCV.NXT is a duplicate however old its timestamp
            // (a segment held back in the network, arriving after its retransmission), and the ACK reports it. Without
            // this the sender never learns that its retransmission was needless, and cannot undo.
            uint seq = segment.SequenceNumber;
            if (!segment.Payload.IsEmpty && Seq.Lt(seq, _rcvNxt)) NoteDuplicate(seq, Seq.Min(seq + (uint)segment.Payload.Length, _rcvNxt));
            SendAck(now);
            return false;
        }
        return true;   // TS.Recent is recorded once the segment is known acceptable (OnSegment)
    }

    // RFC 9293 3.10.7.4 first: the segment acceptance test.
    private bool CheckSequence(TcpSegment segment, TimeSpan now)
    {
        uint seq = segment.SequenceNumber;
        int length = segment.SequenceLength;
        uint window = ReceiveWindow;
        bool ok = length == 0
            ? (window == 0 ? seq == _rcvNxt : Seq.InRange(seq, _rcvNxt, _rcvNxt + window))
            : window != 0 && (Seq.InRange(seq, _rcvNxt, _rcvNxt + window) || Seq.InRange(seq + (uint)length - 1, _rcvNxt, _rcvNxt + window));
        // A zero-window probe or old duplicate still deserves an ACK; a segment at RCV.NXT with a zero window keeps its ACK and RST.
        if (!ok && window == 0 && seq == _rcvNxt) ok = true;
        // RFC 5961 4.2 (RFC 9293 3.10.7.4 fourth): a SYN on a synchronized connection gets a (rate-limited) challenge
        // ACK irrespective of its sequence number; the caller sends it.
        if (!ok && (segment.Flags & (TcpFlags.Syn | TcpFlags.Rst)) == TcpFlags.Syn && State > TcpState.SynReceived) ok = true;
        if (ok) return true;
        if ((segment.Flags & TcpFlags.Rst) == 0)
        {
            // RFC 2883 4.1.1: data wholly below RCV.NXT was received before; the ACK reports it as a D-SACK block.
            if (length > 0 && !segment.Payload.IsEmpty && Seq.Le(seq + (uint)segment.Payload.Length, _rcvNxt))
                NoteDuplicate(seq, seq + (uint)segment.Payload.Length);
            // RFC 9293 3.10.7.4 (TIME-WAIT): a retransmission of the peer's FIN is acknowledged and restarts the 2 MSL timeout.
            if (State == TcpState.TimeWait && segment.Flags.HasFlag(TcpFlags.Fin)) _timeWaitUntil = now + _options.TimeWaitTimeout;
            _table.Statistics.OutOfWindowCount++;
            SendAck(now);
        }
        else
        {
            _table.Statistics.OutOfWindowCount++;   // RFC 5961 3.2: an out-of-window RST is dropped silently, but counted
        }
        return false;
    }

    // RFC 5961 3.2: reset only when the RST is exactly at RCV.NXT; otherwise a challenge ACK.
    private void OnReset(TcpSegment segment, TimeSpan now)
    {
        if (segment.SequenceNumber != _rcvNxt) { ChallengeAck(now); return; }
        _table.Statistics.ResetsReceivedCount++;
        switch (State)
        {
            case TcpState.SynReceived when Listener is not null:
                SetClosed(NetError.None);   // a passive open simply goes away (RFC 9293: back to LISTEN)
                break;
            case TcpState.TimeWait:
                break;   // RFC 1337 (fix F1): ignore a RST in TIME-WAIT rather than let it assassinate the connection
            case TcpState.Closing: case TcpState.LastAck:
                SetClosed(NetError.None);
                break;
            default:
                SetClosed(State == TcpState.SynReceived ? NetError.ConnectionRefused : NetError.ConnectionReset);
                break;
        }
    }

    private void ChallengeAck(TimeSpan now)
    {
        if (!_table.TakeChallengeAck(now)) return;   // RFC 5961 7: rate-limited
        _table.Statistics.ChallengeAcksCount++;
        SendAck(now);
    }

    // RFC 9293 3.10.7.4 fifth: the ACK field. Returns false when the segment is to be dropped.
    private bool OnAck(TcpSegment segment, in TcpOptions options, TimeSpan now)
    {
        uint ack = segment.AcknowledgmentNumber;
        if (State == TcpState.SynReceived)
        {
            if (!(Seq.Lt(_sndUna, ack) && Seq.Le(ack, _sndNxt)))
            {
                SendControl(ack, 0, TcpFlags.Rst, now);
                return false;
            }
            if (Listener is { IsAcceptQueueFull: true })
            {
                // RFC 9293 is silent; as Linux (tcp_abort_on_overflow = 0): ignore the ACK while the accept queue is full.
                // The SYN-ACK timer and the peer's next ACK complete the handshake once accept() has made room.
                _table.Statistics.ListenOverflowsCount++;
                return false;
            }
            _sndWnd = (uint)segment.WindowSize << _sndScale;
            _sndWl1 = segment.SequenceNumber;
            _sndWl2 = ack;
            _maxSndWnd = Math.Max(_maxSndWnd, _sndWnd);
            // The first RTT sample from the SYN-ACK, as on the active side and as Linux does; with timestamps the echo
            // gives it below; never from a retransmitted SYN-ACK (Karn, RFC 6298 3).
            if (!_timestamps && !_haveRtt && _retransmissions == 0) SampleRtt(now - _rttStart);
            Established(now);
        }
        // RFC 5961 5.2: acceptable ACKs lie within SND.UNA - MAX.SND.WND .. SND.NXT.
        if (Seq.Gt(ack, _sndNxt) && Seq.Gt(ack, _sndMax) || Seq.Lt(ack, _sndUna - Math.Max(_maxSndWnd, 1)))
        {
            _table.Statistics.AckForUnsentCount++;
            ChallengeAck(now);
            return false;
        }
        if (Seq.Gt(ack, _sndNxt)) _sndNxt = ack;   // an ACK for data sent before a timeout rewound SND.NXT

        int sackBlocks = 0;   // ordinary SACK blocks, a D-SACK block not counted
        if (_inRecovery || _sackCount != 0 || options.SackBlocks.Count > 0) NotePrrAckStart();
        if (_sack && options.SackBlocks.Count > 0) sackBlocks = TakeSackBlocks(options.SackBlocks, ack);
        uint oldWindow = _sndWnd;
        TakeWindowUpdate(segment.SequenceNumber, segment.WindowSize, ack);
        RackOnAck(ack, options, sackBlocks < options.SackBlocks.Count && _sack, now);   // RFC 8985 6.2, before recovery decides

        if (Seq.Gt(ack, _sndUna)) OnNewAck(ack, options, now, BatchesAckWork);
        else if (ack == _sndUna && segment.Payload.IsEmpty && (segment.Flags & TcpFlags.Fin) == 0 && Seq.Gt(_sndMax, _sndUna)
                 && (sackBlocks > 0 || (_sndWnd == oldWindow && !(_sack && options.SackBlocks.Count > 0))))
            // RFC 5681 counts a duplicate only with an unchanged window; RFC 6675 lets SACK information count
            // instead, which matters against receivers (Linux) whose window grows during the transfer. An ACK whose
            // only SACK block is a D-SACK reports a segment that arrived twice, not one missing: no duplicate (as in
            // Linux, where SACK connections count SACKed segments, not duplicate ACKs), else the ACKs of a go-back-N
            // resend after a spurious timeout would start a needless fast retransmit.
            OnDuplicateAck(now);
        RackAfterAck(now);   // RFC 8985: a segment RACK marked lost starts recovery, whatever kind of ACK showed it

        // An ACK that opens the window or frees cwnd may let queued data or the FIN go out.
        if (DataOffset(_sndNxt) < _send.Count || (_finQueued && !_finSent)) _table.MarkPending(this);

        // An ACK for the FIN sent before a timeout rewound the sender: the FIN is acknowledged, not to be sent again
        // (a second FIN one sequence number later could never be acknowledged).
        if (_finQueued && !_finSent && _finSequence is uint fin && Seq.Gt(_sndUna, fin)) _finSent = true;
        bool finAcked = _finSent && _sndUna == _sndMax;
        switch (State)
        {
            case TcpState.FinWait1 when finAcked:
                State = TcpState.FinWait2;
                if (IsUserClosed) _finWait2Until = now + _options.FinWait2Timeout;
                break;
            case TcpState.Closing when finAcked:
                EnterTimeWait(now);
                break;
            case TcpState.LastAck when finAcked:
                SetClosed(NetError.None);
                return false;
            case TcpState.TimeWait:
                // RFC 9293 3.10.7.4 fifth: acknowledge what arrives (a retransmitted FIN) and restart the 2 MSL timeout.
                // Only what occupies sequence space: answering bare ACKs would make two TIME-WAIT ends (a simultaneous
                // close) ACK each other forever; Linux is silent there too.
                _timeWaitUntil = now + _options.TimeWaitTimeout;
                if (segment.SequenceLength > 0) { _ackNow = true; _table.MarkPending(this); }
                break;
        }
        return true;
    }

    // Window update (RFC 9293 3.10.7.4, SND.WL1/WL2).
    private void TakeWindowUpdate(uint sequence, ushort window, uint ack)
    {
        if (!(Seq.Lt(_sndWl1, sequence) || (_sndWl1 == sequence && Seq.Le(_sndWl2, ack)))) return;
        _sndWnd = (uint)window << _sndScale;
        _sndWl1 = sequence;
        _sndWl2 = ack;
        _maxSndWnd = Math.Max(_maxSndWnd, _sndWnd);
        if (_sndWnd > 0) { _persistAt = _persistSince = null; _persistBackoff = 0; }
    }

    // RFC 9293 3.8.6.3: ACK at least every second full-sized segment; otherwise within the delayed-ACK time.
    private void CountSegmentForAck(int bytes, TimeSpan now)
    {
        _unackedSegments += Math.Max(1, bytes / Math.Max(_mss, 1));
        _table.ReceivedSinceFlush += bytes;
        if (_unackedSegments >= 2) _ackNow = true;
        else if (!_delayedAckAt.HasValue) _delayedAckAt = now + _options.DelayedAckTimeout;
    }

    // batchAckWork (the fast path's ACKs): the congestion window's growth and the tail probe's arming are left to the
    // connection's flush at the end of the poll, once per batch of ACKs (issue 18 item 4).
    private void OnNewAck(uint ack, in TcpOptions options, TimeSpan now, bool batchAckWork = false)
    {
        uint acked = ack - _sndUna;
        // Bytes of data acknowledged: the SYN and FIN take sequence space but no ring space.
        int dataAcked = (int)Math.Min(acked, (uint)_send.Count);
        // The window grows by data acknowledged (RFC 5681 3.1); the SYN's sequence number is not data.
        uint windowAcked = acked;
        if (SynOutstanding) { dataAcked = (int)Math.Min(Math.Max(acked, 1) - 1, (uint)_send.Count); windowAcked = Math.Max(acked, 1) - 1; }
        _send.Consume(dataAcked);
        _sndUna = ack;
        _synAcknowledged |= acked > 0;
        if (Seq.Lt(_sndNxt, _sndUna)) _sndNxt = _sndUna;
        _retransmissions = 0;
        _lastProgress = now;
        while (_sackCount > 0 && Seq.Le(_sackRight[0], _sndUna)) RemoveSack(0);
        if (_sackCount > 0 && Seq.Lt(_sackLeft[0], _sndUna)) _sackLeft[0] = _sndUna;
        if (Seq.Lt(_highRetransmitted, _sndUna)) _highRetransmitted = _sndUna;

        // RTT: from RACK's transmit records (clock ticks, not retransmitted), else from the echoed timestamp (RFC 7323
        // 4.1, whole milliseconds), else from the one timed segment (Karn's rule, RFC 6298 3).
        long rackRtt = _rackAckRttTicks;
        if (rackRtt >= 0 || rackRtt == RackRttDeferred)
        {
            // 0: acknowledged at the clock reading it was sent at (read in the same poll), below the clock's resolution.
            // In a batch, one sample for the batch: its first ACK's (NoteBatchRtt), taken when the batch is settled.
            if (batchAckWork) NoteBatchRtt(rackRtt);
            else if (rackRtt > 0) SampleRttTicks(rackRtt);
            if (_rttTiming && Seq.Gt(ack, _rttSequence)) _rttTiming = false;
        }
        else if (_timestamps && options.Timestamp is TcpTimestamp ts && ts.EchoReply != 0)
            SampleRtt(TimeSpan.FromMilliseconds(Math.Max(0, (int)(Timestamp(now) - ts.EchoReply))));
        else if (_rttTiming && Seq.Gt(ack, _rttSequence))
        {
            _rttTiming = false;
            SampleRtt(now - _rttStart);
        }

        if (_inRecovery)
        {
            if (Seq.Ge(ack, _recover))
            {
                // SACK recovery ends with cwnd = ssthresh (RFC 6937 3, as Linux's tcp_end_cwnd_reduction): PRR has
                // brought pipe there. Without SACK, RFC 6582 3.2 step 3 (full acknowledgment), option 1:
                // cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
                Cwnd = _pipeRecovery ? _ssthresh : Math.Min(_ssthresh, Math.Max(FlightSize, (uint)_mss) + (uint)_mss);
                _inRecovery = false;
                _pipeRecovery = false;
                UndoIfSpurious(options);   // RFC 3708 (D-SACK) or RFC 3522 (timestamps): every retransmission needless
            }
            else if (_pipeRecovery) OnPipeRecoveryAck(now);   // RFC 6675 5 (C): pipe decides, cwnd stays
            else
            {
                // Partial acknowledgment: retransmit the next hole, deflate the window.
                RetransmitNextHole(now);
                Cwnd = Cwnd > acked ? Cwnd - acked + (uint)_mss : (uint)_mss;
            }
        }
        // Capped at the largest window a peer can offer (RFC 7323 2.3: 2^30): a sender limited by the peer's window on a
        // lossless path otherwise grows cwnd for ever, and it wrapped (uint) to a few segments after about 4 GB.
        else if (windowAcked > 0)
        {
            if (batchAckWork)
            {
                if (_cwndGrowthPending > MaxCongestionWindow) SettleCwndGrowth();   // never near uint's end
                _cwndGrowthPending += windowAcked;   // given to the congestion control once per batch (above)
                _table.MarkPending(this);
            }
            else Cwnd = Math.Min(_congestion.OnAck(Cwnd, _ssthresh, windowAcked, _mss, now, _srtt), MaxCongestionWindow);
        }
        _dupAcks = 0;
        _limitedTransmit = 0;

        // RFC 6298 5.2/5.3: restart the timer while data is outstanding, stop it when all is acknowledged.
        _retransmitAt = _sndUna == _sndMax ? null : now + _rto;
        _probeAt = null;
        _probed = false;
        // A tail probe is armed by the output pass when data or a FIN goes out on it (OnAck marks the connection
        // for that); otherwise here, without an output pass for a pure ACK.
        if (_sndUna != _sndMax)
        {
            if (DataOffset(_sndNxt) < _send.Count || (_finQueued && !_finSent)) _table.MarkPending(this);
            else if (State is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.LastAck or TcpState.Closing)
            {
                if (batchAckWork) _table.MarkPending(this);   // Flush arms it, after the batch's last ACK
                else ArmTailProbe(now);
            }
        }
        if (_frto != FrtoStep.None) FrtoOnNewAck(ack, options, now);
        if (_send.Free > 0) Notify();
    }

    private void OnDuplicateAck(TimeSpan now)
    {
        if (_frto != FrtoStep.None) FrtoOnDuplicateAck();
        _dupAcks++;
        _table.Statistics.DuplicateAcksCount++;
        if (_inRecovery && _pipeRecovery) { OnPipeRecoveryAck(now); return; }
        if (_inRecovery)
        {
            Cwnd += (uint)_mss;   // RFC 5681 3.2 step 4: inflate for each segment that left the network
            // RFC 8985 in spirit: ACKs still arriving well after the first hole was resent mean the resend was lost too.
            if (now - Loss.UnaRetransmittedAt > Max(_srtt + _srtt / 4, TimeSpan.FromMilliseconds(2)))
            {
                _highRetransmitted = _sndUna;
                _table.Statistics.LostRetransmitsCount++;
            }
            RetransmitNextHole(now);
            return;
        }
        // RFC 5827 (early retransmit): with fewer than four segments outstanding and nothing new to send, fewer
        // duplicates can ever arrive, so the threshold drops to the outstanding segments minus one.
        int outstandingSegments = (int)((FlightSize + (uint)_mss - 1) / (uint)Math.Max(_mss, 1));
        int threshold = DataOffset(_sndNxt) < _send.Count && _sndWnd > FlightSize + (uint)_mss && Cwnd > FlightSize + (uint)_mss ? 3 : Math.Clamp(outstandingSegments - 1, 1, 3);
        // Only while no go-back-N resend (after a timeout) is under way: the allowance is for NEW data (RFC 3042 2).
        if (_dupAcks < threshold && _dupAcks <= 2 && !Seq.Lt(_sndNxt, _sndMax))
        {
            // RFC 3042 (limited transmit): each of the first two duplicates lets one new segment out beyond cwnd.
            _limitedTransmit = (uint)(_dupAcks * _mss);
            _table.MarkPending(this);
        }
        if (_sack)
        {
            // RFC 6675 5: enter recovery on DupThresh duplicates or when the scoreboard shows the first segment lost.
            // With RACK (RFC 8985) the duplicate count decides nothing: RackAfterAck enters recovery on RACK's marks.
            if (!RackEnabled && (_dupAcks >= threshold || IsLost(_sndUna))) EnterPipeRecovery(now);
            return;
        }
        if (_dupAcks >= threshold)
        {
            // RFC 5681 3.2 / RFC 6582: fast retransmit, then fast recovery.
            _ssthresh = _congestion.OnLoss(Cwnd, Math.Min(FlightSize, Cwnd), _mss, now, timeout: false);   // RFC 5681 3.2 step 2
            _recover = _sndMax;
            _inRecovery = true;
            _highRetransmitted = _sndUna;
            _table.Statistics.FastRetransmitsCount++;
            RetransmitNextHole(now);
            Cwnd = _ssthresh + 3 * (uint)_mss;
        }
    }

    private uint FlightSize => _sndMax - _sndUna;

    // ------------------------------------------------------------------ SACK scoreboard (RFC 2018, RFC 6675 in spirit)

    // Takes the SACK blocks of an ACK into the scoreboard; returns how many were ordinary SACK blocks. RFC 2883 4: the
    // first block is a D-SACK when it lies below the cumulative ACK or inside the second block; it reports data that
    // arrived twice, never data held beyond a hole, so it is counted and kept out of the scoreboard (and out of
    // IsLost and pipe).
    private int TakeSackBlocks(TcpSackBlocks blocks, uint ack)
    {
        int first = 0;
        var block0 = blocks[0];
        if (Seq.Lt(block0.Left, ack) || (blocks.Count > 1 && Seq.Ge(block0.Left, blocks[1].Left) && Seq.Le(block0.Right, blocks[1].Right)))
        {
            first = 1;
            _table.Statistics.DsackReceivedCount++;
            OnDuplicateReported(block0.Left, block0.Right);
        }
        if (_sackLeft.Length == 0 && blocks.Count > first) { _sackLeft = new uint[SackScoreboardSize]; _sackRight = new uint[SackScoreboardSize]; }
        for (int b = first; b < blocks.Count; b++)
        {
            var block = blocks[b];
            uint left = Seq.Max(block.Left, _sndUna), right = block.Right;
            if (!Seq.Lt(left, right) || Seq.Gt(right, _sndMax)) continue;   // D-SACK, stale or bogus: ignore
            int i = 0;
            while (i < _sackCount && Seq.Lt(_sackRight[i], left)) i++;
            int j = i;
            while (j < _sackCount && Seq.Le(_sackLeft[j], right)) { left = Seq.Min(left, _sackLeft[j]); right = Seq.Max(right, _sackRight[j]); j++; }
            if (j == i && _sackCount == _sackLeft.Length) continue;   // scoreboard full: keep what we have
            int remove = j - i;
            if (remove == 0)
            {
                Array.Copy(_sackLeft, i, _sackLeft, i + 1, _sackCount - i);
                Array.Copy(_sackRight, i, _sackRight, i + 1, _sackCount - i);
                _sackCount++;
            }
            else if (remove > 1)
            {
                Array.Copy(_sackLeft, j, _sackLeft, i + 1, _sackCount - j);
                Array.Copy(_sackRight, j, _sackRight, i + 1, _sackCount - j);
                _sackCount -= remove - 1;
            }
            _sackLeft[i] = left;
            _sackRight[i] = right;
        }
        return blocks.Count - first;
    }

    private void RemoveSack(int i)
    {
        Array.Copy(_sackLeft, i + 1, _sackLeft, i, _sackCount - i - 1);
        Array.Copy(_sackRight, i + 1, _sackRight, i, _sackCount - i - 1);
        _sackCount--;
    }

    // Retransmits the first unacknowledged, un-SACKed segment at or after the last one retransmitted in this recovery.
    private void RetransmitNextHole(TimeSpan now)
    {
        uint from = Seq.Max(_sndUna, _highRetransmitted);
        for (int i = 0; i < _sackCount; i++)
        {
            if (Seq.Lt(from, _sackLeft[i])) break;
            if (Seq.Lt(from, _sackRight[i])) from = _sackRight[i];
        }
        if (!Seq.Lt(from, _sndMax)) return;
        if (_sackCount > 0 && !Seq.Lt(from, _sackRight[_sackCount - 1]) && from != _sndUna) return;   // nothing known lost beyond the last SACK
        uint end = from + (uint)Math.Max(1, _mss - SegmentOptions(now).Length);
        for (int i = 0; i < _sackCount; i++) if (Seq.Gt(_sackLeft[i], from)) { end = Seq.Min(end, _sackLeft[i]); break; }
        end = Seq.Min(end, _sndMax);
        int dataEnd = DataOffset(end);
        int dataStart = DataOffset(from);
        if (from == _sndUna) Loss.UnaRetransmittedAt = now;
        if (dataEnd > dataStart) SendData(from, dataStart, dataEnd - dataStart, now, retransmit: true);
        else if (_finSent && end == _sndMax) SendControl(_sndMax - 1, 0, TcpFlags.Fin | TcpFlags.Ack, now);
        _highRetransmitted = end;
        _table.Statistics.SackRetransmitsCount += _sack && _sackCount > 0 ? 1 : 0;
    }

    private const uint MaxCongestionWindow = 1u << 30;

    // True until the SYN is acknowledged (it takes sequence space but no ring space).
    private bool SynOutstanding => !_synAcknowledged && Seq.Le(_sndUna, _iss);

    /// <summary>Data written but not sent yet (beyond the highest sequence number sent): the replay's recorded writes in
    /// fast mode wait for it, so that two writes the host made apart leave in separate segments.</summary>
    internal bool HasUnsentData => DataOffset(_sndMax) < _send.Count;

    // The offset in the send ring of sequence number <paramref name="seq"/> (clamped to the data held).
    private int DataOffset(uint seq)
    {
        uint dataStart = SynOutstanding ? _iss + 1 : _sndUna;
        return (int)Math.Clamp((long)(int)(seq - dataStart), 0, _send.Count);
    }

    // ------------------------------------------------------------------ text and FIN

    private void OnText(TcpSegment segment, TimeSpan now)
    {
        var payload = segment.Payload;
        if (payload.IsEmpty || State is not (TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)) return;
        int offset = (int)(segment.SequenceNumber - _rcvNxt);
        bool heldBeyond = _receive.Ranges > 0;
        if (_sack) NoteDuplicatePart(segment.SequenceNumber, offset, payload.Length);
        int grown = _receive.Write(offset, payload);
        if (grown < 0) { _table.Statistics.OutOfOrderDroppedCount++; _ackNow = true; _table.MarkPending(this); return; }
        // In-order growth other than this segment's new bytes means it was cut short or joined data queued beyond a gap.
        // RFC 5681 4.2: so does a segment that fills a gap, even one that covers all the data held beyond it.
        if (offset > 0 || (offset <= 0 && grown != payload.Length + offset) || _receive.Ranges > 0 || (heldBeyond && grown > 0))
        {
            // Out of order, or filling a gap (all of it too): acknowledge at once (RFC 5681 4.2), with SACK blocks.
            if (offset > 0)
            {
                _table.Statistics.OutOfOrderSegmentsCount++;
                NoteSackRecent(segment.SequenceNumber);
            }
            _ackNow = true;
        }
        if (grown > 0)
        {
            _rcvNxt += (uint)grown;
            if (_pendingFinSequence is uint fin && fin == _rcvNxt) { _pendingFinSequence = null; TakeFin(now); }
            CountSegmentForAck(grown, now);
        }
        _table.MarkPending(this);
    }

    // RFC 2883 4: the part of an acceptable segment already received: below RCV.NXT (a segment straddling it, 4.1.1's
    // partial duplicate), or out of order inside a range already held (4.1.2: the SACK block holding it follows, as the
    // range of the latest out-of-order segment comes first). Where a segment overlaps several held ranges, the part in
    // the first is reported (RFC 2883 reports one contiguous duplicate). Either draws an ACK at once.
    private void NoteDuplicatePart(uint sequence, int offset, int length)
    {
        if (offset < 0)
        {
            NoteDuplicate(sequence, _rcvNxt);
            _ackNow = true;
            return;
        }
        if (offset == 0) return;
        for (int i = 0; i < _receive.Ranges; i++)
        {
            var (start, end) = _receive.Range(i);
            if (start >= offset + length) return;
            if (end <= offset) continue;
            NoteDuplicate(_rcvNxt + (uint)Math.Max(start, offset), _rcvNxt + (uint)Math.Min(end, offset + length));
            return;
        }
    }

    // RFC 2883 4: remembers a duplicate range for the first SACK block of the next segment we send (only the latest:
    // a D-SACK block reports the duplicate in the most recent packet).
    private void NoteDuplicate(uint left, uint right)
    {
        if (!_sack) return;
        var loss = Loss;
        loss.DsackLeft = left;
        loss.DsackRight = right;
        _dsackPending = true;
    }

    // RFC 2018 4: remember which out-of-order ranges were reported most recently (by a sequence number inside each).
    private void NoteSackRecent(uint sequence)
    {
        if (_sackRecent.Length == 0) _sackRecent = new uint[TcpSackBlocks.MaximumCount];
        int n = Math.Min(_sackRecentCount, _sackRecent.Length - 1);
        Array.Copy(_sackRecent, 0, _sackRecent, 1, n);
        _sackRecent[0] = sequence;
        _sackRecentCount = n + 1;
    }

    private void OnFin(TcpSegment segment, TimeSpan now)
    {
        if ((segment.Flags & TcpFlags.Fin) == 0 || _finReceived) return;
        if (State is TcpState.Closed or TcpState.Listen or TcpState.SynSent) return;
        uint finSequence = segment.SequenceNumber + (uint)segment.Payload.Length;
        if (finSequence != _rcvNxt)
        {
            if (Seq.Gt(finSequence, _rcvNxt))
            {
                _pendingFinSequence = finSequence;
                // RFC 5681 4.2: an out-of-order segment (a FIN beyond a hole, too) draws an immediate duplicate ACK.
                _ackNow = true;
                _table.MarkPending(this);
            }
            return;
        }
        TakeFin(now);
    }

    private void TakeFin(TimeSpan now)
    {
        _finReceived = true;
        _rcvNxt++;
        _ackNow = true;
        _table.MarkPending(this);
        switch (State)
        {
            case TcpState.SynReceived: case TcpState.Established: State = TcpState.CloseWait; break;
            case TcpState.FinWait1: if (_finSent && _sndUna == _sndMax) EnterTimeWait(now); else State = TcpState.Closing; break;
            case TcpState.FinWait2: EnterTimeWait(now); break;
        }
        Notify();
    }

    private void Established(TimeSpan now)
    {
        if (_retransmissions > 0)
        {
            // The SYN or SYN-ACK was lost: RFC 5681 3.1, an initial window of one segment; RFC 6298 5.7, an RTO of
            // 3 s unless the handshake gave an RTT sample.
            Cwnd = (uint)_mss;
            if (!_haveRtt && _rto < TimeSpan.FromSeconds(3)) _rto = TimeSpan.FromSeconds(3);
        }
        State = TcpState.Established;
        _retransmitAt = Seq.Gt(_sndMax, _sndUna) ? now + _rto : null;
        _retransmissions = 0;
        _highRetransmitted = _sndUna;
        if (_options.KeepAlive) _keepaliveAt = now + _options.KeepAliveIdle;
        Listener?.OnEstablished(this);
        Notify();
    }

    private void EnterTimeWait(TimeSpan now)
    {
        State = TcpState.TimeWait;
        _retransmitAt = _persistAt = _persistSince = _finWait2Until = _keepaliveAt = _swsOverrideAt = null;
        _timeWaitUntil = now + _options.TimeWaitTimeout;
        _table.EnteredTimeWait(this);
        ReleaseBuffersIfDone();
        Notify();
    }

    /// <summary>Ends TIME-WAIT early: the table is full and a new connection needs the place (<see cref="TcpTable"/>).</summary>
    internal void EndTimeWait() => SetClosed(NetError.None);

    // Once the user has closed the connection and it is in TIME-WAIT or CLOSED, neither ring is needed again: the
    // send ring is empty (the FIN was acknowledged) or the connection is gone, and the user reads no more. The arrays
    // go back to the table's pool for the next connection (a TIME-WAIT connection then holds no ring memory either).
    private void ReleaseBuffersIfDone()
    {
        if (_buffersReleased || !IsUserClosed || State is not (TcpState.TimeWait or TcpState.Closed)) return;
        _buffersReleased = true;
        _send.Release();
        _receive.Release();
    }

    private void SetClosed(NetError error)
    {
        if (State == TcpState.Closed) return;
        State = TcpState.Closed;
        if (Error == NetError.None) Error = error;
        _retransmitAt = _delayedAckAt = _timeWaitUntil = _finWait2Until = _persistAt = _persistSince = _keepaliveAt = null;
        _table.Remove(this);
        ReleaseBuffersIfDone();
        Notify();
    }

    private void Notify() => Ready?.Invoke(this);

    private void OnWindowOpened()
    {
        // RFC 9293 3.8.6.2.2 (receiver SWS avoidance): announce a larger window once it grew by min(buffer/2, MSS).
        // Only what the window field can carry counts: a ring larger than 65535 << scale opens nothing new.
        uint right = _rcvNxt + Math.Min((uint)_receive.Window, 65535u << _rcvScale);
        if (Seq.Ge(right, _rcvAdvertisedRight + (uint)Math.Min(_receive.Capacity / 2, _mss)) && State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)
        {
            _ackNow = true;
            _table.MarkPending(this);
        }
    }

    // The window we offer: never shrinking the right edge already advertised (RFC 9293 3.8.6.2.2).
    private uint ReceiveWindow
    {
        get
        {
            uint right = Seq.Max(_rcvNxt + (uint)_receive.Window, _rcvAdvertisedRight);
            return right - _rcvNxt;
        }
    }
}
