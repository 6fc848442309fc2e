using System.Globalization;
using System.Text.Json;
using TcpIpSharp.Tests.Interop;
using TcpIpSharp.Tests.Support;

namespace TcpIpSharp.Tests.Soak;

/// <summary>
/// The soak (issue 8, item 5): mixed traffic against <c>tcpipsharp up --admin</c> on a TAP, with 1% loss both ways
/// (iptables -m statistic in a router namespace, as <see cref="TcpBulkInteropTests"/>): many short HTTP downloads, a few
/// long ones (20 to 50 MB), pings, UDP echo and DNS lookups made by the stack's own resolver (<c>GET /resolve/NAME</c>)
/// from a dnsmasq on the peer's side. Every transfer and echo is checked byte for byte by <c>soak.py</c>, which runs in
/// the peer namespace; errors must be 0. The stack's managed heap after a full GC (<c>GET /heap</c>, from the router,
/// without loss) is read once after a warm-up and once at the end, each time after the traffic stopped and TIME-WAIT
/// ran out (the stack runs with <c>--time-wait 5</c>), so that both are the idle stack having served traffic; the end
/// must be within 10% of the first.
/// </summary>
/// <remarks>
/// The traffic lasts 40 s of warm-up plus 35 s by default (the run in ./test.sh, about 1.5 minutes with the two
/// 7 s waits); <c>TCPIPSHARP_SOAK_SECONDS=600</c> makes the measured part 600 s (with 60 s of warm-up). Short requests and
/// lookups are paced, twice as fast in the warm-up (40 and 10 a second) as after it (20 and 5): the tables that keep
/// their largest size (the connection dictionary, the timer heap: their arrays do not shrink, which is no leak) reach
/// it in the warm-up, which holds more connections in TIME-WAIT at once than the measured part ever does. Without
/// that, a short warm-up on a loaded machine measured 13% less than the end (2.20 against 2.49 MB); a 60 s warm-up at
/// the same rate measured within 0.2%. The TAP runs without offloads so that the loss is per wire frame (with
/// offloads one dropped 64 KB frame would be 45 lost segments).
/// Parallelizable (Parallelism.cs): the test thread only waits while soak.py, the stack and dnsmasq run in namespaces of
/// their own (unique names; the loss rules are in the router namespace's FORWARD chain, not the host's), and the heap
/// measured is the stack process's, not this one's; so an in-memory fixture may run beside it. The traffic is paced, not
/// as fast as it can: in three runs beside the in-memory parallel fixtures (2026-12-07, load 3-15, another engineer's
/// builds and tests running too) the idle heap at the end measured -1.3%, -0.7% and -0.8% against the warm-up's.
/// </remarks>
[Parallelizable(ParallelScope.Self)]
public class SoakTests
{
    private const string Peer = "192.0.2.2", Router = "198.51.100.1", Stack = "198.51.100.2", DnsAnswer = "198.51.100.77";
    private const string Python = "/usr/bin/python3";
    private const double Loss = 0.01;

