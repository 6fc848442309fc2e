using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Storage;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

/// <summary>
/// Every TCP connection and listener of a stack: demultiplexing by hash of the four-tuple, listeners by port,
/// RFC 6528 initial sequence numbers, RFC 6056 ephemeral ports, resets for segments nobody owns, and the
/// timers (a min-heap) and output flush that run on each poll.
/// </summary>
internal sealed class TcpTable
{
    private readonly Dictionary<TcpKey, TcpConnection> _connections = new(64);
    private TcpConnection? _last;   // the connection the last segment found: always in _connections when not null
    private readonly Dictionary<ushort, TcpListener> _listeners = new(16);
    private readonly Dictionary<ushort, int> _localPortUse = new(64);
    // Timers: a min-heap of (connection, deadline) with lazy deletion. A connection's live entry is the one whose time equals
    // its TimerAt; an entry left behind when the deadline moved earlier, or for a removed connection, is skipped when it
    // surfaces. So a poll costs O(log n) per due timer, not a scan of every connection (10,000 idle ones cost nothing).
    private readonly PriorityQueue<TcpConnection, TimeSpan> _timers = new(64);
    // No entry of _timers is due before this (it may be earlier than the head, never later): lowered by every Enqueue,
    // set to the head's time by a poll that looked. Poll tests it instead of peeking at the heap.
    private TimeSpan _timersFloor = TimeSpan.MaxValue;
    private readonly List<TcpConnection> _due = new(64);
    private readonly Queue<TcpConnection> _timeWaits = new();   // connections as they entered TIME-WAIT, oldest first
    private List<TcpConnection> _pending = new(64), _flushing = new(64);
    private readonly ITcpOutput _output;
    private readonly IRandomSource _random;
    private readonly NetworkStackOptions _options;
    private readonly byte[] _isnKey = new byte[32];
    private readonly byte[] _cookieKey = new byte[32];
    // RFC 4987 3.1: three bits of the cookie name one of these MSS values (Linux's table, plus jumbo).
    private static readonly ushort[] CookieMss = [216, 536, 1200, 1300, 1360, 1440, 1460, 8960];
    private TokenBucket _challengeAcks = new(100, 100);   // RFC 5961 7: a rate limit on challenge ACKs

    public TcpTable(ITcpOutput output, IRandomSource random, NetworkStackOptions options, TcpCounters statistics)
    {
        _output = output;
        _random = random;
        _options = options;
        Statistics = statistics;
        Buffers = new BufferPool(Math.Max(0, options.TcpBufferPoolBytes));
        random.NextBytes(_isnKey);
        random.NextBytes(_cookieKey);
    }

    public TcpCounters Statistics { get; }

    /// <summary>Whether predicted segments take <see cref="TcpConnection.TryFastPath"/> (tests turn it off to compare).</summary>
    internal bool FastPath { get; set; } = true;
    /// <summary>Ring storage reused between connections.</summary>
    public BufferPool Buffers { get; }
    public TimeSpan Now { get; private set; }

    /// <summary>
    /// True while the stack processes a batch of more than one frame from the link: an in-order ACK then leaves its
    /// congestion-window growth and tail-probe arming to the connection's flush at the end of this poll, once for the
    /// batch (issue 18 item 4); an ACK alone in its poll does them at once, as before. Set by the stack per batch (and
    /// left as it is until the next: timers and API calls read the window through its settling getter).
    /// </summary>
    internal bool InBatch { get; set; }
    public int Count => _connections.Count;
    /// <summary>The connections, for invariant checks (a struct enumerator: checking allocates nothing).</summary>
    public Dictionary<TcpKey, TcpConnection>.ValueCollection Connections => _connections.Values;
    /// <summary>The listeners, for invariant checks.</summary>
    public Dictionary<ushort, TcpListener>.ValueCollection Listeners => _listeners.Values;

    /// <summary>One line per connection: state, sequence variables, windows, RTT and cwnd.</summary>
    public IReadOnlyList<string> Snapshot() => [.. _connections.Values.Select(c => c.ToString())];
    /// <summary>Our address toward <c>remote</c> for a connection we open (the family's source address selection).</summary>
    public Func<IpAddress, IpAddress> LocalAddressFor { get; set; } = _ => default;

    // ------------------------------------------------------------------ gateway mode

