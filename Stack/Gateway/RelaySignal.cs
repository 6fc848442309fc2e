using System.Threading.Tasks.Sources;

namespace TcpIpSharp.Gateway;

/// <summary>
/// An auto-reset signal with one waiter and no allocation per wait (a reusable <see cref="IValueTaskSource"/>): the
/// stack's thread sets it, a relay task awaits it. A set with nobody waiting is kept for the next wait. The
/// continuation runs on the thread pool, never inline on the setter (the stack's thread, holding the gate).
/// </summary>
internal sealed class RelaySignal : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private readonly Lock _lock = new();
    private bool _set, _waiting;

    public ValueTask WaitAsync()
    {
        lock (_lock)
        {
            if (_set) { _set = false; return default; }
            _core.Reset();
            _waiting = true;
            return new ValueTask(this, _core.Version);
        }
    }

    public void Set()
    {
        lock (_lock)
        {
            if (!_waiting) { _set = true; return; }
            _waiting = false;
            _core.SetResult(true);
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);
    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
