using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Sntp;

/// <summary>
/// An SNTP client (RFC 4330, RFC 5905 client mode) run on the stack thread. A query sends one mode-3 request whose
/// transmit timestamp is the stack's wall clock with random low bits (a nonce), and accepts only a mode-4 reply from
/// that server's port 123 whose origin timestamp echoes it (others are counted and dropped). Kiss-o'-Death replies are
/// honoured: DENY and RSTR stop the client asking that server, RATE makes it wait a back-off that doubles with every
/// RATE. Replies from unsynchronised servers (leap indicator 3, stratum 16+) are refused. Servers come from the options
/// or from the DHCP lease's option 42. One UDP endpoint (an ephemeral port) serves every query; receiving allocates nothing.
/// <para>
/// micropython-lib's <c>ntptime</c> on top of it: <see cref="QueryAsync"/> gives the server's time (<c>time()</c>),
/// <see cref="SetTime"/> applies an answer to the stack's wall clock (<c>settime()</c>), which the socket layer's time
/// and the TLS certificate checks read; the system clock is never touched.
/// </para>
/// </summary>
public sealed class SntpClient : IStackService
{
    /// <summary>Queries in flight at once at most.</summary>
    public const int MaximumPendingQueries = 8;
    /// <summary>Servers whose Kiss-o'-Death state is remembered at most (the oldest is forgotten first).</summary>
    public const int MaximumServerStates = 16;
    private const int ReceiveBufferSize = 512;
    private const ulong NonceMask = 0xFFFF;   // the low 16 bits of the fraction (15 µs): random, as chrony does

    private readonly SntpClientOptions _options;
    private readonly DhcpClient? _dhcp;
    private readonly IClock? _clock;
    private readonly byte[] _rx = new byte[ReceiveBufferSize];
    private readonly byte[] _tx = new byte[NtpPacket.Size];
    private readonly SntpQuery?[] _pending = new SntpQuery?[MaximumPendingQueries];
    private readonly ServerState[] _servers = new ServerState[MaximumServerStates];
    private readonly List<SntpQuery> _completed = new(MaximumPendingQueries);
    private int _serverCount;
    private NetworkStack? _stack;
    private UdpEndpoint? _endpoint;
    private bool _running;
    private TimeSpan _nextPoll = TimeSpan.MaxValue;
    private TimeSpan _pollInterval;
    private SntpQuery? _periodic;

    private struct ServerState
    {
        public IpAddress Address;
        public bool Denied;
        public TimeSpan NotBefore;
        public TimeSpan Backoff;
    }