    /// <summary>
    /// Gateway mode: the listener that takes SYNs to any address and port no listener of ours has
    /// (<see cref="AnyDestinationFilter"/> decides which), and connections keyed by our address too. Set once, before
    /// any connection exists.
    /// </summary>
    public TcpListener? AnyDestination { get; private set; }
    /// <summary>Gateway mode: whether a SYN from (source, its port) to (destination, port) is taken; false answers it with a reset.</summary>
    public Func<IpAddress, ushort, IpAddress, ushort, bool>? AnyDestinationFilter { get; set; }
    /// <summary>Gateway mode: called with each connection the any-destination listener created, its SYN-ACK held.</summary>
    public Action<TcpConnection>? AnyDestinationSyn { get; set; }

    /// <summary>Turns gateway mode on: a listener (not in the port table) for every SYN to anywhere, SYN-ACKs held.</summary>
    public TcpListener ListenAnyDestination(int backlog, int synQueue, TcpConnectionOptions? options)
    {
        if (AnyDestination is not null || _connections.Count > 0) throw new InvalidOperationException("gateway mode is set once, before any connection");
        AnyDestination = new TcpListener(this, 0, Math.Max(1, backlog), Math.Max(1, synQueue), options ?? _options.Tcp) { SynCookies = false };
        return AnyDestination;
    }

    /// <summary>A connection's key: our address is part of it in gateway mode only.</summary>
    internal TcpKey KeyFor(IpAddress remote, ushort remotePort, IpAddress local, ushort localPort)
        => new(remote, remotePort, localPort, AnyDestination is null ? default : local);

    // ------------------------------------------------------------------ user calls

    public TcpListener Listen(ushort port, int backlog, TcpConnectionOptions? options)
    {
        if (_listeners.ContainsKey(port)) throw new InvalidOperationException($"TCP port {port} is already listening");
        var listener = new TcpListener(this, port, Math.Max(1, backlog), Math.Max(backlog, _options.TcpSynQueue), options ?? _options.Tcp);
        _listeners.Add(port, listener);
        return listener;
    }

    public bool IsListening(ushort port) => _listeners.ContainsKey(port);

    /// <summary>
    /// Whether a local port is taken by a listener or a connection (the socket layer's EADDRINUSE); with
    /// <paramref name="allowTimeWait"/> (SO_REUSEADDR) connections in TIME-WAIT do not count.
    /// </summary>
    public bool IsLocalPortInUse(ushort port, bool allowTimeWait)
    {
        if (_listeners.ContainsKey(port)) return true;
        if (_localPortUse.GetValueOrDefault(port) == 0) return false;
        if (!allowTimeWait) return true;
        foreach (var c in _connections.Values)
            if (c.LocalPort == port && c.State != TcpState.TimeWait) return true;
        return false;
    }

    /// <summary>The connection with this peer and local port, accepted or not (tests look at handshakes in progress).</summary>
    public TcpConnection? Find(IpAddress remote, ushort remotePort, ushort localPort)
        => AnyDestination is null ? _connections.GetValueOrDefault(new TcpKey(remote, remotePort, localPort)) : FindAnyLocal(remote, remotePort, localPort);

    private TcpConnection? FindAnyLocal(IpAddress remote, ushort remotePort, ushort localPort)
    {
        foreach (var c in _connections.Values)
            if (c.RemoteAddress == remote && c.RemotePort == remotePort && c.LocalPort == localPort) return c;
        return null;
    }

    public TcpConnection Connect(IpAddress remote, ushort remotePort, ushort localPort, TcpConnectionOptions? options, TimeSpan now)
    {
        if (_connections.Count >= _options.TcpMaxConnections)
        {
            Statistics.ConnectionLimitCount++;
            throw new ConnectionLimitException(_options.TcpMaxConnections);
        }
        if (localPort == 0) localPort = PickEphemeral(remote, remotePort);
        var key = KeyFor(remote, remotePort, LocalAddressFor(remote), localPort);
        if (_connections.ContainsKey(key)) throw new InvalidOperationException($"a connection from port {localPort} to {remote}:{remotePort} exists");
        var connection = Create(LocalAddressFor(remote), localPort, remote, remotePort, options ?? _options.Tcp, now);
        Statistics.ActiveOpensCount++;
        connection.Open(now);
        Track(connection);
        return connection;
    }

