using System.Diagnostics;
using BenchmarkDotNet.Running;

namespace TcpIpSharp.Bench;

/// <summary>
/// Runs the BenchmarkDotNet suites: <c>dotnet run --project Stack.Bench -c Release -- --filter '*'</c>, or the
/// throughput harness: <c>... -- throughput [--quick] [--seconds N]</c> (see <see cref="Throughput.ThroughputCommand"/>).
/// <para>
/// <c>--quick</c> stands for <c>--job short --inProcess --iterationTime 100</c> and runs the process with
/// <c>DOTNET_TieredCompilation=0</c>: one pass of every suite in under two minutes on two cores, for smoke runs and
/// docs/benchmarks.md. Why tiering off: in-process short runs are over before tier-1 code replaces tier-0 code for
/// some suites (ARP measured 1 us instead of 16 ns), so quick mode measures fully optimised code from the start.
/// Less precise than the default job (three iterations, no separate process per benchmark).
/// </para>
/// Parse suites read frames from ../shared/captures, or embedded frames when it is absent (TCPIPSHARP_CAPTURES
/// overrides the folder).
/// </summary>
internal static class Program
{
    private static readonly string[] QuickArguments = ["--job", "short", "--inProcess", "--iterationTime", "100"];
    private const string TieredCompilation = "DOTNET_TieredCompilation";

    private static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "throughput")
            return OperatingSystem.IsLinux() ? Throughput.ThroughputCommand.Run(args[1..]) : Fail("throughput needs Linux (network namespaces and a TAP)");
        if (args.Length > 0 && args[0] == "plot") return Charts.PerPacket(args[1..]);
        if (args.Length > 0 && args[0] == "profile") return PerPacket.ProfileCommand.Run(args[1..]);
        if (args.Length > 0 && args[0] == "connrate") return PerPacket.ConnectionRateCommand.Run(args[1..]);
        if (args.Contains("--quick") && Environment.GetEnvironmentVariable(TieredCompilation) != "0")
            return RunAgainWithoutTiering(args);
        var expanded = args.SelectMany(a => a == "--quick" ? QuickArguments : [a]).ToArray();
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(expanded);
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }

    private static int RunAgainWithoutTiering(string[] args)
    {
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment[TieredCompilation] = "0";
        using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start " + host);
        child.WaitForExit();
        return child.ExitCode;
    }
}
