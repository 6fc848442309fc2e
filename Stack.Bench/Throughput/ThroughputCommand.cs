using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using TcpIpSharp.Linux;

namespace TcpIpSharp.Bench.Throughput;

/// <summary>
/// <c>dotnet run --project Stack.Bench -c Release -- throughput [--quick] [--seconds N] [--cases LETTERS]</c> (as root): one TCP
/// connection each direction, (a) the stack over a TAP to the kernel, (b) the same with offloads, (c) the kernel to
/// the kernel over a veth pair with offloads on and off, (d) two stacks over the in-memory pair, (e) single-thread
/// memcpy; a table (Gbit/s, CPU seconds user and system, bytes per CPU-second) and a closing <c>ratios:</c> line.
/// <c>--family ipv4|ipv6|both</c> (default both): (a) and (b) over IPv4, over IPv6 (the stack dual-stack with a static
/// 2001:db8::2, the kernel's TAP 2001:db8::1), or each over both, the IPv6 row right after its IPv4 twin, and a
/// <c>ipv6_vs_ipv4:</c> line with each IPv6 row over its IPv4 twin. (c), (d) and (e) are IPv4 only.
/// </summary>
/// <remarks>Every namespace it makes is deleted at the end, also on Ctrl-C, SIGTERM or a failure; namespaces of an
/// earlier run killed with SIGKILL are deleted at the start. Progress goes to standard error, the table to standard output.</remarks>
[SupportedOSPlatform("linux")]
internal static class ThroughputCommand
{
    public const string Usage = "throughput [--quick] [--seconds N] [--cases LETTERS] [--direction rx|tx] [--family ipv4|ipv6|both] [--no-tx-thread] [--send-buffer KB] [--receive-buffer KB] [--direct-receive] [--io frame|uring|both] [--plot]";

    public static int Run(string[] args)
    {
        double seconds = 5;
        string cases = "abcde";
        string? direction = null;
        // (a) stack→kernel: the TAP's transmit thread and a 1 MB send buffer (see TapCase); the flags go back to the
        // plain link and the stack's default 256 KB.
        bool transmitThread = true;
        int sendBuffer = 1024 * 1024;
        // (a) and (b) kernel→stack: a 4 MB receive buffer (the stack's own default is 256 KB). The kernel's receiver in
        // (c) autotunes its buffer (tcp_rmem up to 32 MB here; iperf3's reached 16 MB with a 10 MB window in 3 s), and
        // with 256 KB the kernel's sender was limited by our window 42-70% of the time (ss rwnd_limited; docs/benchmarks.md).
        int receiveBuffer = 4096 * 1024;
        bool plot = false;
        string family = "both";
        string io = "frame";
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": seconds = 2; break;
                case "--plot": plot = true; break;   // draw docs/throughput.png from this run
                case "--seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0:
                    seconds = s;
                    i++;
                    break;
                case "--cases" when i + 1 < args.Length && args[i + 1].Length > 0 && args[i + 1].All(c => c is >= 'a' and <= 'e'):
                    cases = args[i + 1];   // e.g. "ab": only those cases (for profiling one path); ratios need the others
                    i++;
                    break;
                case "--direction" when i + 1 < args.Length && args[i + 1] is "rx" or "tx":
                    direction = args[i + 1];   // (a) and (b) in one direction only: rx kernel→stack, tx stack→kernel (for profiling)
                    i++;
                    break;
                case "--send-buffer" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) && kb is > 0 and <= 65536:
                    sendBuffer = kb * 1024;   // (a) stack→kernel: the stack's send buffer in KB (default 1024; the stack's own default is 256)
                    i++;
                    break;
                case "--receive-buffer" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var rkb) && rkb is > 0 and <= 65536:
                    receiveBuffer = rkb * 1024;   // (a) and (b) kernel→stack: the stack's receive buffer in KB (default 4096; the stack's own default is 256)
                    i++;
                    break;
                case "--family" when i + 1 < args.Length && args[i + 1] is "ipv4" or "ipv6" or "both":
                    family = args[i + 1];   // the families of (a) and (b)
                    i++;
                    break;
                case "--io" when i + 1 < args.Length && args[i + 1] is "frame" or "uring" or "both":
                    io = args[i + 1];   // the TAP cases one system call per frame, batched through io_uring, or both alternating
                    i++;
                    break;
                case "--direct-receive":
                    TapCase.DirectReceive = true;   // (a) and (b) kernel→stack: the application takes data from the lent frame (TcpConnection.DirectReceiver)
                    break;
                case "--no-tx-thread":
                    transmitThread = false;   // (a) stack→kernel: the stack's thread writes the TAP's frames itself
                    break;
                default:
                    Console.Error.WriteLine($"usage: {Usage} (unknown argument '{args[i]}')");
                    return 2;
            }
        }
        if (!Environment.IsPrivilegedProcess) { Console.Error.WriteLine("throughput: run as root (it makes network namespaces, a TAP and a veth pair)"); return 2; }
        if (Shell.Which("ip") is null) { Console.Error.WriteLine("throughput: 'ip' (iproute2) is not installed"); return 2; }

        using var cancel = new CancellationTokenSource();
        // Ctrl-C, SIGTERM and SIGHUP cancel the run instead of ending the process: the main thread unwinds through the
        // finally blocks, which delete the namespaces, and exits with 128 + the signal.
        int signalled = 0;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.CompareExchange(ref signalled, context.Signal switch { PosixSignal.SIGINT => 2, PosixSignal.SIGHUP => 1, _ => 15 }, 0) == 0)
                Console.Error.WriteLine($"\nthroughput: {context.Signal}, cleaning up");
            cancel.Cancel();
        }
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var onHup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);
        try
        {
            BenchNamespace.DeleteStale();
            return Measure(TimeSpan.FromSeconds(seconds), cases, direction, family, transmitThread, sendBuffer, receiveBuffer, args, plot, cancel.Token, io);
        }
        catch (Exception e) when (cancel.IsCancellationRequested && e is OperationCanceledException or TimeoutException or InvalidOperationException or AggregateException)
        {
            Console.Error.WriteLine("throughput: interrupted; namespaces deleted");
            return 128 + Volatile.Read(ref signalled);
        }