    // RFC 6056 3.3.1: a random start, then the next port free for this peer.
    private ushort PickEphemeral(IpAddress remote, ushort remotePort)
    {
        int first = _options.EphemeralPortFirst, count = _options.EphemeralPortLast - first + 1;
        int offset = (int)(_random.NextUInt32() % (uint)count);
        for (int i = 0; i < count; i++)
        {
            var port = (ushort)(first + (offset + i) % count);
            if (!_listeners.ContainsKey(port) && !_connections.ContainsKey(KeyFor(remote, remotePort, LocalAddressFor(remote), port))) return port;
        }
        throw new InvalidOperationException("no ephemeral TCP port is free");
    }

    private TcpConnection Create(IpAddress local, ushort localPort, IpAddress remote, ushort remotePort, TcpConnectionOptions options, TimeSpan now,
        uint? iss = null, uint? tsOffset = null)
    {
        var connection = new TcpConnection(this, _output, options, local, localPort, remote, remotePort,
            iss ?? InitialSequenceNumber(local, localPort, remote, remotePort, now), tsOffset ?? TimestampOffset(local, remote), now);
        _connections.Add(connection.Key, connection);
        _last = null;
        _localPortUse[localPort] = _localPortUse.GetValueOrDefault(localPort) + 1;
        return connection;
    }

    // RFC 6528: ISN = M + F(local, local port, remote, remote port, secret), M a 4-microsecond clock.
    private uint InitialSequenceNumber(IpAddress local, ushort localPort, IpAddress remote, ushort remotePort, TimeSpan now)
    {
        Span<byte> tuple = stackalloc byte[36];
        int n = local.WriteTo(tuple);
        BinaryPrimitives.WriteUInt16BigEndian(tuple[n..], localPort);
        n += 2;
        n += remote.WriteTo(tuple[n..]);
        BinaryPrimitives.WriteUInt16BigEndian(tuple[n..], remotePort);
        return (uint)SipHash.Hash(_isnKey.AsSpan(0, 16), tuple[..(n + 2)]) + (uint)(now.Ticks / 40);
    }

    // As Linux's secure_tcp_ts_off: the timestamp offset is a keyed hash of the two addresses, not of the ports, so
    // successive connections between two hosts carry timestamps from one clock. A SYN reusing a four-tuple whose old
    // connection is in TIME-WAIT at the peer is then newer than what that connection saw and opens a new one
    // (RFC 6191); with a random offset per connection the peer's PAWS check dropped one such SYN in 32 and the
    // connect waited a second for its retransmission.
    private uint TimestampOffset(IpAddress local, IpAddress remote)
    {
        Span<byte> pair = stackalloc byte[32];
        int n = local.WriteTo(pair);
        n += remote.WriteTo(pair[n..]);
        return (uint)SipHash.Hash(_isnKey.AsSpan(16, 16), pair[..n]);
    }

    // ------------------------------------------------------------------ segments

