using System.Diagnostics;
using System.Runtime.Versioning;

namespace TcpIpSharp.Bench.Throughput;

/// <summary>
/// Times a running transfer from the main thread: waits for the first bytes, lets it warm up, then samples a byte
/// counter and the process's CPU time at the start and the end of the window, printing progress once a second.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class MeasurementWindow
{
    private static readonly TimeSpan WarmUp = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan FirstBytesLimit = TimeSpan.FromSeconds(10);

    /// <summary>What a window saw.</summary>
    public readonly record struct Sample(long Bytes, TimeSpan Elapsed, TimeSpan User, TimeSpan System)
    {
        /// <summary>Gigabits per second over the window.</summary>
        public double Gbps => Bytes * 8 / Elapsed.TotalSeconds / 1e9;
    }

    /// <summary>Measures for <paramref name="length"/>; <paramref name="bytes"/> reads the receiver's counter, <paramref name="failure"/> a worker's exception.</summary>
    public static Sample Run(string label, TimeSpan length, Func<long> bytes, Func<Exception?> failure, CancellationToken token)
    {
        var wait = Stopwatch.StartNew();
        while (bytes() == 0)
        {
            Check(failure, token);
            if (wait.Elapsed > FirstBytesLimit) throw new TimeoutException($"{label}: no data arrived within {FirstBytesLimit.TotalSeconds:0} s");
            Thread.Sleep(5);
        }
        Sleep(WarmUp, failure, token);
        long startBytes = bytes();
        var (startUser, startSystem) = CpuTime.Process();
        var clock = Stopwatch.StartNew();
        long lastBytes = startBytes;
        var lastTime = TimeSpan.Zero;
        while (clock.Elapsed < length)
        {
            var step = length - clock.Elapsed;
            Sleep(step < TimeSpan.FromSeconds(1) ? step : TimeSpan.FromSeconds(1), failure, token);
            long b = bytes();
            var t = clock.Elapsed;
            string line = $"    {label}: {t.TotalSeconds,4:0.0} s  {(b - lastBytes) * 8 / (t - lastTime).TotalSeconds / 1e9,6:0.00} Gbit/s";
            if (Console.IsErrorRedirected) Console.Error.WriteLine(line);
            else Console.Error.Write("\r" + line + "   ");
            lastBytes = b;
            lastTime = t;
        }
        long endBytes = bytes();
        var elapsed = clock.Elapsed;
        var (endUser, endSystem) = CpuTime.Process();
        if (!Console.IsErrorRedirected) Console.Error.Write("\r" + new string(' ', 79) + "\r");
        return new Sample(endBytes - startBytes, elapsed, endUser - startUser, endSystem - startSystem);
    }

    private static void Sleep(TimeSpan time, Func<Exception?> failure, CancellationToken token)
    {
        var until = Stopwatch.StartNew();
        while (until.Elapsed < time)
        {
            Check(failure, token);
            var left = time - until.Elapsed;
            if (left > TimeSpan.Zero) token.WaitHandle.WaitOne(left < TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50));
        }
        Check(failure, token);
    }

    private static void Check(Func<Exception?> failure, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        if (failure() is { } e) throw new InvalidOperationException("a worker failed: " + e.Message, e);
    }
}
