using System.Runtime.CompilerServices;

namespace TcpIpSharp.Transport.Tcp;

/// <summary>
/// A point in the stack's time or none: what a <c>TimeSpan?</c> says, in 8 bytes instead of 16 (none is
/// <see cref="long.MaxValue"/> ticks, a time the stack never reaches). A connection keeps ten of these, and at 100,000
/// connections the difference is 8 MB (issue 18: at most 1 KB per idle connection). Compared with a time, none is later
/// than every time, as a null <c>TimeSpan?</c> compares false: <c>deadline &lt;= now</c> is false when there is none.
/// </summary>
internal readonly struct Deadline
{
    private readonly long _ticks;
    private Deadline(long ticks) => _ticks = ticks;

    public static Deadline None => new(long.MaxValue);
    public bool HasValue => _ticks != long.MaxValue;
    /// <summary>The time, or <see cref="TimeSpan.MaxValue"/> when there is none (no throw, so it always inlines).</summary>
    public TimeSpan OrMaxValue => new(_ticks);
    /// <summary>The time; only when <see cref="HasValue"/>.</summary>
    public TimeSpan Value => HasValue ? new TimeSpan(_ticks) : throw new InvalidOperationException("no deadline");
    public TimeSpan? AsNullable => HasValue ? new TimeSpan(_ticks) : null;

    // Forced inline: on the pure ACK's path the JIT's budget had run out and each conversion was a call (JIT listing).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static implicit operator Deadline(TimeSpan time) => new(time == TimeSpan.MaxValue ? long.MaxValue - 1 : time.Ticks);
    // Forced inline: on the pure ACK's path the JIT's budget had run out and each conversion was a call (JIT listing).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static implicit operator Deadline(TimeSpan? time) => time is TimeSpan t ? t : None;
    public static implicit operator TimeSpan?(Deadline deadline) => deadline.AsNullable;

    public static bool operator <=(Deadline deadline, TimeSpan time) => deadline.HasValue && deadline._ticks <= time.Ticks;
    public static bool operator >=(Deadline deadline, TimeSpan time) => deadline.HasValue && deadline._ticks >= time.Ticks;
    public static bool operator <(Deadline deadline, TimeSpan time) => deadline.HasValue && deadline._ticks < time.Ticks;
    public static bool operator >(Deadline deadline, TimeSpan time) => deadline.HasValue && deadline._ticks > time.Ticks;

    public override string ToString() => HasValue ? Value.ToString() : "none";
}