    /// <summary>
    /// A segment that arrived from <paramref name="source"/> to our <paramref name="destination"/> (either family), with
    /// its IP header's ECN field.
    /// </summary>
    /// <remarks>
    /// With <paramref name="verifyChecksum"/>, the segment's checksum is checked here, before anything changes:
    /// <paramref name="headerSum"/> is the running sum of the pseudo-header and the TCP header, and the payload is summed
    /// either while it is copied into the receive ring (an in-order data segment on the fast path, issue 18 item 2) or
    /// on its own first (every other segment). Returns false, having done nothing, when the sum is bad: the caller drops
    /// and counts the segment exactly as when it verified the whole segment itself.
    /// </remarks>
    public bool Process(IpAddress source, IpAddress destination, TcpSegment segment, TimeSpan now, IpEcn ecn = IpEcn.NotEct,
                        bool verifyChecksum = false, uint headerSum = 0)
    {
        Now = now;
        bool badOptions = TcpOptions.TryParse(segment.Options, out var options) != WireError.None;
        if (badOptions) options = default;   // RFC 9293 3.1 (MUST-7): an illegal option length must not crash; like Linux, ignore the rest
        var key = KeyFor(source, segment.SourcePort, destination, segment.DestinationPort);
        // The connection of the previous segment first (issue 18's one-entry cache): a batch read from the link is
        // mostly one busy connection's ACKs or data, and comparing one key costs less than hashing it.
        TcpConnection? connection = _last;
        bool known = connection is not null && connection.Key.Equals(key);
        if (!known)
        {
            known = _connections.TryGetValue(key, out connection);
            if (known) _last = connection;
        }
        bool staged = false;
        if (verifyChecksum)
        {
            if (known && FastPath && connection!.FastPathStagesData(segment, options))
            {
                // One pass: the payload is summed as it is copied into the ring, where it stays unreadable until taken.
                if (InternetChecksum.Finish(connection.StageFastPathData(segment.Payload, headerSum)) != 0) return false;
                staged = true;
            }
            // A pure ACK has no payload to add: the header's sum is the whole sum (the call and its folds skipped).
            else if (InternetChecksum.Finish(segment.Payload.IsEmpty ? headerSum : InternetChecksum.Add(headerSum, segment.Payload)) != 0) return false;
        }
        if (badOptions) Statistics.BadOptionsCount++;
        if (known && connection!.SynAckHeld)
        {
            // Gateway mode, the destination not reached yet: a retransmitted SYN waits with the first; a reset ends it.
            if ((segment.Flags & TcpFlags.Rst) != 0) connection.DropHeld();
            return true;
        }
        if (known && connection!.EcnNegotiated) connection.OnEcnArrival(segment, ecn, now);   // RFC 3168 6.1.3: CE and CWR, on either path
        if (staged) { connection!.TakeFastPath(segment, options, now, staged: true); return true; }
        if (known && FastPath && connection!.TryFastPath(segment, options, now)) return true;
        if (connection is not null && !connection.YieldsToNewSyn(segment, options))
        {
            connection.OnSegment(segment, options, now);
            if (!connection.Pending) Scheduled(connection);   // a pending one is scheduled after its flush, later in this poll
            return true;
        }
        return ProcessWithoutConnection(source, destination, segment, options, badOptions, now);
    }

    // A segment for no connection (a SYN to a listener, a cookie's ACK, or a reset): out of line, so that the JIT's
    // inlining budget for Process goes to the established connection's path (header prediction), not to this one.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool ProcessWithoutConnection(IpAddress source, IpAddress destination, TcpSegment segment, in TcpOptions options, bool badOptions, TimeSpan now)
    {
        var flags = segment.Flags;
        // In gateway mode our own listeners take only what is sent to our own address.
        bool ours = AnyDestination is null || LocalAddressFor(source) == destination;
        if (((ours && _listeners.TryGetValue(segment.DestinationPort, out var listener)) || TakeAnyDestination(source, segment, destination, out listener)) && (flags & TcpFlags.Rst) == 0)
        {
            if ((flags & TcpFlags.Ack) != 0)
            {
                if ((flags & TcpFlags.Syn) == 0 && listener.SynCookies && TryAcceptCookie(source, destination, segment, options, listener, now)) return true;
                Reset(source, destination, segment, now);   // RFC 9293 3.10.7.2: an ACK to a listener gets a reset
                return true;
            }
            // RFC 9293 3.10.7.2: in LISTEN, a segment with neither SYN nor ACK is dropped. A SYN with FIN (a scan, never
            // sent by a real opener) or with options that do not parse (MUST-7) creates no state either, as in Linux.
            if ((flags & TcpFlags.Syn) == 0 || (flags & TcpFlags.Fin) != 0 || badOptions)
            {
                Statistics.ListenDropsCount++;
                return true;
            }
            if (listener.IsClosed) return true;
            if (_connections.Count >= _options.TcpMaxConnections && !ReclaimTimeWait()) { Statistics.ConnectionLimitCount++; return true; }   // no cookie either
            if (!listener.HasRoom)
            {
                Statistics.SynQueueFullCount++;
                if (listener.SynCookies) SendSynCookie(source, destination, segment, options, listener, now);
                return true;
            }
            var accepted = Create(destination, segment.DestinationPort, source, segment.SourcePort, listener.Options, now);
            accepted.Listener = listener;
            listener.HalfOpen++;
            Statistics.PassiveOpensCount++;
            bool gateway = ReferenceEquals(listener, AnyDestination);
            if (gateway) accepted.HoldSynAck();
            accepted.AcceptSyn(segment, options, now);
            Track(accepted);
            if (gateway) AnyDestinationSyn?.Invoke(accepted);
            return true;
        }
        Reset(source, destination, segment, now);
        return true;
    }

