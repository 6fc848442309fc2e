using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace TcpIpSharp.Bench.Throughput;

/// <summary>User and system CPU time from <c>getrusage(2)</c>: the whole process, or the calling thread.</summary>
[SupportedOSPlatform("linux")]
internal static partial class CpuTime
{
    private const int RusageSelf = 0;
    private const int RusageThread = 1;
    private const int RusageSize = 144;   // struct rusage on 64-bit Linux: two timevals, then 14 longs

    /// <summary>CPU time of every thread of this process so far.</summary>
    public static (TimeSpan User, TimeSpan System) Process() => Read(RusageSelf);

    /// <summary>CPU time of the calling thread so far.</summary>
    public static (TimeSpan User, TimeSpan System) Thread() => Read(RusageThread);

    private static (TimeSpan User, TimeSpan System) Read(int who)
    {
        Span<byte> usage = stackalloc byte[RusageSize];
        if (GetRUsage(who, ref usage[0]) != 0) throw new IOException($"getrusage failed (errno {Marshal.GetLastPInvokeError()})");
        return (Timeval(usage), Timeval(usage[16..]));
    }

    private static TimeSpan Timeval(ReadOnlySpan<byte> t)
        => TimeSpan.FromTicks(BinaryPrimitives.ReadInt64LittleEndian(t) * TimeSpan.TicksPerSecond + BinaryPrimitives.ReadInt64LittleEndian(t[8..]) * TimeSpan.TicksPerMicrosecond);

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRUsage(int who, ref byte usage);
}
