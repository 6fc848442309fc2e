using System.Collections.Concurrent;

namespace TcpIpSharp;

/// <summary>
/// Runs a stack on one thread in real time: polls it, runs its services and posted actions, and sleeps on the
/// link until a frame arrives or the next deadline. Everything that touches the stack runs on that thread.
/// </summary>
public sealed class StackDriver
{
    private readonly NetworkStack _stack;
    private readonly IClock _clock;
    private readonly List<IStackService> _services = [];
    private readonly ConcurrentQueue<Action<NetworkStack>> _posted = new();
    private static readonly TimeSpan MaxSleep = TimeSpan.FromMilliseconds(250);

    /// <summary>Drives <paramref name="stack"/> with <paramref name="clock"/> (the system clock when null).</summary>
    public StackDriver(NetworkStack stack, IClock? clock = null)
    {
        _stack = stack;
        _clock = clock ?? new SystemClock();
    }

    /// <summary>The clock the driver polls with.</summary>
    public IClock Clock => _clock;

    /// <summary>Adds a service; call before <see cref="Run"/>.</summary>
    public void Add(IStackService service) => _services.Add(service);

    /// <summary>Runs <paramref name="action"/> on the stack thread soon (thread-safe).</summary>
    public void Post(Action<NetworkStack> action)
    {
        _posted.Enqueue(action);
        _stack.Link.Interrupt();
    }

    /// <summary>Runs until <paramref name="token"/> is cancelled, on the calling thread.</summary>
    public void Run(CancellationToken token)
    {
        using var registration = token.Register(() => _stack.Link.Interrupt());
        var now = _clock.Now;
        foreach (var s in _services) s.Start(_stack, now);
        while (!token.IsCancellationRequested)
        {
            now = _clock.Now;
            while (_posted.TryDequeue(out var action)) action(_stack);
            bool worked = _stack.Poll(now);
            foreach (var s in _services) s.Poll(_stack, now);
            if (worked) continue;
            TimeSpan? deadline = _stack.NextDeadline(now);
            foreach (var s in _services)
                if (s.NextDeadline is TimeSpan d && (deadline is null || d < deadline)) deadline = d;
            var wait = deadline is TimeSpan t ? t - _clock.Now : MaxSleep;
            if (wait <= TimeSpan.Zero) continue;
            if (!_posted.IsEmpty) continue;
            _stack.Link.WaitReadable(wait < MaxSleep ? wait : MaxSleep);
        }
        Shutdown();
    }

    /// <summary>How long, at most, the driver keeps polling after stopping its services, so that what they sent last leaves.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(2);

    // Stops the services, then polls while frames still wait for ARP (a RELEASE unicast to a server not yet resolved).
    private void Shutdown()
    {
        var now = _clock.Now;
        foreach (var s in _services) s.Stop(_stack, now);
        var until = now + ShutdownGrace;
        while (_stack.Interface.Arp.QueuedFrames > 0 && _clock.Now < until)
        {
            _stack.Poll(_clock.Now);
            if (_stack.Interface.Arp.QueuedFrames == 0) break;
            _stack.Link.WaitReadable(TimeSpan.FromMilliseconds(20));
        }
    }

    /// <summary>Runs on a new background thread; returns it.</summary>
    public Thread Start(CancellationToken token)
    {
        var thread = new Thread(() => Run(token)) { IsBackground = true, Name = "tcpipsharp-stack" };
        thread.Start();
        return thread;
    }
}