    // Gateway mode: the any-destination listener takes a segment for a port nobody listens on when the filter allows it.
    private bool TakeAnyDestination(IpAddress source, TcpSegment segment, IpAddress destination, out TcpListener listener)
    {
        listener = AnyDestination!;
        if (listener is null) return false;
        return AnyDestinationFilter is not { } filter || filter(source, segment.SourcePort, destination, segment.DestinationPort);
    }

    // ------------------------------------------------------------------ SYN cookies (RFC 4987 3.1)

    // Cookie = 24 bits of a keyed MAC of the four-tuple and a 64-second counter | 5 bits of the counter | 3 bits of MSS index.
    private uint Cookie(IpAddress local, ushort localPort, IpAddress remote, ushort remotePort, uint counter, int mssIndex)
    {
        Span<byte> input = stackalloc byte[40];
        int n = local.WriteTo(input);
        BinaryPrimitives.WriteUInt16BigEndian(input[n..], localPort);
        n += 2;
        n += remote.WriteTo(input[n..]);
        BinaryPrimitives.WriteUInt16BigEndian(input[n..], remotePort);
        BinaryPrimitives.WriteUInt32BigEndian(input[(n + 2)..], counter);
        return ((uint)(SipHash.Hash(_cookieKey.AsSpan(0, 16), input[..(n + 6)]) >> 32) & 0xFFFF_FF00) | (counter & 0x1F) << 3 | (uint)mssIndex;
    }

    private static uint CookieCounter(TimeSpan now) => (uint)(now.Ticks / TimeSpan.TicksPerSecond / 64);

    private void SendSynCookie(IpAddress source, IpAddress destination, TcpSegment segment, in TcpOptions theirs, TcpListener listener, TimeSpan now)
    {
        int peerMss = theirs.MaximumSegmentSize ?? 536;
        int mssIndex = 0;
        for (int i = CookieMss.Length - 1; i >= 0; i--) if (CookieMss[i] <= peerMss) { mssIndex = i; break; }
        uint cookie = Cookie(destination, segment.DestinationPort, source, segment.SourcePort, CookieCounter(now), mssIndex);
        var options = new TcpOptions { MaximumSegmentSize = (ushort)Math.Min(_output.MaxSegment(source) - TcpHeader.MinimumSize, 65535) };
        if (theirs.Timestamp is TcpTimestamp ts)
        {
            // Without state, window scale, SACK-permitted and ECN survive only in the low bits of our timestamp (as Linux
            // keeps them: TS_OPT_ECN is its 0x20).
            int scale = listener.Options.WindowScaling && theirs.WindowScale is byte ws ? Math.Min((int)ws, 14) : 0xF;
            uint bits = (uint)scale | (listener.Options.SelectiveAcknowledgments && theirs.SackPermitted ? 0x10u : 0)
                | (TcpConnection.AcceptsEcnSetup(listener.Options, segment.Flags) ? 0x20u : 0);
            uint clock = (uint)(long)now.TotalMilliseconds;
            uint value = (clock & ~0x3Fu) | bits;
            // Never ahead of the clock the connection's later segments carry (as Linux's cookie_init_timestamp): up to
            // 63 ms ahead, the peer's PAWS check (RFC 7323 5.3) dropped the first segments of the connection the cookie
            // made until the clock caught up, and the response waited for the retransmission timeout.
            if ((int)(value - clock) > 0) value -= 0x40;
            options = options with { Timestamp = new TcpTimestamp(value, ts.Value) };
            if (scale != 0xF) options = options with { WindowScale = (byte)TcpConnection.ScaleFor(listener.Options) };
            if ((bits & 0x10) != 0) options = options with { SackPermitted = true };
        }
        // RFC 3168 6.1.1: an ECN-setup SYN-ACK only when the choice survives in the timestamp, as in Linux.
        var synAck = TcpFlags.Syn | TcpFlags.Ack | (options.Timestamp is TcpTimestamp mine && (mine.Value & 0x20) != 0 ? TcpFlags.Ece : TcpFlags.None);
        var header = new TcpHeader(segment.DestinationPort, segment.SourcePort, cookie, segment.SequenceNumber + 1, synAck,
            (ushort)Math.Min(listener.Options.ReceiveBufferSize, 65535), 0, options);
        int length = header.WriteTo(_output.SegmentBuffer);
        _output.SendSegment(destination, source, length, now);
        Statistics.SynCookiesSentCount++;
    }

