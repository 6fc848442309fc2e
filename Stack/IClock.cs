using System.Diagnostics;

namespace TcpIpSharp;

/// <summary>A monotonic clock. The protocol code never reads the time itself; the driver passes it in.</summary>
public interface IClock
{
    /// <summary>Time since an arbitrary fixed origin.</summary>
    TimeSpan Now { get; }
}

/// <summary>The process's monotonic clock (<see cref="Stopwatch"/>), origin at construction.</summary>
public sealed class SystemClock : IClock
{
    private readonly long _start = Stopwatch.GetTimestamp();
    /// <inheritdoc/>
    public TimeSpan Now => Stopwatch.GetElapsedTime(_start);
}

/// <summary>A clock that moves only when told: virtual time for tests and simulation.</summary>
public sealed class ManualClock : IClock
{
    /// <inheritdoc/>
    public TimeSpan Now { get; private set; }
    /// <summary>Moves the clock forward.</summary>
    public void Advance(TimeSpan by) => Now += by;
    /// <summary>Sets the clock (never backwards).</summary>
    public void Set(TimeSpan now) => Now = now > Now ? now : Now;
}
