using System.Diagnostics;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>
/// <c>dotnet run --project Stack.Bench -c Release -- profile NAME [SECONDS] [CONNECTIONS] [ipv4|ipv6] [norack]</c>: runs one per-packet
/// operation in a loop for a while (to record with <c>perf record</c>, with <c>DOTNET_PerfMapEnabled=1</c>) and prints ns
/// per packet. NAME is a method of <see cref="PerPacketBenchmark"/> or <see cref="TcpSendBenchmark"/>, or one of the floors
/// <c>PollOnly</c>, <c>FrameNotForUs</c>, <c>TcpBadChecksum</c>. The family (default ipv4) is that of the frames and
/// connections (see <see cref="PerPacketHost"/>). Methods that return a value (UdpReceive, UdpSend, TcpCsumAlone) are
/// called directly, not through reflection, which boxed their results (24 bytes and some tens of ns per packet, in the
/// harness and not the stack, before this session).
/// <para>A last argument <c>lend-vs-copy</c> (after the family, if any) measures the stack's receive with the link lending
/// its frames and with it copying each into the stack's buffer (<see cref="BenchLink.CopyFrames"/>, what every link did
/// before issue 18 item 1), alternating every 200 operations in the same process, and prints the medians of each mode's
/// chunks and of the paired chunks' ratios: the two see the same load, which separate runs on a shared machine do not.</para>
/// </summary>
internal static class ProfileCommand
{
    public static int Run(string[] args)
    {
        bool lendVsCopy = args.Length > 0 && args[^1] == "lend-vs-copy";
        if (lendVsCopy) args = args[..^1];
        if (args.Length > 0 && args[^1] == "norack")
        {
            PerPacketHost.WithoutRack = true;
            args = args[..^1];
        }
        var family = IpFamily.IPv4;
        if (args.Length > 0 && args[^1] is "ipv4" or "ipv6" or "IPv4" or "IPv6")
        {
            family = args[^1].Equals("ipv6", StringComparison.OrdinalIgnoreCase) ? IpFamily.IPv6 : IpFamily.IPv4;
            args = args[..^1];
        }
        if (args.Length == 0) { Console.Error.WriteLine("usage: profile NAME [SECONDS] [CONNECTIONS] [ipv4|ipv6] [norack]"); return 2; }
        string name = args[0];
        double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
        int connections = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1;
        Action op;
        Action? before = null;
        int perOp = 1;
        BenchLink? link = null;
        if (name is "PollOnly" or "FrameNotForUs" or "TcpBadChecksum")
        {
            // The floors under every per-packet figure: a poll with no frame; a frame copied in and dropped at the
            // Ethernet layer (another host's MAC); a pure ACK parsed and dropped at the TCP checksum (Ethernet, IPv4
            // with its header checksum, TCP with its checksum: everything before the TCP table).
            var h = new PerPacketHost(connections, family);
            var notForUs = (byte[])h.PureAck.Clone();
            notForUs[0] ^= 0x40;
            var badChecksum = (byte[])h.PureAck.Clone();
            badChecksum[h.Layout.TcpChecksum] ^= 0x55;
            op = name switch
            {
                "PollOnly" => () => h.A.Poll(h.Now),
                "FrameNotForUs" => () => h.Inject(notForUs),
                _ => () => h.Inject(badChecksum),
            };
        }
        else if (name is nameof(TcpSendBenchmark.PureAck) or nameof(TcpSendBenchmark.PureAckBatch) or nameof(TcpSendBenchmark.SegmentSent))
        {
            var b = new TcpSendBenchmark { Connections = connections, Family = family };
            b.Setup();
            perOp = 2048;
            if (name == nameof(TcpSendBenchmark.PureAck)) { op = b.PureAck; before = b.SendForAcks; }
            else if (name == nameof(TcpSendBenchmark.PureAckBatch)) { op = b.PureAckBatch; before = b.SendForAcks; }
            else { op = b.SegmentSent; before = b.AckAll; }
        }
        else
        {
            var b = new PerPacketBenchmark { Connections = connections, Family = family };
            b.Setup();
            link = b.Host.LinkA;
            op = name switch
            {
                nameof(PerPacketBenchmark.UdpReceive) => () => b.UdpReceive(),
                nameof(PerPacketBenchmark.UdpSend) => () => b.UdpSend(),
                nameof(PerPacketBenchmark.TcpCsumAlone) => () => b.TcpCsumAlone(),
                nameof(PerPacketBenchmark.TcpCsumThenCopy) => () => b.TcpCsumThenCopy(),
                nameof(PerPacketBenchmark.TcpCsumAndCopy) => () => b.TcpCsumAndCopy(),
                _ => (Action?)Delegate.CreateDelegate(typeof(Action), b, typeof(PerPacketBenchmark).GetMethod(name) ?? throw new ArgumentException("no benchmark " + name), throwOnBindFailure: false)
                    ?? throw new ArgumentException(name + " returns a value: add it to the switch"),
            };
            if (name is nameof(PerPacketBenchmark.TcpDataReceived) or nameof(PerPacketBenchmark.TcpDataReceivedBatch)) perOp = 32;
        }
        if (lendVsCopy)
        {
            if (link is null || before is not null) { Console.Error.WriteLine("lend-vs-copy: only for the PerPacketBenchmark methods"); return 2; }
            return LendVsCopy(name, family, connections, seconds, op, perOp, link);
        }
        var measured = TimeSpan.Zero;
        long packets = 0, allocated = 0, cpuNanoseconds = 0;
        ThreadCpu.Nanoseconds();   // binds the P/Invoke (80 bytes, once) before anything is measured
        // Each chunk's thread CPU per packet, for the median: a burst of other work on the machine (or the JIT's warm-up at
        // the start) spoils a few chunks, not the figure, where it moves the mean.
        var chunkCpu = new double[1 << 18];
        int chunks = 0;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            before?.Invoke();
            long bytesBefore = GC.GetAllocatedBytesForCurrentThread();
            long cpuStart = ThreadCpu.Nanoseconds();
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < (before is null ? 1000 : 1); i++) { op(); packets += perOp; }
            measured += Stopwatch.GetElapsedTime(start);
            long chunkNanoseconds = ThreadCpu.Nanoseconds() - cpuStart;
            cpuNanoseconds += chunkNanoseconds;
            if (chunks < chunkCpu.Length) chunkCpu[chunks++] = (double)chunkNanoseconds / ((before is null ? 1000 : 1) * perOp);
            allocated += GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
        }
        // The thread's CPU time leaves out the time the thread waited for a core, which on a shared machine the wall
        // clock counts: on a loaded machine the CPU figure is the one to compare between builds.
        string cpu = cpuNanoseconds > 0 ? $" ({(double)cpuNanoseconds / packets:F1} ns of the thread's CPU time)" : "";
        Console.WriteLine($"{name} {family}{(PerPacketHost.WithoutRack ? " without RACK" : "")} at {connections} connections: {measured.TotalNanoseconds / packets:F1} ns per packet{cpu} over {packets} packets, {allocated} bytes allocated while measuring{MedianNote(chunkCpu, chunks)}");
        return 0;
    }

    // "; median ... ns of CPU time per packet over N chunks", or nothing without a CPU clock.
    private static string MedianNote(double[] values, int count)
        => count == 0 || values[0] <= 0 ? "" : $"; median {Median(values, count):F1} ns of CPU time per packet over {count} chunks";

    private static int LendVsCopy(string name, IpFamily family, int connections, double seconds, Action op, int perOp, BenchLink link)
    {
        // Chunks of 200 operations, lent and copied in turn; each pair of neighbouring chunks gives one ratio. The median
        // of those ratios and of each mode's chunks is what is printed: a burst of other work on the machine spoils a
        // few chunks, not the figure.
        const int chunk = 200, maximumPairs = 200_000;
        var lentChunks = new double[maximumPairs];
        var copiedChunks = new double[maximumPairs];
        var ratios = new double[maximumPairs];
        long allocated = 0;
        int pairs = 0;
        // The three arrays above are large: collect now, so that no collection they prompt falls inside the measured
        // windows (GetAllocatedBytesForCurrentThread can be off across one).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds && pairs < maximumPairs)
        {
            long bytesBefore = GC.GetAllocatedBytesForCurrentThread();
            for (int copy = 0; copy < 2; copy++)
            {
                // Alternate which mode goes first, so neither always follows the other.
                bool copied = (copy ^ (pairs & 1)) == 1;
                link.CopyFrames = copied;
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < chunk; i++) op();
                double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / (chunk * perOp);
                (copied ? copiedChunks : lentChunks)[pairs] = ns;
            }
            allocated += GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
            ratios[pairs] = lentChunks[pairs] / copiedChunks[pairs];
            pairs++;
        }
        double lent = Median(lentChunks, pairs), copiedMedian = Median(copiedChunks, pairs), ratio = Median(ratios, pairs);
        Console.WriteLine($"{name} {family}{(PerPacketHost.WithoutRack ? " without RACK" : "")} at {connections} connections: lent {lent:F1} ns, copied {copiedMedian:F1} ns per packet (medians of {pairs} chunks of {chunk * perOp} packets each); "
            + $"lent/copied {ratio:F3} (median of the paired chunks), {allocated} bytes allocated while measuring");
        return 0;
    }

    private static double Median(double[] values, int count)
    {
        Array.Sort(values, 0, count);
        return count == 0 ? double.NaN : count % 2 == 1 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
    }
}

/// <summary>The calling thread's CPU time (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>); 0 where that is not available.</summary>
internal static partial class ThreadCpu
{
    private const int ClockThreadCpuTime = 3;

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static long Nanoseconds()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        return ClockGetTime(ClockThreadCpuTime, out var t) == 0 ? t.Seconds * 1_000_000_000 + t.Nanoseconds : 0;
    }
}
