using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// ECN (RFC 3168) between the stack (the program, <c>--ecn request</c>, with TAP offloads) and the Linux kernel with
/// <c>net.ipv4.tcp_ecn=1</c>, both ways: curl in the kernel's namespace downloads from the stack's HTTP server (the
/// kernel opens, the stack answers its ECN-setup SYN), and the stack's <c>get</c> downloads from python's http.server
/// in the kernel's namespace (the stack opens and asks). A router between them marks ECT(0) packets CE
/// (iptables' TOS target in the mangle table's FORWARD chain, every 8th ECT(0) packet: a stand-in for an AQM router, since this kernel has
/// no ECN-marking qdisc beyond tbf), so both ends must echo ECE and answer it with CWR. tshark over the stack's own
/// trace checks the handshake bits and the ECN field of data and ACKs; the transfers are checked byte for byte. Over
/// IPv6 (traffic class) the kernel's download runs too, through an IPv6 router marking with ip6tables.
/// </summary>
[NonParallelizable]
public partial class TcpEcnInteropTests
{
    private const int Size = 4 * 1024 * 1024;
    private const string Kernel = "192.0.2.2", Router = "198.51.100.1", Stack = "198.51.100.2";
    private NetNs? _ns, _peer;
    private string _dir = "";
    private int _tap;

    [OneTimeSetUp]
    public void CreateNamespaces()
    {
        foreach (var (tool, package) in new[] { ("curl", "curl"), ("python3", "python3"), ("iptables", "iptables"), ("tshark", "tshark"), ("sysctl", "procps") })
            NetNs.RequireRootAnd(tool, package);
        (_ns, _peer) = NetNs.CreateRouterAndPeer("ecn", Kernel);
        // The kernel asks for ECN on its own connections and accepts it on others' (net.ipv4.tcp_ecn is per namespace).
        _peer.Run("sysctl", "-qw", "net.ipv4.tcp_ecn=1");
        Assert.That(_peer.Run("sysctl", "-n", "net.ipv4.tcp_ecn").Trim(), Is.EqualTo("1"));
        // The router marks every 8th ECT(0) TCP packet CE, either way (TOS target: (tos & ~3) ^ 3 turns ECT(0) into CE).
        // Deterministic, not random: with TSO and GRO a 4 MB transfer is only about a hundred packets at the router.
        var mark = Sh(5, "iptables -t mangle -A FORWARD -p tcp -m ecn --ecn-ip-ect 2 -m statistic --mode nth --every 8 --packet 0 -j TOS --set-tos 0x03/0x03");
        if (!mark.Succeeded) Assert.Fail("the router's CE marker needs iptables' ecn match and TOS target (xt_ecn, xt_DSCP): " + mark);
        _dir = Directory.CreateTempSubdirectory("tcpipsharp-ecn-").FullName;
    }

    [OneTimeTearDown]
    public void RemoveNamespaces()
    {
        _ns?.Dispose();
        _peer?.Dispose();
        if (_dir.Length > 0) Directory.Delete(_dir, recursive: true);
    }

    private ProcessResult Sh(int seconds, string script) => _ns!.Exec(TimeSpan.FromSeconds(seconds), "sh", "-c", script);

    private ProcessResult PeerSh(int seconds, string script) => _peer!.Exec(TimeSpan.FromSeconds(seconds), "sh", "-c", script);

    private string NewTap()
    {
        string tap = "tap" + (_tap++).ToString(CultureInfo.InvariantCulture);
        _ns!.AddTap(tap, Router + "/24");
        return tap;
    }

    private long Marked() => long.Parse(Sh(5, "iptables -t mangle -L FORWARD -v -n -x | awk '$3==\"TOS\"{print $1}'").StandardOutput.Trim(), CultureInfo.InvariantCulture);