    private bool TryAcceptCookie(IpAddress source, IpAddress destination, TcpSegment segment, in TcpOptions options, TcpListener listener, TimeSpan now)
    {
        uint cookie = segment.AcknowledgmentNumber - 1;
        uint counter = CookieCounter(now);
        bool valid = false;
        for (uint age = 0; age <= 1 && !valid; age++)   // a cookie lives one to two counter periods (64-128 s)
        {
            uint c = counter - age;
            if (((cookie >> 3) & 0x1F) != (c & 0x1F)) continue;
            valid = Cookie(destination, segment.DestinationPort, source, segment.SourcePort, c, (int)(cookie & 7)) == cookie;
        }
        if (!valid) { Statistics.SynCookiesRejectedCount++; return false; }
        if (_connections.Count >= _options.TcpMaxConnections && !ReclaimTimeWait()) { Statistics.ConnectionLimitCount++; return true; }   // drop: a cookie is no way past the bound
        if (listener.Pending >= listener.Backlog) { Statistics.ListenOverflowsCount++; return true; }   // drop; the peer retransmits
        Statistics.SynCookiesValidatedCount++;
        int? scale = null;
        bool sack = false, ecn = false;
        if (options.Timestamp is TcpTimestamp ts)
        {
            uint bits = ts.EchoReply & 0x3F;
            if ((bits & 0xF) != 0xF) scale = (int)(bits & 0xF);
            sack = (bits & 0x10) != 0;
            ecn = (bits & 0x20) != 0 && listener.Options.Ecn != TcpEcnMode.Off;
        }
        var connection = Create(destination, segment.DestinationPort, source, segment.SourcePort, listener.Options, now, cookie, tsOffset: 0);
        connection.Listener = listener;
        listener.HalfOpen++;
        Statistics.PassiveOpensCount++;
        Track(connection);
        connection.AcceptCookie(segment, options, CookieMss[cookie & 7], scale, sack, now, ecn);
        Scheduled(connection);
        return true;
    }

    // RFC 9293 3.10.7.1: a segment for no connection gets a reset, unless it is one.
    private void Reset(IpAddress source, IpAddress destination, TcpSegment segment, TimeSpan now)
    {
        var flags = segment.Flags;
        if ((flags & TcpFlags.Rst) != 0) return;
        var header = (flags & TcpFlags.Ack) != 0
            ? new TcpHeader(segment.DestinationPort, segment.SourcePort, segment.AcknowledgmentNumber, 0, TcpFlags.Rst, 0)
            : new TcpHeader(segment.DestinationPort, segment.SourcePort, 0, segment.SequenceNumber + (uint)segment.SequenceLength, TcpFlags.Rst | TcpFlags.Ack, 0);
        int length = header.WriteTo(_output.SegmentBuffer);
        _output.SendSegment(destination, source, length, now);
        Statistics.ResetsSentCount++;
    }

    public bool TakeChallengeAck(TimeSpan now) => _challengeAcks.TryTake(now);

    /// <summary>An ICMP error quoting a segment we sent: handed to its connection, if any.</summary>
    /// <remarks>
    /// The family's ICMP layer says what the message means: a path MTU (Fragmentation Needed, Packet Too Big) when
    /// <paramref name="pathMtu"/> is positive, else the error and whether it is hard (RFC 1122 4.2.3.9).
    /// </remarks>
    public void OnIcmpError(IpAddress remote, ushort remotePort, ushort localPort, uint sequenceNumber, NetError error, bool hard, int pathMtu, TimeSpan now)
    {
        Now = now;
        // Our address in the quote is the one ProcessIcmpError checked: the family's own (gateway mode keys by it).
        if (_connections.TryGetValue(KeyFor(remote, remotePort, LocalAddressFor(remote), localPort), out var connection))
        {
            connection.OnIcmpError(error, hard, pathMtu, sequenceNumber, now);
            Scheduled(connection);
        }
    }