    [Test]
    public void Mixed_traffic_with_one_percent_loss_is_byte_exact_and_the_heap_does_not_grow()
    {
        foreach (var (tool, package) in new[] { ("iptables", "iptables"), ("ethtool", "ethtool"), ("dnsmasq", "dnsmasq-base"), ("ping", "iputils-ping"), ("curl", "curl") })
            NetNs.RequireRootAnd(tool, package);
        if (!File.Exists(Python)) Assert.Fail($"the soak needs {Python} (Debian package python3)");
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("TCPIPSHARP_SOAK_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s > 0 ? s : 35;
        int warmUp = seconds >= 300 ? 60 : 40;
        int longTransfers = Math.Max(2, seconds / 60);

        // Offloads off on the veth too: the loss rules then see wire-size frames both ways.
        var (router, peer) = NetNs.CreateRouterAndPeer("soak", Peer, wireSizeFrames: true);
        using var routerScope = router;
        using var peerScope = peer;
        router.AddTap("tap0", Router + "/24");
        string rule = $"-m statistic --mode random --probability {Loss.ToString(CultureInfo.InvariantCulture)} -j DROP";
        router.Run("sh", "-c", $"iptables -A FORWARD -i tap0 {rule} && iptables -A FORWARD -o tap0 {rule}");

        string dir = Directory.CreateTempSubdirectory("tcpipsharp-soak-").FullName;
        NsProcess? host = null;
        try
        {
            string log = Path.Combine(dir, "dnsmasq.log");
            using var dnsmasq = peer.Start(NetNs.FindTool("dnsmasq")!, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--listen-address=" + Peer, "--bind-interfaces", "--interface=peer0", "--address=/soak.test/" + DnsAnswer, "--local-ttl=300",
                "--pid-file=" + Path.Combine(dir, "dnsmasq.pid"), "--log-facility=" + log);
            host = router.Start(HostProgram.Path, "up", "--tap", "tap0", "--ip", Stack + "/24", "--gw", Router, "--dns", Peer, "--no-offload", "--admin", "--time-wait", TimeWaitSeconds.ToString(CultureInfo.InvariantCulture));
            StackHost.WaitForPing(router, host, Stack);
            Assert.That(dnsmasq.HasExited, Is.False, "dnsmasq runs: " + (File.Exists(log) ? File.ReadAllText(log) : ""));

            var warm = Traffic(peer, warmUp, 1, rate: 20);
            long heapWarm = IdleHeap(router, "after warm-up", out string warmPage);
            var run = Traffic(peer, seconds, longTransfers, rate: 10);
            long heapEnd = IdleHeap(router, "at the end", out string endPage);

            string status = router.Run("curl", "-s", "--max-time", "15", $"http://{Stack}/");
            string drops = router.Run("sh", "-c", "iptables -L FORWARD -v -n -x | awk '$3==\"DROP\"{print $1}'").Replace('\n', ' ').Trim();
            string retransmits = string.Join(" ", new[] { "tcp.retransmits_timeout", "tcp.retransmits_fast", "tcp.retransmits_sack", "tcp.tail_loss_probes", "tcp.out_of_order", "tcp.segments_sent", "tcp.passive_opens", "drop.UdpQueueFull" }
                .Select(n => $"{n}={Counter(status, n)}"));
            double growth = (double)(heapEnd - heapWarm) / heapWarm;
            TestContext.Out.WriteLine($"soak: {warmUp} s warm-up + {seconds} s measured, 1% loss both ways (iptables dropped {drops} frames: from the stack, to it)");
            TestContext.Out.WriteLine($"warm-up: {Summary(warm)}");
            TestContext.Out.WriteLine($"measured: {Summary(run)}");
            TestContext.Out.WriteLine($"heap after a full GC, idle: {heapWarm:N0} B after warm-up, {heapEnd:N0} B at the end ({growth:+0.0%;-0.0%})");
            TestContext.Out.WriteLine($"stack: {retransmits}");
            TestContext.Out.WriteLine($"/heap after warm-up:\n{warmPage}/heap at the end:\n{endPage}");

            using (Assert.EnterMultipleScope())
            {
                foreach (var (name, counts) in new[] { ("warm-up", warm), ("measured", run) })
                {
                    Assert.That(counts.GetProperty("errors").GetInt64(), Is.Zero, $"{name}: errors {counts.GetProperty("error_list")}");
                    Assert.That(counts.GetProperty("http_requests").GetInt64(), Is.GreaterThan(10), $"{name}: short requests ran");
                    Assert.That(counts.GetProperty("udp_echoes").GetInt64(), Is.GreaterThan(10), $"{name}: UDP echoes ran");
                    Assert.That(counts.GetProperty("dns_lookups").GetInt64(), Is.GreaterThan(10), $"{name}: DNS lookups ran");
                    Assert.That(counts.GetProperty("pings_received").GetInt64(), Is.GreaterThan(counts.GetProperty("pings_sent").GetInt64() * 9 / 10), $"{name}: pings answered");
                }
                Assert.That(run.GetProperty("long_transfers").GetInt64(), Is.EqualTo(longTransfers), "every long transfer completed");
                Assert.That(Math.Abs(growth), Is.LessThanOrEqualTo(0.10), "the idle heap at the end is within 10% of the one after warm-up");
                Assert.That(Counter(status, "tcp.retransmits_timeout") + Counter(status, "tcp.retransmits_fast") + Counter(status, "tcp.retransmits_sack"), Is.GreaterThan(0), "the loss made the stack retransmit");
            }
        }
        finally
        {
            StackHost.Stop(host);
            host?.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    // rate: short requests a second per client (two clients), and half as many DNS lookups a second.
    private static JsonElement Traffic(NetNs peer, int seconds, int longTransfers, int rate)
    {
        string script = Path.Combine(TestPaths.RepositoryRoot, "Stack.Tests", "Soak", "soak.py");
        var r = peer.Exec(TimeSpan.FromSeconds(seconds + 400), Python, script, Stack, seconds.ToString(CultureInfo.InvariantCulture),
            longTransfers.ToString(CultureInfo.InvariantCulture), "soak.test", DnsAnswer, rate.ToString(CultureInfo.InvariantCulture));
        string? line = r.StandardOutput.Split('\n').FirstOrDefault(l => l.StartsWith("soak ", StringComparison.Ordinal));
        if (line is null) Assert.Fail("soak.py printed no counts: " + r);
        return JsonDocument.Parse(line![5..]).RootElement.Clone();
    }

    // TIME-WAIT of the stack under test: 5 s instead of 60 s, so that waiting it out before each heap reading costs
    // seconds, not minutes (the soak measures memory, not TIME-WAIT; the rings are released on entering it anyway).
    private const int TimeWaitSeconds = 5;

    // Waits out TIME-WAIT after the traffic, then reads /heap (one full GC in the stack) from the router, which
    // reaches the stack without loss. Its own connection is the only one open then.
    private static long IdleHeap(NetNs router, string when, out string page)
    {
        Thread.Sleep(TimeSpan.FromSeconds(TimeWaitSeconds + 2));
        page = router.Run("curl", "-s", "--max-time", "15", $"http://{Stack}/heap");
        long heap = Counter(page, "heap.after_full_gc");
        Assert.That(heap, Is.GreaterThan(0), $"/heap {when}: {page}");
        return heap;
    }

    private static string Summary(JsonElement c)
    {
        long V(string n) => c.GetProperty(n).GetInt64();
        return string.Create(CultureInfo.InvariantCulture,
            $"short HTTP {V("http_requests")} ({V("http_bytes"):N0} B), long {V("long_transfers")} ({V("long_bytes"):N0} B), " +
            $"pings {V("pings_received")}/{V("pings_sent")}, UDP echoes {V("udp_echoes")} ({V("udp_bytes"):N0} B, {V("udp_resent")} resent), " +
            $"DNS lookups {V("dns_lookups")}, errors {V("errors")}");
    }

    private static long Counter(string text, string name)
    {
        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 2 && fields[0] == name && long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)) return v;
        }
        return 0;
    }
}
