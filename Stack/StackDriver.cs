using System.Collections.Concurrent;

namespace TcpIpSharp;

/// <summary>
/// The one driver of a stack: runs it on a thread in real time (polls it, runs its services and posted actions,
/// and sleeps on the link until a frame arrives, the next deadline, or a kick). The program's commands, the services
/// (<see cref="IStackService"/>) and the socket layer (<see cref="Sockets.SocketStack"/>) all run on it.
/// <para>
/// Everything that touches the stack does so under the driver's gate, a monitor the driver's thread holds while it
/// polls: services and posted actions run on that thread, <see cref="Invoke{T}"/> (and every socket call) runs on
/// the caller's thread while holding the gate, never at the same time as a poll. When the driver stops
/// (<see cref="Run"/>'s token is cancelled) it stops the services and keeps polling for at most
/// <see cref="ShutdownGrace"/> while frames still wait for neighbour resolution, so what the services sent last
/// (a DHCP RELEASE) leaves.
/// </para>
/// </summary>
public sealed class StackDriver
{
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(250);

    /// <summary>The gate: hold it to touch any stack this driver drives (the driver's thread holds it while it polls).</summary>
    internal readonly object Gate = new();
    private readonly List<Host> _hosts = new(2);
    private readonly IClock _clock;
    private readonly ManualClock? _virtual;
    private readonly ConcurrentQueue<Action<NetworkStack>> _posted = new();
    private Thread? _thread;
    private volatile bool _stopping;
    private int _sleeping, _kicks, _stopCalled;
    private bool _ready, _polled, _servicesStopped;
    private int _blocked, _blockedEpoch, _epochAtJump = -1;
    private readonly List<TimeSpan> _deadlines = new(16);
    private volatile Exception? _failure;
    private volatile bool _started, _stopped;

    /// <summary>Drives <paramref name="stack"/> in real time with <paramref name="clock"/> (the system clock when null).</summary>
    public StackDriver(NetworkStack stack, IClock? clock = null) : this(DriverMode.RealTime, clock)
    {
        ArgumentNullException.ThrowIfNull(stack);
        Attach(stack);
    }

    /// <summary>A driver in <paramref name="mode"/> with no stack yet (<see cref="Attach"/> them before starting).</summary>
    internal StackDriver(DriverMode mode, IClock? clock = null)
    {
        Mode = mode;
        if (mode == DriverMode.VirtualTime) _clock = _virtual = clock as ManualClock ?? new ManualClock();
        else _clock = clock ?? new SystemClock();
    }

    /// <summary>The clock the driver polls with.</summary>
    public IClock Clock => _clock;

    /// <summary>The stack the driver runs (the first one, when it runs several).</summary>
    public NetworkStack Stack => _hosts[0].Stack;

    /// <summary>The exception that stopped the driver's thread, or null.</summary>
    public Exception? Failure => _failure;

    /// <summary>How long, at most, the driver keeps polling after stopping its services, so that what they sent last leaves.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(2);

    internal DriverMode Mode { get; }
    internal TimeSpan Now => _clock.Now;

    /// <summary>Started, not stopped, not failed.</summary>
    internal bool IsRunning => _started && !_stopping && !_stopped && _failure is null;

    /// <summary>Stopped (its token cancelled or <see cref="Stop"/> called) and its services stopped.</summary>
    internal bool IsStopped => _stopped;

    /// <summary>Whether the stacks have been polled at least once (read under the gate).</summary>
    internal bool HasPolled => _polled;

    /// <summary>
    /// Adds a service to the (first) stack. Before the driver starts, the service is started with the others; once it
    /// runs, it is started at once under the gate and polled from the next round on. Thread-safe.
    /// </summary>
    public void Add(IStackService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        Add(_hosts[0].Stack, service);
    }

    /// <summary>Runs <paramref name="action"/> on the driver's thread soon, under the gate (thread-safe).</summary>
    public void Post(Action<NetworkStack> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        _posted.Enqueue(action);
        Kick();
    }