    [Test]
    public void The_kernel_downloads_from_the_stack_with_ECN_negotiated_and_CE_answered()
    {
        string tap = NewTap(), trace = Path.Combine(_dir, "down.pcap");
        long markedBefore = Marked();
        string stackOutput;
        var host = _ns!.Start(HostProgram.Path, "up", "--tap", tap, "--ip", Stack + "/24", "--gw", Router, "--pcap", trace, "--ecn", "request", "--services", "http");
        try
        {
            StackHost.WaitForPing(_ns, host, Stack);
            var r = PeerSh(60, $"curl -s --max-time 50 http://{Stack}/bytes/{Size} | sha256sum");
            Assert.That(r.StandardOutput.Split(' ')[0], Is.EqualTo(StackHost.ExpectedBytesHash(Size)), r.ToString());
        }
        finally
        {
            NetNs.RunHost(TimeSpan.FromSeconds(5), "kill", "-TERM", host.Id.ToString(CultureInfo.InvariantCulture));
            var result = host.WaitForExit(TimeSpan.FromSeconds(20));
            stackOutput = result.StandardOutput + result.StandardError;
            host.Dispose();
            _ns.Exec(TimeSpan.FromSeconds(5), "ip", "link", "del", tap);
        }
        TestContext.Out.WriteLine($"{Size} bytes byte-exact; the router marked {Marked() - markedBefore} packets CE; stack (server): {Counters(stackOutput)}");
        Assert.Multiple(() =>
        {
            // The kernel's SYN asks (ECE and CWR), the stack's SYN-ACK answers (ECE alone); neither is ECT.
            Assert.That(Count(trace, $"ip.src == {Kernel} && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.flags.ece == 1 && tcp.flags.cwr == 1 && ip.dsfield.ecn == 0"), Is.GreaterThan(0), "ECN-setup SYN from the kernel");
            Assert.That(Count(trace, $"ip.src == {Stack} && tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.flags.ece == 1 && tcp.flags.cwr == 0 && ip.dsfield.ecn == 0"), Is.GreaterThan(0), "ECN-setup SYN-ACK from the stack");
            Assert.That(Count(trace, $"ip.src == {Stack} && tcp.len > 0 && ip.dsfield.ecn == 2"), Is.GreaterThan(0), "the stack's data is ECT(0)");
            Assert.That(Count(trace, $"ip.src == {Kernel} && tcp.len > 0"), Is.GreaterThan(0), "the kernel sent its request");
            Assert.That(Count(trace, $"ip.src == {Kernel} && tcp.len > 0 && ip.dsfield.ecn == 0"), Is.Zero, "the kernel's data (the request) is ECT(0), or CE if the router marked it");
            Assert.That(Count(trace, $"ip.src == {Stack} && tcp.len == 0 && ip.dsfield.ecn != 0"), Is.Zero, "the stack's pure ACKs and control segments are Not-ECT");
            // CE marks on the stack's data: the kernel echoes ECE, the stack reduces and answers with CWR.
            Assert.That(Count(trace, $"ip.src == {Kernel} && tcp.flags.syn == 0 && tcp.flags.ece == 1"), Is.GreaterThan(0), "the kernel echoed CE with ECE");
            Assert.That(Count(trace, $"ip.src == {Stack} && tcp.flags.syn == 0 && tcp.flags.cwr == 1 && tcp.len > 0"), Is.GreaterThan(0), "the stack sent CWR on new data");
            Assert.That(Counter(stackOutput, "tcp.ecn_negotiated"), Is.GreaterThan(0), stackOutput);
            Assert.That(Counter(stackOutput, "tcp.ecn_reductions"), Is.GreaterThan(0), stackOutput);
            Assert.That(Counter(stackOutput, "tcp.ecn_cwr_sent"), Is.GreaterThan(0), stackOutput);
        });
        Summarize(trace);
        File.Delete(trace);
    }

