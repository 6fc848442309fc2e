namespace TcpIpSharp.Sockets;

/// <summary>
/// The stack thread of the socket layer and its command channel. One <see cref="Gate"/> (a monitor) serialises every
/// touch of the core: the stack thread holds it while it polls, and a socket call holds it while it runs its command
/// against the core (queue bytes in a connection's ring, take bytes out, open or close a control block). Blocking
/// calls wait on the same monitor (<see cref="Wait"/>), so they release the gate and are woken by
/// <see cref="Monitor.PulseAll"/> when the stack thread saw a readiness event (a control block's Ready callback), a
/// deadline passed, or another thread closed the socket. Output queued by a caller is flushed by the stack thread,
/// which the caller wakes with <see cref="Kick"/>.
/// </summary>
internal sealed class StackRunner : IDisposable
{
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(250);

    /// <summary>The command channel: hold it to touch any stack this runner drives.</summary>
    public readonly object Gate = new();
    private readonly List<SocketStack> _hosts = new(2);
    private readonly IClock _clock;
    private readonly ManualClock? _virtual;
    private Thread? _thread;
    private volatile bool _stopping;
    private int _sleeping, _kicks;
    private bool _ready;
    private int _blocked, _blockedEpoch, _epochAtJump = -1;
    private readonly List<TimeSpan> _deadlines = new(16);
    private volatile Exception? _failure;
    private bool _started, _disposed;

    public StackRunner(RunnerMode mode, IClock? clock = null)
    {
        Mode = mode;
        if (mode == RunnerMode.VirtualTime) _clock = _virtual = clock as ManualClock ?? new ManualClock();
        else _clock = clock ?? new SystemClock();
    }

    public RunnerMode Mode { get; }
    public IClock Clock => _clock;
    public TimeSpan Now => _clock.Now;
    public bool IsRunning => _started && !_stopping && _failure is null;
    public Exception? Failure => _failure;

    public void Add(SocketStack host) => _hosts.Add(host);

    public void Start()
    {
        lock (Gate)
        {
            if (_started) return;
            _started = true;
            var now = _clock.Now;
            foreach (var h in _hosts) h.StartServices(now);
        }
        if (Mode == RunnerMode.Manual) return;
        _thread = new Thread(Run) { IsBackground = true, Name = "tcpipsharp-sockets" };
        _thread.Start();
    }

    /// <summary>Under the gate, on the stack thread: a control block became readable, writable, connected or closed.</summary>
    public void Signal() => _ready = true;

    /// <summary>Under the gate, by a caller: the core has output or work for the stack thread; wakes it if it sleeps.</summary>
    public void Kick()
    {
        Interlocked.Increment(ref _kicks);
        if (Volatile.Read(ref _sleeping) != 0)
            foreach (var h in _hosts) h.Stack.Link.Interrupt();
    }

    /// <summary>
    /// Under the gate: blocks the caller until something may have changed (a readiness event, a close, a deadline).
    /// Returns false without waiting when <paramref name="deadline"/> (on the runner's clock) has passed; the caller
    /// re-checks its condition after a true return.
    /// </summary>
    public bool Wait(TimeSpan? deadline)
    {
        if (_failure is { } failure) throw new OSError(Errno.EIO, "the stack thread failed: " + failure.Message);
        var now = _clock.Now;
        if (deadline is TimeSpan d && now >= d) return false;
        if (Mode == RunnerMode.Manual) return WaitByPolling(now);
        if (_disposed) throw new OSError(Errno.EBADF, "the stack was stopped");
        _blocked++;
        _blockedEpoch++;
        if (deadline is TimeSpan d1) _deadlines.Add(d1);
        try
        {
            if (Mode == RunnerMode.VirtualTime)
            {
                Kick();
                Monitor.Wait(Gate, 100);
            }
            else
            {
                var wait = deadline is TimeSpan d2 ? d2 - now : MaxSleep * 4;
                if (wait > MaxSleep * 4) wait = MaxSleep * 4;   // re-checks now and then; wake-ups are pulses
                Monitor.Wait(Gate, Math.Max(1, (int)Math.Ceiling(wait.TotalMilliseconds)));
            }
        }
        finally
        {
            _blocked--;
            _blockedEpoch++;
            if (deadline is TimeSpan d3) _deadlines.Remove(d3);
        }
        return true;
    }

    // Manual mode: the caller drives the stacks while it waits, as MicroPython on the Pico polls lwIP in a blocking call.
    private bool WaitByPolling(TimeSpan now)
    {
        if (!PollAll(now)) Thread.Yield();   // nothing moved: the caller re-checks (its deadline too) and polls again
        return true;
    }

    /// <summary>Wakes every blocked caller (under the gate): used when a caller changed state others wait on (close).</summary>
    public void WakeAll() => Monitor.PulseAll(Gate);

    /// <summary>Manual mode: polls every stack until idle at the clock's time.</summary>
    public void Pump()
    {
        lock (Gate)
        {
            PollAll(_clock.Now);
            if (_ready) { _ready = false; Monitor.PulseAll(Gate); }
        }
    }

    private bool PollAll(TimeSpan now)
    {
        bool any = false;
        for (int round = 0; round < 64; round++)
        {
            bool worked = false;
            foreach (var h in _hosts) worked |= h.PollOnce(now);
            any |= worked;
            if (!worked) break;
        }
        return any;
    }

    private TimeSpan? NextDeadline(TimeSpan now)
    {
        TimeSpan? next = null;
        foreach (var h in _hosts)
            if (h.NextDeadline(now) is TimeSpan d && (next is null || d < next)) next = d;
        foreach (var d in _deadlines)
            if (next is null || d < next) next = d;
        return next;
    }

    private void Run()
    {
        try
        {
            while (!_stopping)
            {
                bool worked;
                TimeSpan? next;
                int kicks;
                lock (Gate)
                {
                    var now = _clock.Now;
                    worked = PollAll(now);
                    next = NextDeadline(now);
                    foreach (var d in _deadlines) if (d <= now) { _ready = true; break; }
                    if (_ready) { _ready = false; Monitor.PulseAll(Gate); }
                    // Virtual time passes only while a caller waits for it and nothing else is happening; after a jump,
                    // the next waits until a waiter has reacted (so time never runs ahead of the callers).
                    if (_virtual is not null && !worked && _blocked > 0 && _blockedEpoch != _epochAtJump && next is TimeSpan n && n > now)
                    {
                        _virtual.Set(n);
                        _epochAtJump = _blockedEpoch;
                        Monitor.PulseAll(Gate);
                        continue;
                    }
                    kicks = _kicks;
                }
                if (worked) continue;
                Interlocked.Exchange(ref _sleeping, 1);
                if (Volatile.Read(ref _kicks) == kicks)
                {
                    var wait = _virtual is not null ? TimeSpan.FromMilliseconds(1) : next is TimeSpan t ? t - _clock.Now : MaxSleep;
                    if (wait > MaxSleep) wait = MaxSleep;
                    if (wait > TimeSpan.Zero) _hosts[0].Stack.Link.WaitReadable(wait);
                }
                Interlocked.Exchange(ref _sleeping, 0);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _failure = e;
            lock (Gate) Monitor.PulseAll(Gate);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _stopping = true;
        foreach (var h in _hosts) h.Stack.Link.Interrupt();
        _thread?.Join(TimeSpan.FromSeconds(10));
        lock (Gate)
        {
            _disposed = true;
            var now = _clock.Now;
            foreach (var h in _hosts) h.StopServices(now);
            Monitor.PulseAll(Gate);
        }
    }
}