    /// <summary>
    /// Runs <paramref name="action"/> against the stack on the calling thread while holding the gate (so never while
    /// the driver polls), then wakes the driver to send what it queued. Never block inside it.
    /// </summary>
    public T Invoke<T>(Func<NetworkStack, T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (Gate)
        {
            var result = action(_hosts[0].Stack);
            Kick();
            return result;
        }
    }

    /// <summary>Runs until <paramref name="token"/> is cancelled, on the calling thread; then stops the services and lets their last frames leave.</summary>
    /// <exception cref="InvalidOperationException">The driver was already started.</exception>
    public void Run(CancellationToken token)
    {
        StartServices();
        using var registration = token.Register(InterruptAll);
        Loop(token);
    }

    /// <summary>Runs on a new background thread (as <see cref="Run"/>); returns it.</summary>
    /// <exception cref="InvalidOperationException">The driver was already started.</exception>
    public Thread Start(CancellationToken token)
    {
        StartServices();
        var thread = new Thread(() =>
        {
            using var registration = token.Register(InterruptAll);
            Loop(token);
        }) { IsBackground = true, Name = "tcpipsharp-stack" };
        _thread = thread;
        thread.Start();
        return thread;
    }

    // ------------------------------------------------------------------ for the socket layer (internal)

    /// <summary>Adds a stack (with its services) to drive; before the driver starts.</summary>
    internal void Attach(NetworkStack stack, params IStackService[] services)
    {
        var host = new Host(stack);
        host.Services.AddRange(services);
        _hosts.Add(host);
        // The stack's wall clock: the system's time against this driver's clock, read back to back (both warmed first,
        // so that neither read waits for the JIT), unless the options fixed it.
        _ = _clock.Now;
        _ = DateTime.UtcNow;
        var utc = DateTime.UtcNow;
        stack.AnchorWallClock(utc, _clock.Now);
    }

    /// <summary>Adds a service to <paramref name="stack"/> (one this driver drives); starts it at once when running.</summary>
    internal void Add(NetworkStack stack, IStackService service)
    {
        lock (Gate)
        {
            var host = _hosts.Find(h => ReferenceEquals(h.Stack, stack)) ?? throw new ArgumentException("the driver does not drive this stack", nameof(stack));
            host.Services.Add(service);
            if (!_started) return;
            if (_servicesStopped) throw new InvalidOperationException("the driver has stopped");
            service.Start(stack, _clock.Now);
            Kick();
        }
    }

    /// <summary>Starts the services and, unless manual, the driver's thread (stopped by <see cref="Stop"/>).</summary>
    internal void Start()
    {
        StartServices();
        if (Mode == DriverMode.Manual) return;
        _thread = new Thread(() =>
        {
            try { Loop(CancellationToken.None); }
            catch (Exception e) when (e is not OutOfMemoryException) { }   // recorded in Failure; callers see EIO
        }) { IsBackground = true, Name = "tcpipsharp-stack" };
        _thread.Start();
    }

    /// <summary>How many times the driver's loop woke the blocked callers because something became ready (read under the gate).</summary>
    internal long ReadyWakeups { get; private set; }

    /// <summary>Under the gate, during a poll: a control block became readable, writable, connected or closed.</summary>
    internal void Signal() => _ready = true;

    /// <summary>The core has output or work for the driver (a caller queued data, a posted action): wakes it if it sleeps. Thread-safe.</summary>
    internal void Kick()
    {
        Interlocked.Increment(ref _kicks);
        if (Volatile.Read(ref _sleeping) != 0) InterruptAll();
    }

    /// <summary>Wakes every blocked caller (under the gate): used when a caller changed state others wait on (close).</summary>
    internal void WakeAll() => Monitor.PulseAll(Gate);