    [Test]
    public void The_stack_downloads_from_the_kernel_with_ECN_negotiated_and_CE_echoed()
    {
        string tap = NewTap(), trace = Path.Combine(_dir, "up.pcap"), output = Path.Combine(_dir, "got.bin"), file = Path.Combine(_dir, "f.bin");
        var data = new byte[Size];
        new Random(3168).NextBytes(data);
        File.WriteAllBytes(file, data);
        long markedBefore = Marked();
        ProcessResult get;
        using (var server = _peer!.Start("python3", "-m", "http.server", "8080", "--bind", Kernel, "--directory", _dir))
        {
            for (int i = 0; i < 50 && !PeerSh(2, $"curl -s -o /dev/null http://{Kernel}:8080/").Succeeded; i++) Thread.Sleep(100);
            try
            {
                get = _ns!.Exec(TimeSpan.FromSeconds(60), HostProgram.Path, "get", $"http://{Kernel}:8080/f.bin", "-o", output, "--tap", tap, "--ip", Stack + "/24",
                    "--gw", Router, "--pcap", trace, "--ecn", "request", "--timeout", "50");
            }
            finally
            {
                _ns!.Exec(TimeSpan.FromSeconds(5), "ip", "link", "del", tap);
            }
        }
        Assert.That(get.ExitCode, Is.Zero, get.ToString());
        Assert.That(SHA256.HashData(File.ReadAllBytes(output)), Is.EqualTo(SHA256.HashData(data)), "byte-exact");
        TestContext.Out.WriteLine($"{Size} bytes byte-exact; the router marked {Marked() - markedBefore} packets CE;\n{get.StandardError.Trim()}");
        Assert.Multiple(() =>
        {
            Assert.That(Count(trace, $"ip.src == {Stack} && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.flags.ece == 1 && tcp.flags.cwr == 1 && ip.dsfield.ecn == 0"), Is.GreaterThan(0), "ECN-setup SYN from the stack");
            Assert.That(Count(trace, $"ip.src == {Kernel} && tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.flags.ece == 1 && tcp.flags.cwr == 0"), Is.GreaterThan(0), "ECN-setup SYN-ACK from the kernel");
            Assert.That(Count(trace, $"ip.src == {Kernel} && tcp.len > 0 && ip.dsfield.ecn == 2"), Is.GreaterThan(0), "the kernel's data is ECT(0)");
            Assert.That(Count(trace, $"ip.src == {Stack} && tcp.len > 0 && (ip.dsfield.ecn == 2 || ip.dsfield.ecn == 3)"), Is.GreaterThan(0), "the stack's data (the request) is ECT(0)");
            Assert.That(Count(trace, $"ip.src == {Stack} && tcp.len == 0 && ip.dsfield.ecn != 0"), Is.Zero, "the stack's pure ACKs and control segments are Not-ECT");
            // CE marks on the kernel's data: the stack echoes ECE until the kernel's CWR.
            Assert.That(Count(trace, $"ip.src == {Kernel} && ip.dsfield.ecn == 3"), Is.GreaterThan(0), "CE-marked data reached the stack");
            Assert.That(Count(trace, $"ip.src == {Stack} && tcp.flags.syn == 0 && tcp.flags.ece == 1"), Is.GreaterThan(0), "the stack echoed CE with ECE");
            Assert.That(Count(trace, $"ip.src == {Kernel} && tcp.flags.syn == 0 && tcp.flags.cwr == 1"), Is.GreaterThan(0), "the kernel answered with CWR");
            Assert.That(get.StandardError, Does.Match(@"ecn negotiated=[1-9]\d* ce_received=[1-9]"), get.StandardError);
        });
        Summarize(trace);
        File.Delete(trace);
        File.Delete(output);
        File.Delete(file);
    }

