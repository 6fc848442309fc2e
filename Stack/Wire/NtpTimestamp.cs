namespace TcpIpSharp.Wire;

/// <summary>
/// An NTP timestamp (RFC 5905 6): 32 bits of seconds since the start of the current era and 32 bits of fraction. Era 0
/// began 1900-01-01 00:00:00 UTC and ends 2036-02-07 06:28:16 UTC, when the seconds wrap into era 1. Differences of two
/// timestamps are taken modulo 2^64 as RFC 5905 does, so they are right across the wrap when the two lie within 68 years.
/// </summary>
/// <param name="Value">Seconds in the high 32 bits, fraction in the low 32.</param>
public readonly record struct NtpTimestamp(ulong Value)
{
    /// <summary>The start of era 0: 1900-01-01 00:00:00 UTC.</summary>
    public static readonly DateTime Era0 = new(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    /// <summary>The start of era 1, where the 32-bit seconds wrap: 2036-02-07 06:28:16 UTC.</summary>
    public static readonly DateTime Era1 = Era0.AddTicks((1L << 32) * TimeSpan.TicksPerSecond);
    private const long EraTicks = (1L << 32) * TimeSpan.TicksPerSecond;

    /// <summary>The whole seconds (modulo 2^32).</summary>
    public uint Seconds => (uint)(Value >> 32);
    /// <summary>The fraction of a second, in units of 2^-32 s.</summary>
    public uint Fraction => (uint)Value;
    /// <summary>True for the zero timestamp, which RFC 5905 uses for "unknown".</summary>
    public bool IsZero => Value == 0;

    /// <summary>The timestamp of <paramref name="utc"/> (in whichever era it falls; 100 ns resolution).</summary>
    public static NtpTimestamp FromDateTime(DateTime utc)
    {
        long ticks = utc.ToUniversalTime().Ticks - Era0.Ticks;
        long inEra = ((ticks % EraTicks) + EraTicks) % EraTicks;
        ulong seconds = (ulong)(inEra / TimeSpan.TicksPerSecond);
        // Rounded up, so that turning it back (rounding down) gives the same ticks.
        ulong fraction = ((ulong)(inEra % TimeSpan.TicksPerSecond) * (1UL << 32) + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
        return new NtpTimestamp(seconds << 32 | fraction);
    }

    /// <summary>
    /// The time this timestamp stands for, choosing the era that puts it nearest <paramref name="pivot"/> (RFC 5905's
    /// rule; within 68 years either side it is unambiguous).
    /// </summary>
    public DateTime ToDateTime(DateTime pivot)
    {
        var inPivotEra = pivot.ToUniversalTime().Ticks - Era0.Ticks;
        long era = Math.Max(0, inPivotEra >= 0 ? inPivotEra / EraTicks : -1);
        long best = long.MinValue;
        for (long e = Math.Max(0, era - 1); e <= era + 1; e++)
        {
            long candidate = Era0.Ticks + e * EraTicks + OffsetInEraTicks;
            if (candidate > DateTime.MaxValue.Ticks) break;
            if (best == long.MinValue || Math.Abs(candidate - pivot.Ticks) < Math.Abs(best - pivot.Ticks)) best = candidate;
        }
        return new DateTime(best, DateTimeKind.Utc);
    }

    /// <summary>
    /// The time by RFC 4330 3's rule, with no clock to compare: a set top bit of the seconds is era 0 (1968-2036), a
    /// clear one era 1 (2036-2104).
    /// </summary>
    public DateTime ToDateTime() => new((Seconds & 0x8000_0000) != 0 ? Era0.Ticks + OffsetInEraTicks : Era1.Ticks + OffsetInEraTicks, DateTimeKind.Utc);

    private long OffsetInEraTicks => Seconds * TimeSpan.TicksPerSecond + (long)((ulong)Fraction * TimeSpan.TicksPerSecond >> 32);

    /// <summary><paramref name="a"/> − <paramref name="b"/> modulo 2^64, as signed 32.32 fixed point turned into a <see cref="TimeSpan"/>.</summary>
    public static TimeSpan Difference(NtpTimestamp a, NtpTimestamp b) => FixedToTimeSpan((long)(a.Value - b.Value));

    /// <summary>A signed 32.32 fixed-point number of seconds as a <see cref="TimeSpan"/> (rounded to the nearest 100 ns).</summary>
    public static TimeSpan FixedToTimeSpan(long fixed32)
    {
        long seconds = fixed32 >> 32;
        long fraction = fixed32 & 0xFFFF_FFFF;
        return TimeSpan.FromTicks(seconds * TimeSpan.TicksPerSecond + ((fraction * TimeSpan.TicksPerSecond + (1L << 31)) >> 32));
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Seconds:x8}.{Fraction:x8}";
}