    /// <summary>
    /// Under the gate: blocks the caller until something may have changed (a readiness event, a close, a deadline).
    /// Returns false without waiting when <paramref name="deadline"/> (on the driver's clock) has passed; the caller
    /// re-checks its condition after a true return. In manual mode the caller polls the stacks instead of waiting.
    /// </summary>
    internal bool Wait(TimeSpan? deadline)
    {
        if (_failure is not null) return true;   // the caller's layer raises (the socket layer: EIO)
        var now = _clock.Now;
        if (deadline is TimeSpan d && now >= d) return false;
        if (Mode == DriverMode.Manual)
        {
            // The caller drives the stacks while it waits, as MicroPython on the Pico polls lwIP in a blocking call.
            if (!PollRound(now)) Thread.Yield();   // nothing moved: the caller re-checks (its deadline too) and polls again
            return true;
        }
        if (_stopped) return true;   // the caller's layer raises (the socket layer: EBADF)
        _blocked++;
        _blockedEpoch++;
        if (deadline is TimeSpan d1) _deadlines.Add(d1);
        try
        {
            if (Mode == DriverMode.VirtualTime)
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

    /// <summary>Manual mode: polls every stack until idle at the clock's time and wakes waiters.</summary>
    internal void Pump()
    {
        lock (Gate)
        {
            PollRound(_clock.Now);
            if (_ready) { _ready = false; Monitor.PulseAll(Gate); }
        }
    }

    /// <summary>Stops the thread (its last act is the shutdown grace), then marks the driver stopped and wakes every waiter.</summary>
    internal void Stop()
    {
        if (Interlocked.Exchange(ref _stopCalled, 1) != 0) return;
        _stopping = true;
        InterruptAll();
        var thread = _thread;
        if (thread is not null && !ReferenceEquals(thread, Thread.CurrentThread)) thread.Join(TimeSpan.FromSeconds(10));
        if (!_servicesStopped && _failure is null) Shutdown();
        lock (Gate)
        {
            if (!_servicesStopped) StopServices();
            _stopped = true;
            Monitor.PulseAll(Gate);
        }
    }

    // ------------------------------------------------------------------ the loop

    private void StartServices()
    {
        lock (Gate)
        {
            if (_started) throw new InvalidOperationException("the driver is already running");
            if (_hosts.Count == 0) throw new InvalidOperationException("the driver has no stack");
            _started = true;
            var now = _clock.Now;
            foreach (var h in _hosts)
                foreach (var s in h.Services) s.Start(h.Stack, now);
        }
    }

    private void StopServices()
    {
        _servicesStopped = true;
        var now = _clock.Now;
        foreach (var h in _hosts)
            foreach (var s in h.Services) s.Stop(h.Stack, now);
    }

    private void InterruptAll()
    {
        foreach (var h in _hosts) h.Stack.Link.Interrupt();
    }

    private void Loop(CancellationToken token)
    {
        try
        {
            while (!_stopping && !token.IsCancellationRequested)
            {
                bool worked;
                TimeSpan? next;
                int kicks;
                lock (Gate)
                {
                    var now = _clock.Now;
                    worked = PollRound(now);
                    next = NextDeadline(now);
                    foreach (var d in _deadlines) if (d <= now) { _ready = true; break; }
                    // One wake-up for the whole round, however many segments made sockets ready in it (issue 18 item 5).
                    if (_ready) { _ready = false; ReadyWakeups++; Monitor.PulseAll(Gate); }
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
                // Dekker-style with Kick: publish "sleeping", then look at the kicks; a kicker bumps the kicks, then looks
                // at "sleeping" and interrupts the link. Either this thread sees the kick or the kicker sees the sleep.
                Interlocked.Exchange(ref _sleeping, 1);
                if (Volatile.Read(ref _kicks) == kicks && !_stopping && !token.IsCancellationRequested)
                {
                    var wait = _virtual is not null ? TimeSpan.FromMilliseconds(1) : next is TimeSpan t ? t - _clock.Now : MaxSleep;
                    if (wait > MaxSleep) wait = MaxSleep;
                    if (wait > TimeSpan.Zero) _hosts[0].Stack.Link.WaitReadable(wait);
                }
                Interlocked.Exchange(ref _sleeping, 0);
            }
            Shutdown();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _failure = e;
            lock (Gate) Monitor.PulseAll(Gate);
            throw;
        }
        finally
        {
            if (!_stopping)
                lock (Gate) { _stopped = true; Monitor.PulseAll(Gate); }
        }
    }

    // Under the gate: posted actions, then every stack and its services until idle (at most 64 rounds). True if any worked.
    private bool PollRound(TimeSpan now)
    {
        while (_posted.TryDequeue(out var action)) action(_hosts[0].Stack);
        bool any = false;
        for (int round = 0; round < 64; round++)
        {
            bool worked = false;
            foreach (var h in _hosts)
            {
                worked |= h.Stack.Poll(now);
                foreach (var s in h.Services) s.Poll(h.Stack, now);
            }
            _polled = true;
            any |= worked;
            if (!worked) break;
        }
        return any;
    }

    private TimeSpan? NextDeadline(TimeSpan now)
    {
        TimeSpan? next = null;
        foreach (var h in _hosts)
        {
            if (h.Stack.NextDeadline(now) is TimeSpan d && (next is null || d < next)) next = d;
            foreach (var s in h.Services)
                if (s.NextDeadline is TimeSpan sd && (next is null || sd < next)) next = sd;
        }
        foreach (var d in _deadlines)
            if (next is null || d < next) next = d;
        return next;
    }

    private int QueuedFrames()
    {
        int queued = 0;
        foreach (var h in _hosts) queued += h.Stack.Interface.Arp.QueuedFrames + h.Stack.Interface.Nd.QueuedFrames;
        return queued;
    }

    // Stops the services, then polls the stacks while frames still wait for neighbour resolution (a RELEASE unicast to a
    // server not yet resolved), for at most ShutdownGrace on the driver's clock. In virtual time the clock jumps to the
    // next deadline (an ARP retry) when nothing moves, so the grace costs no real time.
    private void Shutdown()
    {
        TimeSpan until;
        lock (Gate)
        {
            if (_servicesStopped) return;
            StopServices();
            until = _clock.Now + ShutdownGrace;
        }
        while (true)
        {
            lock (Gate)
            {
                var now = _clock.Now;
                if (QueuedFrames() == 0 || now >= until) break;
                bool worked = false;
                foreach (var h in _hosts) worked |= h.Stack.Poll(now);
                if (_ready) { _ready = false; Monitor.PulseAll(Gate); }
                if (QueuedFrames() == 0) break;
                if (worked) continue;
                if (_virtual is not null)
                {
                    var next = NextDeadline(now) ?? until;
                    if (next <= now) next = now + TimeSpan.FromMilliseconds(1);   // always forward, so the grace ends
                    _virtual.Set(next < until ? next : until);
                    continue;
                }
            }
            _hosts[0].Stack.Link.WaitReadable(TimeSpan.FromMilliseconds(20));
        }
    }

    private sealed class Host(NetworkStack stack)
    {
        public NetworkStack Stack { get; } = stack;
        public List<IStackService> Services { get; } = [];
    }
}

/// <summary>How a <see cref="StackDriver"/> runs its stacks.</summary>
internal enum DriverMode
{
    /// <summary>A thread on the system clock (production).</summary>
    RealTime,
    /// <summary>A thread on a <see cref="ManualClock"/> that jumps to the next deadline while a caller is blocked and nothing else happens (tests).</summary>
    VirtualTime,
    /// <summary>No thread: a blocking call drives the stacks itself while it waits, as MicroPython on the Pico does (one-thread benchmarks).</summary>
    Manual,
}