    /// <summary>
    /// Resolution of a neighbour failed: every connection whose segments go through it (<paramref name="routesVia"/>
    /// says which peers do) hears of it. Rare (seconds apart at most), so a scan of the table is fine.
    /// </summary>
    public void OnNeighbourUnreachable(Func<IpAddress, bool> routesVia, TimeSpan now)
    {
        Now = now;
        List<TcpConnection>? hit = null;
        foreach (var c in _connections.Values)
            if (c.State != TcpState.Closed && routesVia(c.RemoteAddress)) (hit ??= []).Add(c);
        if (hit is null) return;
        foreach (var c in hit)
        {
            c.OnNeighbourUnreachable();
            Scheduled(c);
        }
    }

    // ------------------------------------------------------------------ poll

    /// <summary>True when some connection has output waiting for the next poll (the socket layer then wakes the stack thread).</summary>
    public bool HasPendingOutput => _pending.Count > 0;

    /// <remarks>Inlined: a batch's pure ACKs mark their connection on every ACK (the congestion window's growth, the tail
    /// probe), and all but the first find it marked already.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MarkPending(TcpConnection connection)
    {
        if (!connection.Pending) AddPending(connection);
    }

    private void AddPending(TcpConnection connection)
    {
        connection.Pending = true;
        _pending.Add(connection);
    }

