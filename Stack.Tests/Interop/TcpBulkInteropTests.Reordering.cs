using System.Globalization;
using System.Text.RegularExpressions;

namespace TcpIpSharp.Tests.Interop;

// Issue 16 (RACK-TLP, RFC 8985): 100 MB from the stack to the kernel, clean and with 1% of the stack's frames
// reordered (held back 3 ms, times 0.5-1, by the library's fault injector: --reorder; DESIGN.md 7, no netem here),
// with RACK and with the duplicate-ACK threshold it replaced (--no-rack, which is the detection of main before RACK),
// side by side in one run; and the 2% loss runs' retransmissions with and without RACK. The stack is the sender, so
// its loss detection is what reordering tests. Figures go to the test output. The issue's target, RACK under 1%
// reordering within 10% of the clean run's throughput (the better of two runs each), is reported, not asserted (a
// performance figure, recorded in docs/benchmarks.md): at load 10 on 2 cores the same transfer swings by 30%. TCPIPSHARP_BASELINE_PROGRAM adds a 2% loss run of another build (main before RACK).
public partial class TcpBulkInteropTests
{
    // TCPIPSHARP_REORDER=RATE,MS overrides the 1% held 3 ms (times 0.5-1).
    private static string ReorderArgs => Environment.GetEnvironmentVariable("TCPIPSHARP_REORDER") is { Length: > 0 } r ? r : "0.01,3";

    private readonly record struct Upload(double Mbit, string Counters);

    // One upload to the socat sink over a fresh TAP, without a trace (a 100 MB pcap and tshark over it would cost more
    // than the transfer); byte-exact by SHA-256 as the other uploads.
    private Upload UploadOnce(bool lossy, params string[] extra) => UploadOnce(HostProgram.Path, lossy, extra);

    private Upload UploadOnce(string program, bool lossy, params string[] extra)
    {
        string tap = "tap" + (_tap++).ToString(CultureInfo.InvariantCulture);
        Sh(5, "iptables -F FORWARD").ThrowIfFailed();
        _ns!.AddTap(tap, Router + "/24");
        try
        {
            if (lossy)
                Sh(5, $"iptables -A FORWARD -i {tap} -m statistic --mode random --probability 0.02 -j DROP; iptables -A FORWARD -o {tap} -m statistic --mode random --probability 0.02 -j DROP").ThrowIfFailed();
            string sunk = Path.Combine(_dir, "sink.sha");
            using var sink = _peer!.Start("sh", "-c", $"socat -u TCP4-LISTEN:9000,bind={Kernel},reuseaddr STDOUT | sha256sum > {sunk}");
            for (int i = 0; i < 50 && !PeerSh(2, "ss -ltn | grep -q ':9000 '").Succeeded; i++) Thread.Sleep(100);
            var send = _ns.Exec(TimeSpan.FromSeconds(280), [program, "send", Kernel, "9000", "-i", _file, "--tap", tap, "--ip", Stack + "/24", "--gw", Router, "--no-offload", "--timeout", "270", .. extra]);
            Assert.That(send.ExitCode, Is.Zero, send.ToString());
            var done = sink.WaitForExit(TimeSpan.FromSeconds(20));
            Assert.That(File.ReadAllText(sunk).Split(' ')[0], Is.EqualTo(_fileHash), send + "\n" + done);
            var rate = SendRate().Match(send.StandardError);
            Assert.That(rate.Success, send.StandardError);
            string counters = send.StandardError.Split('\n').FirstOrDefault(l => l.StartsWith("send: tcp", StringComparison.Ordinal))?.Trim() ?? "";
            return new Upload(double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture), counters);
        }
        finally
        {
            Sh(5, "iptables -F FORWARD");
            _ns.Exec(TimeSpan.FromSeconds(5), "ip", "link", "del", tap);
        }
    }

    [Test]
    public void Upload_under_1_percent_reordering_keeps_its_throughput_with_rack()
    {
        var runs = new List<(string Name, Upload Run)>();
        for (int round = 0; round < 2; round++)
        {
            runs.Add(("clean", UploadOnce(false)));
            runs.Add(("reorder 1% rack", UploadOnce(false, "--reorder", ReorderArgs)));
            runs.Add(("reorder 1% no-rack", UploadOnce(false, "--reorder", ReorderArgs, "--no-rack")));
        }
        foreach (var (name, run) in runs) TestContext.Out.WriteLine($"upload {name}: {run.Mbit:0.0} Mbit/s; {run.Counters}");
        double Best(string name) => runs.Where(r => r.Name == name).Max(r => r.Run.Mbit);
        TestContext.Out.WriteLine($"upload best of two: clean {Best("clean"):0.0}, reorder 1% rack {Best("reorder 1% rack"):0.0}, reorder 1% no-rack {Best("reorder 1% no-rack"):0.0} Mbit/s");
        foreach (var (name, run) in runs.Where(r => r.Name.StartsWith("reorder", StringComparison.Ordinal)))
            Assert.That(LineCounter(run.Counters, "dsack_received"), Is.GreaterThan(0), $"{name}: the injector reordered frames (the kernel reported resends it already had)");
        // The target is a throughput ratio, a performance figure and not a timed test (the project's rule: benchmarks
        // are measured and recorded in docs/benchmarks.md, CI only runs them): it is reported with the load it was
        // taken at. With the default 3 ms hold it is missed (docs/benchmarks.md says why: a hold far beyond SRTT is
        // beyond RACK's reordering window, RFC 8985 6.2, as in Linux).
        double load = double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        bool met = Best("reorder 1% rack") >= 0.9 * Best("clean");
        TestContext.Out.WriteLine($"target (reorder 1% rack within 10% of clean): {(met ? "met" : "missed")}, {Best("reorder 1% rack") / Best("clean"):0.00}x, at load {load}");
    }

    private static long LineCounter(string line, string name)
    {
        var m = Regex.Match(line, Regex.Escape(name) + @"=(\d+)");
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [Test]
    public void Upload_under_2_percent_loss_with_and_without_rack()
    {
        var rack = UploadOnce(true);
        var noRack = UploadOnce(true, "--no-rack");
        TestContext.Out.WriteLine($"upload 2% loss both ways, rack: {rack.Mbit:0.0} Mbit/s; {rack.Counters}");
        TestContext.Out.WriteLine($"upload 2% loss both ways, no-rack: {noRack.Mbit:0.0} Mbit/s; {noRack.Counters}");
        // TCPIPSHARP_BASELINE_PROGRAM: another build's tcpipsharp (main before RACK) for the same run.
        if (Environment.GetEnvironmentVariable("TCPIPSHARP_BASELINE_PROGRAM") is { Length: > 0 } baseline)
        {
            var before = UploadOnce(baseline, true);
            TestContext.Out.WriteLine($"upload 2% loss both ways, baseline {baseline}: {before.Mbit:0.0} Mbit/s; {before.Counters}");
        }
        Assert.That(rack.Counters, Does.Not.Contain("timeout=0 fast=0 sack=0"), "2% loss made the stack retransmit");
    }

    [GeneratedRegex(@"\(([0-9.]+) Mbit/s\)")]
    private static partial Regex SendRate();
}