    // Over IPv6 (the traffic class's ECN bits): curl -6 in a kernel peer one router away downloads from the stack
    // (2001:db8:2::2 —veth— router —TAP— 2001:db8:1::2), the router CE-marking every 8th ECT(0) packet with ip6tables.
    [Test]
    public void Over_IPv6_the_kernel_downloads_from_the_stack_with_ECN_negotiated_and_CE_answered()
    {
        const string Router6 = "2001:db8:1::1", Stack6 = "2001:db8:1::2", RouterFar6 = "2001:db8:2::1", Peer6 = "2001:db8:2::2";
        NetNs.RequireRootAnd("ip6tables", "iptables");
        using var router = NetNs.Create("ecn6rt", ipv6: true);
        using var peer = NetNs.Create("ecn6peer", ipv6: true);
        NetNs.RunHost(NetNs.DefaultTimeout, "ip", "link", "add", "rt0", "netns", router.Name, "type", "veth", "peer", "name", "peer0", "netns", peer.Name).ThrowIfFailed();
        router.Run("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1");
        router.Run("ip", "-6", "addr", "add", RouterFar6 + "/64", "dev", "rt0", "nodad");
        router.Run("ip", "link", "set", "rt0", "up");
        peer.Run("ip", "-6", "addr", "add", Peer6 + "/64", "dev", "peer0", "nodad");
        peer.Run("ip", "link", "set", "peer0", "up");
        peer.Run("ip", "-6", "route", "add", "default", "via", RouterFar6);
        peer.Run("sysctl", "-qw", "net.ipv4.tcp_ecn=1");   // covers TCP over IPv6 too
        router.WaitUntilUp("rt0");
        peer.WaitUntilUp("peer0");
        var mark = router.Exec(TimeSpan.FromSeconds(5), "sh", "-c", "ip6tables -t mangle -A FORWARD -p tcp -m ecn --ecn-ip-ect 2 -m statistic --mode nth --every 8 --packet 0 -j TOS --set-tos 0x03/0x03");
        if (!mark.Succeeded) Assert.Fail("the router's CE marker needs ip6tables' ecn match and TOS target (xt_ecn, xt_DSCP): " + mark);
        router.AddTap("tap0");
        router.Run("ip", "-6", "addr", "add", Router6 + "/64", "dev", "tap0", "nodad");
        string trace = Path.Combine(_dir, "down6.pcap"), stackOutput;
        var host = router.Start(HostProgram.Path, "up", "--tap", "tap0", "--ip", "192.0.2.2/24", "--ip6", Stack6 + "/64", "--gw6", Router6, "--pcap", trace, "--ecn", "request", "--services", "http");
        try
        {
            bool answered = false;
            for (int i = 0; i < 40 && !answered && !host.HasExited; i++)
                answered = router.Exec(TimeSpan.FromSeconds(3), "ping", "-6", "-c", "1", "-W", "1", Stack6).Succeeded;
            Assert.That(answered, Is.True, "the stack answered ping -6");
            var r = peer.Exec(TimeSpan.FromSeconds(60), "sh", "-c", $"curl -6 -s --max-time 50 http://[{Stack6}]/bytes/{Size} | sha256sum");
            Assert.That(r.StandardOutput.Split(' ')[0], Is.EqualTo(StackHost.ExpectedBytesHash(Size)), r.ToString());
        }
        finally
        {
            NetNs.RunHost(TimeSpan.FromSeconds(5), "kill", "-TERM", host.Id.ToString(CultureInfo.InvariantCulture));
            var result = host.WaitForExit(TimeSpan.FromSeconds(20));
            stackOutput = result.StandardOutput + result.StandardError;
            host.Dispose();
        }
        string marked = router.Exec(TimeSpan.FromSeconds(5), "sh", "-c", "ip6tables -t mangle -L FORWARD -v -n -x | awk '$3==\"TOS\"{print $1}'").StandardOutput.Trim();
        TestContext.Out.WriteLine($"over IPv6: {Size} bytes byte-exact; the router marked {marked} packets CE; stack (server): {Counters(stackOutput)}");
        Assert.Multiple(() =>
        {
            Assert.That(Count(trace, $"ipv6.src == {Peer6} && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.flags.ece == 1 && tcp.flags.cwr == 1 && ipv6.tclass.ecn == 0"), Is.GreaterThan(0), "ECN-setup SYN from the kernel");
            Assert.That(Count(trace, $"ipv6.src == {Stack6} && tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.flags.ece == 1 && tcp.flags.cwr == 0 && ipv6.tclass.ecn == 0"), Is.GreaterThan(0), "ECN-setup SYN-ACK from the stack");
            Assert.That(Count(trace, $"ipv6.src == {Stack6} && tcp.len > 0 && ipv6.tclass.ecn == 2"), Is.GreaterThan(0), "the stack's data is ECT(0)");
            Assert.That(Count(trace, $"ipv6.src == {Stack6} && tcp && tcp.len == 0 && ipv6.tclass.ecn != 0"), Is.Zero, "the stack's pure ACKs and control segments are Not-ECT");
            Assert.That(Count(trace, $"ipv6.src == {Peer6} && tcp.flags.syn == 0 && tcp.flags.ece == 1"), Is.GreaterThan(0), "the kernel echoed CE with ECE");
            Assert.That(Count(trace, $"ipv6.src == {Stack6} && tcp.flags.syn == 0 && tcp.flags.cwr == 1 && tcp.len > 0"), Is.GreaterThan(0), "the stack sent CWR on new data");
            Assert.That(Counter(stackOutput, "tcp.ecn_reductions"), Is.GreaterThan(0), stackOutput);
        });
        foreach (var (what, filter) in new[] { ("IPv6 SYN / SYN-ACK", "tcp.flags.syn == 1"), ("IPv6 first ECT(0) data from the stack", $"ipv6.src == {Stack6} && tcp.len > 0 && ipv6.tclass.ecn == 2") })
        {
            var r = NetNs.RunHost(TimeSpan.FromSeconds(60), "tshark", "-n", "-r", trace, "-Y", filter, "-T", "fields", "-E", "separator=/s", "-e", "frame.number", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "tcp.flags.str", "-e", "ipv6.tclass.ecn", "-e", "tcp.len");
            foreach (var line in r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(what.Contains("SYN", StringComparison.Ordinal) ? 2 : 1))
                TestContext.Out.WriteLine($"tshark {what}: {line} (frame src dst flags ecn len)");
        }
        File.Delete(trace);
    }

