using System.Globalization;
using System.Text.RegularExpressions;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// The stack as a host (`tcpipsharp up`) answering the real Linux kernel and its tools, in a throwaway namespace:
/// over a TAP device, and over the pcap live link on a veth pair. The kernel is 192.0.2.1, the stack 192.0.2.2.
/// </summary>
[TestFixture("tap")]
[TestFixture("pcap")]
[NonParallelizable]
public partial class HostInteropTests(string linkKind)
{
    private const string Stack = "192.0.2.2";
    private NetNs? _ns;
    private NsProcess? _host;
    private string _device = "";

    [OneTimeSetUp]
    public void StartHost()
    {
        foreach (var (tool, package) in new[] { ("ping", "iputils-ping"), ("arping", "arping"), ("socat", "socat"), ("python3", "python3") })
            NetNs.RequireRootAnd(tool, package);
        _ns = NetNs.Create("host-" + linkKind);
        string[] linkArgs;
        if (linkKind == "tap")
        {
            _ns.AddTap("tap0", "192.0.2.1/24");
            _device = "tap0";
            linkArgs = ["--tap", "tap0"];
        }
        else
        {
            _ns.AddVethPair("veth0", "veth1", "192.0.2.1/24", null);
            _device = "veth0";
            linkArgs = ["--pcap-if", "veth1"];
        }
        _host = _ns.Start([HostProgram.Path, "up", .. linkArgs, "--ip", Stack + "/24", "--gw", "192.0.2.1", "--mac", "02:00:00:00:00:02"]);
        for (int i = 0; i < 40; i++)
        {
            if (_ns.Exec(TimeSpan.FromSeconds(3), "ping", "-c", "1", "-W", "1", Stack).Succeeded) return;
            if (_host.HasExited) break;
        }
        Assert.Fail($"the stack did not answer ping within 40 s over {linkKind}: {_host.WaitForExit(TimeSpan.FromSeconds(1))}");
    }

    [OneTimeTearDown]
    public void StopHost()
    {
        if (_host is { HasExited: false } && _ns is not null)
        {
            NetNs.RunHost(TimeSpan.FromSeconds(5), "kill", "-TERM", _host.Id.ToString(CultureInfo.InvariantCulture));   // SIGINT may be inherited ignored (README)
            var result = _host.WaitForExit(TimeSpan.FromSeconds(10));
            TestContext.Out.WriteLine($"{linkKind}: the stack's output:\n{result.StandardOutput}{result.StandardError}");
        }
        _host?.Dispose();
        _ns?.Dispose();
    }

    private ProcessResult Exec(int seconds, params string[] command) => _ns!.Exec(TimeSpan.FromSeconds(seconds), command);

    [Test]
    public void Fifty_quick_pings_are_all_answered()
    {
        var r = Exec(20, "ping", "-c", "50", "-i", "0.01", "-W", "1", Stack);
        Assert.That(r.StandardOutput, Does.Contain("50 packets transmitted, 50 received, 0% packet loss"), r.ToString());
    }

    [TestCase(1472), TestCase(8000), TestCase(65000)]
    public void Large_pings_fragmented_both_ways_are_answered(int size)
    {
        var r = Exec(20, "ping", "-c", "3", "-i", "0.2", "-W", "2", "-s", size.ToString(CultureInfo.InvariantCulture), Stack);
        Assert.That(r.StandardOutput, Does.Contain("3 packets transmitted, 3 received"), r.ToString());
    }

    [Test]
    public void Arping_is_answered_and_the_kernels_entry_becomes_reachable()
    {
        var r = Exec(10, "arping", "-c", "2", "-w", "3", "-I", _device, Stack);
        Assert.That(r.Succeeded && r.StandardOutput.Contains("bytes from 02:00:00:00:00:02 (192.0.2.2)", StringComparison.Ordinal), Is.True, r.ToString());
        Exec(5, "ping", "-c", "1", "-W", "1", Stack);
        var neigh = Exec(5, "ip", "neigh", "show", Stack, "dev", _device);
        Assert.That(neigh.StandardOutput, Does.Contain("lladdr 02:00:00:00:00:02").And.Contain("REACHABLE"), neigh.ToString());
    }

    [Test]
    public void Udp_echo_round_trips_a_thousand_random_datagrams_up_to_8000_bytes_byte_exact()
    {
        const string script = """
            import os, random, socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.connect(('192.0.2.2', 7))
            rnd = random.Random(7); ok = lost = 0
            for i in range(1000):
                data = os.urandom(rnd.randint(1, 8000)); s.send(data)
                try:
                    while s.recv(65535) != data: pass
                    ok += 1
                except socket.timeout: lost += 1
            print(f"ok={ok} lost={lost}")
            """;
        var r = Exec(120, "python3", "-c", script);
        Assert.That(r.StandardOutput.Trim(), Is.EqualTo("ok=1000 lost=0"), r.ToString());
        // socat as a user would run it, too.
        var socat = Exec(10, "sh", "-c", $"printf 'hello over socat' | socat -T2 - UDP4:{Stack}:7");
        Assert.That(socat.StandardOutput.TrimEnd('\n'), Is.EqualTo("hello over socat"), socat.ToString());
    }

    [Test]
    public void A_datagram_to_a_closed_port_makes_the_kernel_socket_report_connection_refused()
    {
        const string script = """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.connect(('192.0.2.2', 9999)); s.send(b'x')
            try: s.recv(10); print('answered')
            except ConnectionRefusedError: print('refused')
            except socket.timeout: print('timeout')
            """;
        var r = Exec(10, "python3", "-c", script);
        Assert.That(r.StandardOutput.Trim(), Is.EqualTo("refused"), r.ToString());
    }

    [Test]
    public void Flood_ping_for_five_seconds_reports_the_echo_rate()
    {
        var r = Exec(15, "ping", "-f", "-q", "-w", "5", Stack);
        var m = Transmitted().Match(r.StandardOutput);
        Assert.That(m.Success, Is.True, r.ToString());
        long sent = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), received = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        TestContext.Out.WriteLine($"{linkKind}: ping -f for 5 s: {sent} sent, {received} answered, {received / 5} echo replies per second");
        Assert.That(received, Is.GreaterThan(sent * 9 / 10), "flood ping waits for each reply, so almost all are answered");
        Assert.That(received / 5, Is.GreaterThan(1000), "echo replies per second");
    }

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) received")]
    private static partial Regex Transmitted();
}