#pragma warning disable CA1031 // reported, then the namespaces are deleted and the exit status says it failed
        catch (Exception e)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine("throughput: failed: " + e);
            return 1;
        }
        finally
        {
            BenchNamespace.DeleteAll();
        }
    }

    private static int Measure(TimeSpan length, string cases, string? direction, string family, bool transmitThread, int sendBuffer, int receiveBuffer, string[] args, bool plot, CancellationToken token, string io = "frame")
    {
        string loadBefore = LoadAverage();
        var started = DateTimeOffset.UtcNow;
        Console.WriteLine($"# throughput, {started:yyyy-MM-dd HH:mm} UTC; {length.TotalSeconds:0.#} s per case; one TCP connection each; MTU 1500");
        Console.WriteLine($"# machine: {Machine()}");
        Console.WriteLine($"# command: dotnet run --project Stack.Bench -c Release -- throughput {string.Join(' ', args)}".TrimEnd());
        Console.WriteLine($"# load average at start: {loadBefore}");

        bool v4 = family != "ipv6", v6 = family != "ipv4";
        var tap = new List<(string Label, Func<Measurement> Run)>();
        foreach (var (offloads, letter) in new[] { (false, "(a) stack over TAP"), (true, "(b) stack over TAP with offloads") })
        {
            foreach (bool rx in new[] { true, false })
            {
                string dir = rx ? "kernel→stack" : "stack→kernel";
                // The stack→kernel options (transmit thread, send buffer) apply to (a) as before, over either family.
                bool thread = !offloads && !rx && transmitThread;
                int buffer = !offloads && !rx ? sendBuffer : 0;
                int receive = rx ? receiveBuffer : 0;
                // --io both: each TAP row per frame, then batched through io_uring, alternating in the one run.
                foreach (var mode in io switch { "uring" => [TapIoMode.IoUring], "both" => new[] { TapIoMode.PerFrame, TapIoMode.IoUring }, _ => [TapIoMode.PerFrame] })
                {
                    string u = mode == TapIoMode.IoUring ? ", io_uring" : "";
                    if (v4) tap.Add(($"{letter}{u}, {dir}", () => TapCase.Run(offloads, rx, length, token, thread, buffer, io: mode, receiveBuffer: receive)));
                    if (v6) tap.Add(($"{letter}{u}, {dir}, IPv6", () => TapCase.Run(offloads, rx, length, token, thread, buffer, ipv6: true, io: mode, receiveBuffer: receive)));
                }
            }
        }
        (string Label, Func<Measurement> Run)[] plan =
        [
            .. tap,
            ("(c) kernel↔kernel veth, offloads on", () => VethCase.Run(true, length, token)),
            ("(c) kernel↔kernel veth, offloads off", () => VethCase.Run(false, length, token)),
            ("(d) two stacks over the in-memory pair", () => PairCase.Run(length, token)),
            ("(e) memcpy", () => MemcpyCase.Run(length, token)),
        ];
        plan = [.. plan.Where(p => cases.Contains(p.Label[1], StringComparison.Ordinal)
            && (direction is null || !p.Label.Contains(direction == "rx" ? "stack→kernel" : "kernel→stack", StringComparison.Ordinal)))];
        var rows = new List<Measurement>();
        for (int i = 0; i < plan.Length; i++)
        {
            Console.Error.WriteLine($"[{i + 1}/{plan.Length}] {plan[i].Label}");
            var m = plan[i].Run();
            rows.Add(m);
            Console.Error.WriteLine(m.Gbps is double g ? $"      {g:0.00} Gbit/s" : "      " + m.Note);
        }

        Console.WriteLine();
        Console.WriteLine("| case | direction | Gbit/s | CPU user s | CPU sys s | bytes/CPU-s |");
        Console.WriteLine("|------|-----------|-------:|-----------:|----------:|------------:|");
        foreach (var m in rows)
        {
            if (m.Gbps is double g)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {m.Case} | {m.Direction} | {g:0.00} | {m.User.TotalSeconds:0.00} | {m.System.TotalSeconds:0.00} | {(m.BytesPerCpuSecond is double b ? b.ToString("0.00e0", CultureInfo.InvariantCulture) : "-")} |"));
            else
                Console.WriteLine($"| {m.Case} | {m.Direction} | {m.Note} | | | |");
        }
        Console.WriteLine();
        foreach (var note in rows.Where(r => r.Gbps is not null).Select(r => r.Case + ": " + r.Note).Distinct())
            Console.WriteLine("# " + note);
        Console.WriteLine($"# load average at end: {LoadAverage()} (2 cores shared with other work: figures are noisy)");

        double? Find(string prefix, string? direction = null, bool ipv6 = false, bool uring = false)
            => rows.FirstOrDefault(r => r.Case.StartsWith(prefix, StringComparison.Ordinal) && r.Case.EndsWith(", IPv6", StringComparison.Ordinal) == ipv6
                && r.Case.Contains(", io_uring", StringComparison.Ordinal) == (uring || io == "uring")
                && (direction is null || r.Direction == direction))?.Gbps;
        var vethOn = Find("(c) kernel↔kernel veth, offloads on");
        var vethOff = Find("(c) kernel↔kernel veth, offloads off");
        string Ratio(double? a, double? b) => a is double x && b is double y && y > 0 ? (x / y).ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
        Console.WriteLine("ratios: " + string.Join(' ',
            "tap_rx=" + Ratio(Find("(a)", "kernel→stack"), vethOff),
            "tap_tx=" + Ratio(Find("(a)", "stack→kernel"), vethOff),
            "offload_rx=" + Ratio(Find("(b)", "kernel→stack"), vethOn),
            "offload_tx=" + Ratio(Find("(b)", "stack→kernel"), vethOn),
            "pair_vs_memcpy=" + Ratio(Find("(d)"), Find("(e)"))));
        if (v4 && v6)
        {
            // issue 14: each IPv6 row within 10% of its IPv4 twin, same run (1.00 = equal; below 0.90 misses).
            Console.WriteLine("ipv6_vs_ipv4: " + string.Join(' ',
                "tap_rx=" + Ratio(Find("(a)", "kernel→stack", ipv6: true), Find("(a)", "kernel→stack")),
                "tap_tx=" + Ratio(Find("(a)", "stack→kernel", ipv6: true), Find("(a)", "stack→kernel")),
                "offload_rx=" + Ratio(Find("(b)", "kernel→stack", ipv6: true), Find("(b)", "kernel→stack")),
                "offload_tx=" + Ratio(Find("(b)", "stack→kernel", ipv6: true), Find("(b)", "stack→kernel"))));
        }
        if (io == "both")
        {
            // issue 18 item 3: the TAP batched through io_uring against one system call per frame, same run (above 1.00: io_uring faster).
            Console.WriteLine("uring_vs_frame: " + string.Join(' ',
                "tap_rx=" + Ratio(Find("(a)", "kernel→stack", uring: true), Find("(a)", "kernel→stack")),
                "tap_tx=" + Ratio(Find("(a)", "stack→kernel", uring: true), Find("(a)", "stack→kernel")),
                "offload_rx=" + Ratio(Find("(b)", "kernel→stack", uring: true), Find("(b)", "kernel→stack")),
                "offload_tx=" + Ratio(Find("(b)", "stack→kernel", uring: true), Find("(b)", "stack→kernel"))));
        }
        if (plot) Console.Error.WriteLine(Charts.Throughput(rows, $"{started:yyyy-MM-dd HH:mm} UTC, {length.TotalSeconds:0.#} s per case, load average {loadBefore}"));
        return 0;
    }

    private static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }

    private static string Machine()
    {
        var sb = new StringBuilder();
        try
        {
            var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            if (model is not null) sb.Append(model[(model.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()).Append(", ");
            sb.Append(Environment.ProcessorCount).Append(" cores, Linux ").Append(File.ReadAllText("/proc/sys/kernel/osrelease").Trim());
        }
        catch (IOException) { sb.Append(Environment.ProcessorCount).Append(" cores"); }
        sb.Append(", ").Append(RuntimeInformation.FrameworkDescription);
        return sb.ToString();
    }
}