    /// <summary>
    /// A client with <paramref name="options"/>; with <paramref name="dhcp"/> it asks the NTP servers of its lease when the
    /// options name none. <paramref name="clock"/>, the driver's clock (<see cref="StackDriver.Clock"/>), is read for T1
    /// and T4 at the moment of sending and of taking the reply; without it they are the poll's time, which a driver
    /// reads once per round (a round that does much work makes them late by its length).
    /// </summary>
    public SntpClient(SntpClientOptions? options = null, DhcpClient? dhcp = null, IClock? clock = null)
    {
        _options = options ?? new SntpClientOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Attempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_options.Timeout, TimeSpan.Zero);
        if (_options.Periodic && _options.MinimumPollInterval < TimeSpan.FromSeconds(15))
            throw new ArgumentException("RFC 4330 10: a client never polls more often than every 15 s", nameof(options));
        _dhcp = dhcp;
        _clock = clock;
        _pollInterval = _options.MinimumPollInterval;
    }

    /// <summary>Counters.</summary>
    public SntpClientStatistics Statistics { get; } = new();

    /// <summary>The last query answered (periodic or asked), or null.</summary>
    public SntpQuery? LastAnswer { get; private set; }

    /// <summary>With <see cref="SntpClientOptions.Periodic"/>, the interval to the next poll (it backs off after failures).</summary>
    public TimeSpan PollInterval => _pollInterval;

    /// <summary>The servers a query without one asks, in order: the options', or the DHCP lease's option 42.</summary>
    public IReadOnlyList<IpAddress> Servers
    {
        get
        {
            if (_options.Servers.Count > 0) return _options.Servers;
            var fromDhcp = _dhcp?.Lease?.NtpServers;
            if (fromDhcp is null || fromDhcp.Count == 0) return [];
            var list = new IpAddress[fromDhcp.Count];
            for (int i = 0; i < list.Length; i++) list[i] = fromDhcp[i];
            return list;
        }
    }

    /// <summary>True when <paramref name="server"/> sent DENY or RSTR: it is never asked again by this client.</summary>
    public bool IsDenied(IpAddress server) => Find(server) is int i && _servers[i].Denied;

    /// <inheritdoc/>
    public TimeSpan? NextDeadline
    {
        get
        {
            if (!_running) return null;
            // While the periodic query is out, its own deadline counts: _nextPoll is behind until it completes.
            var next = _options.Periodic && _periodic is null ? _nextPoll : TimeSpan.MaxValue;
            foreach (var q in _pending) if (q is not null && q.Deadline < next) next = q.Deadline;
            return next == TimeSpan.MaxValue ? null : next;
        }
    }

    /// <inheritdoc/>
    public void Start(NetworkStack stack, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(stack);
        if (_running) return;
        _stack = stack;
        _running = true;
        if (_options.Periodic) _nextPoll = now;
    }

    /// <inheritdoc/>
    public void Stop(NetworkStack stack, TimeSpan now)
    {
        if (!_running) return;
        for (int i = 0; i < _pending.Length; i++)
        {
            if (_pending[i] is not { } q) continue;
            _pending[i] = null;
            q.Fail(SntpError.Stopped);
            q.RaiseCompleted();
        }
        _endpoint?.Close();
        _endpoint = null;
        _running = false;
    }

    /// <summary>
    /// Starts a query to <paramref name="server"/> (null: the first of <see cref="Servers"/> not denied or backing off).
    /// It may complete at once (no server, denied, rate-limited, not sendable); otherwise watch <see cref="SntpQuery.Completed"/>.
    /// Call on the stack thread. <paramref name="timeout"/> replaces <see cref="SntpClientOptions.Timeout"/> for this query.
    /// </summary>
    public SntpQuery Query(TimeSpan now, IpAddress? server = null, TimeSpan? timeout = null)
    {
        if (_stack is null || !_running) throw new InvalidOperationException("the SNTP client has not been started (add it to the driver first)");
        var target = server ?? PickServer(now);
        var query = new SntpQuery(target ?? default) { Timeout = timeout is { } t && t > TimeSpan.Zero ? t : _options.Timeout };
        if (target is not { } address) { query.Fail(SntpError.NoServer); return query; }
        if (Find(address) is int s)
        {
            if (_servers[s].Denied) { query.Fail(SntpError.Denied); return query; }
            if (now < _servers[s].NotBefore) { query.Fail(SntpError.RateLimited); return query; }
        }
        int slot = Array.IndexOf(_pending, null);
        if (slot < 0) { query.Fail(SntpError.TooManyQueries); return query; }
        if (!Send(query, now)) { query.Fail(SntpError.SendFailed); return query; }
        _pending[slot] = query;
        return query;
    }

    /// <summary>
    /// Asks <paramref name="server"/> (null: the configured or DHCP-given ones) from any thread and waits for the answer
    /// without blocking one: the SNTP <c>QueryAsync</c> a command calls, returning offset, delay, stratum and the server's time.
    /// The client must have been added to <paramref name="driver"/>.
    /// </summary>
    public async Task<SntpQuery> QueryAsync(StackDriver driver, IpAddress? server = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(driver);
        var done = new TaskCompletionSource<SntpQuery>(TaskCreationOptions.RunContinuationsAsynchronously);
        driver.Invoke(_ =>
        {
            var query = Query(driver.Clock.Now, server);
            if (query.IsCompleted) done.TrySetResult(query);
            else query.Completed += q => done.TrySetResult(q);
            return 0;
        });
        return await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Applies an answered query to the stack's wall clock (<c>ntptime.settime()</c>): <see cref="NetworkStack.WallClockOffset"/>
    /// becomes the offset the request was sent with plus the query's offset (applying an answer twice changes nothing more). Call on the stack thread. Returns false (and changes nothing) for a query without an answer.
    /// </summary>
    public bool SetTime(SntpQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Error != SntpError.None || _stack is null) return false;
        // Absolute, from the offset the request was measured against: applying two answers (or one twice) does not
        // add their offsets up.
        _stack.WallClockOffset = query.OffsetAtSend + query.Offset;
        Statistics.ClockSets++;
        return true;
    }

    /// <inheritdoc/>
    public void Poll(NetworkStack stack, TimeSpan now)
    {
        if (!_running) return;
        if (_endpoint is not null)
        {
            int n;
            while ((n = _endpoint.Receive(_rx, out var from, out ushort port)) >= 0)
                Receive(_rx.AsSpan(0, Math.Min(n, _rx.Length)), from, port, now);
            _endpoint.TakeError();
        }
        for (int i = 0; i < _pending.Length; i++)
        {
            if (_pending[i] is not { } q || now < q.Deadline) continue;
            Statistics.Timeouts++;
            if (q.Attempts < _options.Attempts && Send(q, now)) continue;
            _pending[i] = null;
            q.Fail(SntpError.Timeout);
            _completed.Add(q);
        }
        if (_options.Periodic && now >= _nextPoll && _periodic is null)
        {
            var q = Query(now);
            if (q.IsCompleted) OnPeriodicDone(q, now);
            else _periodic = q;
        }
        RaiseCompleted(now);
    }

    private void RaiseCompleted(TimeSpan now)
    {
        for (int i = 0; i < _completed.Count; i++)
        {
            var q = _completed[i];
            if (q == _periodic)
            {
                _periodic = null;
                OnPeriodicDone(q, now);
            }
            q.RaiseCompleted();
        }
        _completed.Clear();
    }

    // RFC 4330 10: back off by doubling after a failure, up to the maximum; an answer brings the poll back to the minimum.
    private void OnPeriodicDone(SntpQuery q, TimeSpan now)
    {
        if (q.Error == SntpError.None)
        {
            _pollInterval = _options.MinimumPollInterval;
            if (_options.SetClock) SetTime(q);
        }
        else
        {
            var doubled = _pollInterval + _pollInterval;
            _pollInterval = doubled > _options.MaximumPollInterval ? _options.MaximumPollInterval : doubled;
        }
        _nextPoll = now + _pollInterval;
    }

    private IpAddress? PickServer(TimeSpan now)
    {
        var servers = Servers;
        for (int i = 0; i < servers.Count; i++)
        {
            var a = servers[i];
            if (Find(a) is int s && (_servers[s].Denied || now < _servers[s].NotBefore)) continue;
            return a;
        }
        return null;
    }

    private bool Send(SntpQuery query, TimeSpan now)
    {
        var stack = _stack!;
        if (_endpoint is null || _endpoint.IsClosed)
        {
            var error = stack.OpenUdp(0, ReceiveBufferSize * 8, 16, out _endpoint);
            if (error != NetError.None) return false;
        }
        // A request that waits for ARP leaves later than its T1 says: its answer is used only to learn the MAC, and the
        // request is sent again at once (see Receive), so that the first query's offset is not biased by the ARP round trip.
        query.AwaitedArp = query.Server.IsIpv4 && stack.Ipv4.AwaitsResolution(query.Server.AsIpv4, now);
        var wall = stack.WallClock(Precise(now));
        var exact = NtpTimestamp.FromDateTime(wall);
        var nonce = new NtpTimestamp((exact.Value & ~NonceMask) | (stack.Random.NextUInt32() & NonceMask));
        if (nonce.IsZero) nonce = new NtpTimestamp(1);
        // RFC 4330 5: every field zero but the version, the mode and the transmit timestamp.
        NtpPacket.Write(_tx, NtpLeap.None, 4, NtpMode.Client, 0, 0, 0, 0, 0, 0, default, default, default, nonce);
        query.Sent = nonce;
        query.SentWallClock = wall;
        query.OffsetAtSend = stack.WallClockOffset;
        query.Attempts++;
        query.Deadline = now + query.Timeout;
        Statistics.RequestsSent++;
        var sent = _endpoint!.SendTo(_tx, query.Server, NtpPacket.Port);
        return sent is NetError.None or NetError.WouldBlock;
    }

    private void Receive(ReadOnlySpan<byte> datagram, IpAddress from, ushort port, TimeSpan now)
    {
        bool fromServer = false;
        if (port == NtpPacket.Port)
            foreach (var p in _pending)
                if (p is not null && p.Server == from) { fromServer = true; break; }
        if (!fromServer) { Statistics.RejectedSource++; return; }
        if (NtpPacket.TryParse(datagram, out var reply) != WireError.None || reply.Version is < 1 or > 4) { Statistics.RejectedMalformed++; return; }
        if (reply.Mode != NtpMode.Server) { Statistics.RejectedMode++; return; }
        // RFC 5905 8 (the "bogus" test): the reply must echo the transmit timestamp of a query to that server, or it
        // answers nothing we sent; any of the queries waiting on the server may be the one.
        int slot = -1;
        for (int i = 0; i < _pending.Length; i++)
            if (_pending[i] is { } p && p.Server == from && reply.OriginTimestamp == p.Sent) { slot = i; break; }
        if (slot < 0) { Statistics.RejectedOrigin++; return; }
        var query = _pending[slot]!;

        if (reply.Stratum == 0)
        {
            // RFC 5905 7.4 / RFC 4330 8: a Kiss-o'-Death; the reference ID is the kiss code.
            Statistics.KissesOfDeath++;
            uint code = reply.ReferenceId;
            var error = SntpError.KissOfDeath;
            if (code is NtpPacket.KissCode.Deny or NtpPacket.KissCode.Restricted)
            {
                Statistics.KissDeny++;
                ref var state = ref StateFor(from);
                state.Denied = true;
                error = SntpError.Denied;
            }
            else if (code == NtpPacket.KissCode.Rate)
            {
                Statistics.KissRate++;
                ref var state = ref StateFor(from);
                var backoff = state.Backoff == TimeSpan.Zero ? _options.RateBackoff : state.Backoff + state.Backoff;
                if (reply.Poll is > 0 and < 31 && TimeSpan.FromSeconds(1L << reply.Poll) > backoff) backoff = TimeSpan.FromSeconds(1L << reply.Poll);
                if (backoff > _options.MaximumRateBackoff) backoff = _options.MaximumRateBackoff;
                state.Backoff = backoff;
                state.NotBefore = now + backoff;
                error = SntpError.RateLimited;
                // A periodic poll backs off at least as far.
                if (_options.Periodic && _pollInterval < backoff) _pollInterval = backoff > _options.MaximumPollInterval ? _options.MaximumPollInterval : backoff;
            }
            Complete(slot, query, error, code);
            return;
        }
        if (reply.Leap == NtpLeap.Unsynchronised || reply.Stratum > 15)
        {
            Statistics.RejectedUnsynchronised++;
            Complete(slot, query, SntpError.Unsynchronised, 0);
            return;
        }
        if (reply.TransmitTimestamp.IsZero || reply.ReceiveTimestamp.IsZero) { Statistics.RejectedMalformed++; return; }

        if (query.AwaitedArp && !query.Resent)
        {
            query.Resent = true;
            query.Attempts--;
            if (Send(query, now)) return;
        }
        var t4Wall = _stack!.WallClock(Precise(now));
        var t1 = NtpTimestamp.FromDateTime(query.SentWallClock);
        var t4 = NtpTimestamp.FromDateTime(t4Wall);
        var t2 = reply.ReceiveTimestamp;
        var t3 = reply.TransmitTimestamp;
        // RFC 5905 8: offset θ = ((T2−T1)+(T3−T4))/2, delay δ = (T4−T1)−(T3−T2); differences modulo 2^64 (era-safe).
        var offset = (NtpTimestamp.Difference(t2, t1) + NtpTimestamp.Difference(t3, t4)) / 2;
        var delay = NtpTimestamp.Difference(t4, t1) - NtpTimestamp.Difference(t3, t2);
        // The server cannot answer before it was asked by more than the clocks' precision: such a reply is broken.
        if (delay < TimeSpan.FromMilliseconds(-1) || delay > TimeSpan.FromMinutes(1)) { Statistics.RejectedMalformed++; return; }
        if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
        Statistics.RepliesAccepted++;
        _pending[slot] = null;
        query.Answer(offset, delay, reply.Stratum, reply.Leap, reply.ReferenceId, t3.ToDateTime(t4Wall), Clamp(t4Wall, offset), now);
        LastAnswer = query;
        _completed.Add(query);
    }

    // The driver's clock read now, never before the poll's time (the same timeline), or the poll's time without one.
    private TimeSpan Precise(TimeSpan now) => _clock?.Now is { } t && t > now ? t : now;

    private static DateTime Clamp(DateTime wall, TimeSpan offset)
    {
        long ticks = Math.Clamp(wall.Ticks + offset.Ticks, DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks);
        return new DateTime(ticks, DateTimeKind.Utc);
    }

    private void Complete(int slot, SntpQuery query, SntpError error, uint code)
    {
        _pending[slot] = null;
        query.Fail(error, code);
        _completed.Add(query);
    }

    private int? Find(IpAddress server)
    {
        for (int i = 0; i < _serverCount; i++) if (_servers[i].Address == server) return i;
        return null;
    }

    private ref ServerState StateFor(IpAddress server)
    {
        if (Find(server) is int i) return ref _servers[i];
        if (_serverCount == _servers.Length)
        {
            // Forget the oldest (a fixed table: a flood of KoD from many sources cannot grow it).
            Array.Copy(_servers, 1, _servers, 0, _servers.Length - 1);
            _serverCount--;
        }
        _servers[_serverCount] = new ServerState { Address = server };
        return ref _servers[_serverCount++];
    }
}