    // The trace's ECN lines, for the report: the handshakes, the first ECT(0) data each way, the first CE, ECE and CWR.
    private static void Summarize(string trace)
    {
        string[] fields = ["-T", "fields", "-E", "separator=/s", "-e", "frame.number", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.flags.str", "-e", "ip.dsfield.ecn", "-e", "tcp.len"];
        foreach (var (what, filter) in new[]
        {
            ("SYN / SYN-ACK", "tcp.flags.syn == 1"),
            ("first ECT(0) data from the stack", $"ip.src == {Stack} && tcp.len > 0 && ip.dsfield.ecn == 2"),
            ("first ECT(0) data from the kernel", $"ip.src == {Kernel} && tcp.len > 0 && ip.dsfield.ecn == 2"),
            ("first CE", "ip.dsfield.ecn == 3"),
            ("first ECE (not SYN)", "tcp.flags.syn == 0 && tcp.flags.ece == 1"),
            ("first CWR (not SYN)", "tcp.flags.syn == 0 && tcp.flags.cwr == 1"),
        })
        {
            var r = NetNs.RunHost(TimeSpan.FromSeconds(60), ["tshark", "-n", "-r", trace, "-Y", filter, .. fields]);
            Assert.That(r.ExitCode, Is.Zero, "tshark ran: " + r);
            var lines = r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(what.StartsWith("SYN", StringComparison.Ordinal) ? 2 : 1);
            foreach (var line in lines) TestContext.Out.WriteLine($"tshark {what}: {line} (frame src dst flags ecn len)");
        }
    }

    private static long Count(string trace, string filter)
    {
        var r = NetNs.RunHost(TimeSpan.FromSeconds(120), "tshark", "-n", "-r", trace, "-Y", filter, "-T", "fields", "-e", "frame.number");
        Assert.That(r.ExitCode, Is.Zero, "tshark ran: " + r);
        return r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private static long Counter(string statistics, string name)
    {
        var m = Regex.Match(statistics, "^" + Regex.Escape(name) + @"\s+(\d+)", RegexOptions.Multiline);
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    private static string Counters(string statistics) => string.Join(" ", new[]
    {
        "tcp.ecn_negotiated", "tcp.ecn_ce_received", "tcp.ecn_ece_received", "tcp.ecn_cwr_sent", "tcp.ecn_reductions", "tcp.retransmits_fast", "tcp.retransmits_timeout",
    }.Select(n => $"{n}={Counter(statistics, n)}"));
}