    /// <remarks>Inlined into the stack's poll: with nothing pending and no timer entry due (the common poll, with or
    /// without frames) it is two comparisons, without a call or a look at the timer heap.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Poll(TimeSpan now)
    {
        Now = now;
        if (now < _timersFloor && _pending.Count == 0)
        {
            ReceivedSinceFlush = 0;
            return;
        }
        PollDue(now);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PollDue(TimeSpan now)
    {
        while (_timers.TryPeek(out var c, out var at) && at <= now)
        {
            _timers.Dequeue();
            if (at != c.TimerAt) continue;             // superseded by an earlier entry, already handled
            c.TimerAt = TimeSpan.MaxValue;
            if (!IsCurrent(c)) continue;               // removed from the table since
            TimerVisits++;
            if (c.State != TcpState.Closed) c.OnTimer(now);
            _due.Add(c);
        }
        // The head is the earliest entry: exact until the next Enqueue lowers it (the timers just run may have queued some).
        _timersFloor = _timers.TryPeek(out _, out var next) ? next : TimeSpan.MaxValue;
        if (_pending.Count > 0) FlushPending(now);
        else ReceivedSinceFlush = 0;
        if (_due.Count == 0) return;   // the common poll: no timer was due
        foreach (var c in _due)
            if (IsCurrent(c)) Scheduled(c);
        _due.Clear();
    }

    /// <summary>
    /// Sends what the connections marked pending have due (ACKs, data a window or an ACK let out, FINs), without running
    /// timers: <see cref="Poll"/> does it after the timers, and the stack after each batch of received frames, so that a
    /// busy connection's ACK leaves per batch (as Linux's per GRO packet) and not once per poll of up to
    /// <see cref="NetworkStackOptions.ReceiveBudgetPerPoll"/> frames.
    /// </summary>
    public void FlushPending(TimeSpan now)
    {
        Now = now;
        ReceivedSinceFlush = 0;
        for (int round = 0; round < 4 && _pending.Count > 0; round++)
        {
            (_pending, _flushing) = (_flushing, _pending);
            foreach (var c in _flushing)
            {
                c.Pending = false;
                c.Flush(now);
                Scheduled(c);
            }
            _flushing.Clear();
        }
    }

    /// <summary>In-order bytes the connections took since the last <see cref="FlushPending"/>: past
    /// <see cref="AckEveryBytes"/> the stack flushes after the batch (batches of pure ACKs, a sender's, and small
    /// batches wait for the end of the poll as before).</summary>
    internal long ReceivedSinceFlush { get; set; }

    /// <summary>64 KB: the most Linux's GRO coalesces into one packet, which its receiver ACKs. Over a TAP with offloads
    /// that is about one frame (so every batch); without, about 45 frames (every third batch of 16).</summary>
    internal const int AckEveryBytes = 64 * 1024;

    /// <summary>Connections whose timers were looked at (each due timer entry counts once): the scaling tests check it grows with the packets, not with the connections.</summary>
    internal long TimerVisits { get; private set; }

    /// <summary>
    /// Queues the connection's timer entry for <paramref name="at"/> when that is earlier than its entry: what
    /// <see cref="Scheduled"/> does, for a caller that knows which timer it just set (the others are no earlier than
    /// the entry already queued), without computing the earliest of all of them. A pending connection is scheduled
    /// after its flush.
    /// </summary>
    internal void ScheduleEarlier(TcpConnection connection, Deadline at)
    {
        // A Deadline, not a TimeSpan?: the pure ACK's path calls this twice per segment, and each conversion to a
        // nullable was a call of its own where the JIT's inlining budget had run out.
        if (!connection.Pending && at < connection.TimerAt) Enqueue(connection, at.OrMaxValue);
    }

    private bool IsCurrent(TcpConnection c) => ReferenceEquals(c, _last) || (_connections.TryGetValue(c.Key, out var current) && ReferenceEquals(current, c));

    private void Scheduled(TcpConnection connection)
    {
        if (connection.NextDeadline is TimeSpan d && d < connection.TimerAt) Enqueue(connection, d);
    }

    private void Enqueue(TcpConnection connection, TimeSpan d)
    {
        connection.TimerAt = d;
        _timers.Enqueue(connection, d);
        if (d < _timersFloor) _timersFloor = d;
        // Stale entries are bounded: when they outnumber the connections, rebuild with one entry per connection.
        if (_timers.Count > 4 * _connections.Count + 1024) RebuildTimers();
    }

    private void RebuildTimers()
    {
        _timers.Clear();
        foreach (var c in _connections.Values)
        {
            c.TimerAt = TimeSpan.MaxValue;
            if (c.NextDeadline is TimeSpan d) { c.TimerAt = d; _timers.Enqueue(c, d); }
        }
        _timersFloor = _timers.TryPeek(out _, out var next) ? next : TimeSpan.MaxValue;
    }

    /// <summary>Notes a connection that entered TIME-WAIT, so that a full table can give its place to a new connection.</summary>
    internal void EnteredTimeWait(TcpConnection connection)
    {
        // The head left TIME-WAIT first (its 2 MSL ran out, or a new SYN ended it): drop such entries as they appear,
        // so the queue holds about as many entries as there are connections in TIME-WAIT.
        while (_timeWaits.TryPeek(out var old) && (old.State != TcpState.TimeWait || !IsCurrent(old))) _timeWaits.Dequeue();
        _timeWaits.Enqueue(connection);
    }

    // With the table at TcpMaxConnections, a passive open ends the oldest TIME-WAIT connection rather than being
    // refused, as Linux does past tcp_max_tw_buckets (it then closes without TIME-WAIT): a server that closes first
    // and serves more than TcpMaxConnections connections per TIME-WAIT period (60 s) would otherwise stop accepting.
    // TIME-WAIT's guard against old duplicates (RFC 9293 3.6.1) is given up for the oldest such connection only, and
    // timestamps (PAWS, RFC 7323) still reject its old segments should the same four-tuple come back.
    private bool ReclaimTimeWait()
    {
        while (_timeWaits.TryDequeue(out var old))
        {
            if (old.State != TcpState.TimeWait || !IsCurrent(old)) continue;
            Statistics.TimeWaitReclaimedCount++;
            old.EndTimeWait();
            return _connections.Count < _options.TcpMaxConnections;
        }
        return false;
    }

    public TimeSpan? NextDeadline(TimeSpan now) => _pending.Count > 0 ? now : _timers.TryPeek(out _, out var at) ? at : null;

    private void Track(TcpConnection connection) => Scheduled(connection);

    public void Remove(TcpConnection connection)
    {
        if (_connections.TryGetValue(connection.Key, out var c) && ReferenceEquals(c, connection))
        {
            _connections.Remove(connection.Key);
            if (ReferenceEquals(_last, connection)) _last = null;
            if (_localPortUse.TryGetValue(connection.LocalPort, out int n)) { if (n <= 1) _localPortUse.Remove(connection.LocalPort); else _localPortUse[connection.LocalPort] = n - 1; }
            if (connection.Listener is { } listener) { listener.OnAbandoned(); connection.Listener = null; }
        }
    }

    public void RemoveListener(TcpListener listener)
    {
        if (_listeners.TryGetValue(listener.Port, out var l) && ReferenceEquals(l, listener)) _listeners.Remove(listener.Port);
    }
}
