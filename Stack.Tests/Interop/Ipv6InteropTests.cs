using System.Diagnostics;
using System.Globalization;
using TcpIpSharp.Net.Ipv6;
using TcpIpSharp.Services.Dns;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// IPv6 between the stack and the real Linux kernel over a TAP, in a namespace the fixture makes and removes (issue
/// 14, Tests): dnsmasq on the kernel's side sends router advertisements with the prefix 2001:db8:1::/64 and the DNS
/// server 2001:db8:1::53 (PEERS.md 1a), the stack (MAC 02:00:00:00:00:02, in this process) forms its EUI-64
/// link-local fe80::ff:fe00:2 and its SLAAC address 2001:db8:1::ff:fe00:2 and learns the server; the kernel pings
/// both, fragmented up to 65,000 bytes, and the stack pings the kernel the same way; 1,000 random UDP datagrams round
/// trip through its echo service; and, in a namespace of its own, <c>tcpipsharp up</c> finds its static address taken.
/// </summary>
[NonParallelizable]
public class Ipv6InteropTests
{
    private const string Kernel = "2001:db8:1::1", Dns = "2001:db8:1::53";
    private const string LinkLocal = "fe80::ff:fe00:2", Slaac = "2001:db8:1::ff:fe00:2";
    private NetNs? _ns;
    private NsProcess? _dnsmasq, _dnsServer;
    private DnsResolver? _resolver;
    private InProcessStack? _host;
    private string _dir = "";

    [OneTimeSetUp]
    public void Start()
    {
        foreach (var (tool, package) in new[] { ("ping", "iputils-ping"), ("dnsmasq", "dnsmasq-base"), ("socat", "socat"), ("python3", "python3") })
            NetNs.RequireRootAnd(tool, package);
        _dir = Directory.CreateTempSubdirectory("tis-v6-").FullName;
        _ns = NetNs.Create("v6", ipv6: true);
        _ns.AddTap("tap0");
        // The router side must not configure itself from its own advertisements (PEERS.md 1).
        _ns.Run("sysctl", "-qw", "net.ipv6.conf.tap0.accept_ra=0");
        _ns.Ip("-6", "addr", "add", Kernel + "/64", "dev", "tap0", "nodad");
        string log = Path.Combine(_dir, "dnsmasq.log");
        _dnsmasq = _ns.Start(NetNs.FindTool("dnsmasq")!, "--keep-in-foreground", "--conf-file=/dev/null", "--port=0", "--interface=tap0",
            "--bind-interfaces", "--enable-ra", "--dhcp-range=2001:db8:1::,ra-only,64,10m", "--ra-param=tap0,4,300",
            $"--dhcp-option=option6:dns-server,[{Dns}]", "--pid-file=" + Path.Combine(_dir, "dnsmasq.pid"), "--log-facility=" + log);
        var wait = Stopwatch.StartNew();
        while (!(File.Exists(log) && File.ReadAllText(log).Contains("started, version", StringComparison.Ordinal)))
        {
            if (_dnsmasq.HasExited || wait.Elapsed > TimeSpan.FromSeconds(10))
                Assert.Fail($"dnsmasq did not start: {_dnsmasq.WaitForExit(TimeSpan.FromSeconds(1))}\n{(File.Exists(log) ? File.ReadAllText(log) : "")}");
            Thread.Sleep(50);
        }
        // A second dnsmasq answers DNS on the advertised RDNSS address only (the first one sends the advertisements).
        _ns.Ip("-6", "addr", "add", Dns + "/64", "dev", "tap0", "nodad");
        string dnsLog = Path.Combine(_dir, "dns.log");
        _dnsServer = _ns.Start(NetNs.FindTool("dnsmasq")!, "--keep-in-foreground", "--conf-file=/dev/null", "--port=53", "--listen-address=" + Dns,
            "--bind-interfaces", "--no-resolv", "--no-hosts", "--address=/host6.test/2001:db8:1::99", "--pid-file=" + Path.Combine(_dir, "dns.pid"),
            "--log-facility=" + dnsLog, "--log-queries");
        _host = new InProcessStack(_ns, "tap0", new NetworkStackOptions
        {
            MacAddress = MacAddress.Parse("02:00:00:00:00:02"), Address = Ipv4Address.Parse("192.0.2.2"), PrefixLength = 24,
            Ipv6 = new Ipv6Options(),
        });
        // The SLAAC address answers once an advertisement came (dnsmasq answers the stack's solicitation, or sends one every 4 s) and DAD passed.
        wait.Restart();
        while (!Exec(3, "ping", "-6", "-c", "1", "-W", "1", Slaac).Succeeded)
            if (wait.Elapsed > TimeSpan.FromSeconds(30))
                Assert.Fail($"the stack's SLAAC address {Slaac} did not answer ping -6 within 30 s; its addresses:\n{_host.DescribeIpv6()}\ndnsmasq: {File.ReadAllText(log)}");
        TestContext.Out.WriteLine($"the SLAAC address answered after {wait.Elapsed.TotalSeconds:0.0} s");
    }

    [OneTimeTearDown]
    public void Stop()
    {
        if (_host is not null)
        {
            TestContext.Out.WriteLine("the stack's statistics:\n" + _host.Stack.Statistics);
            _host.Dispose();
        }
        _dnsmasq?.Dispose();
        _dnsServer?.Dispose();
        _ns?.Dispose();
        if (_dir.Length > 0) Directory.Delete(_dir, recursive: true);
    }

    private ProcessResult Exec(int seconds, params string[] command) => _ns!.Exec(TimeSpan.FromSeconds(seconds), command);

    [Test]
    public void Ping_6_is_answered_on_the_link_local_and_the_slaac_address()
    {
        var ll = Exec(20, "ping", "-6", "-c", "5", "-i", "0.2", "-W", "1", LinkLocal + "%tap0");
        var global = Exec(20, "ping", "-6", "-c", "20", "-i", "0.05", "-W", "1", Slaac);
        TestContext.Out.WriteLine(Summary(ll) + "\n" + Summary(global));
        Assert.That(ll.StandardOutput, Does.Contain("5 packets transmitted, 5 received, 0% packet loss"), ll.ToString());
        Assert.That(global.StandardOutput, Does.Contain("20 packets transmitted, 20 received, 0% packet loss"), global.ToString());
    }

    private static string Summary(ProcessResult ping)
        => string.Join(" / ", ping.StandardOutput.Split('\n').Where(l => l.Contains("packets transmitted", StringComparison.Ordinal) || l.StartsWith("rtt", StringComparison.Ordinal)).Prepend(ping.Command));

    [TestCase(1452), TestCase(8000), TestCase(65000)]
    public void Large_pings_are_fragmented_and_reassembled_both_ways(int size)
    {
        var kernel = Exec(20, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "-s", size.ToString(CultureInfo.InvariantCulture), Slaac);
        TestContext.Out.WriteLine(Summary(kernel));
        Assert.That(kernel.StandardOutput, Does.Contain("3 packets transmitted, 3 received"), kernel.ToString());

        // The stack pings the kernel: its EchoClient sends ICMPv6 to an IPv6 address, fragmented by the stack above 1,452 bytes.
        var replies = _host!.Ping(Ipv6Address.Parse(Kernel), 3, size, TimeSpan.FromSeconds(5));
        TestContext.Out.WriteLine($"the stack pinged {Kernel} with {size} bytes: {replies.Count} of 3 answered, " +
                                  string.Join(", ", replies.Select(r => $"seq {r.Sequence} {r.PayloadLength} bytes hop limit {r.TimeToLive} {r.RoundTrip.TotalMilliseconds:0.0} ms{(r.DataIntact ? "" : " CORRUPT")}")));
        Assert.That(replies, Has.Count.EqualTo(3));
        Assert.That(replies.All(r => r.DataIntact && r.PayloadLength == size && r.From == (IpAddress)Ipv6Address.Parse(Kernel)), Is.True);
    }

    [Test]
    public void The_kernels_neighbour_entry_for_the_stack_becomes_reachable()
    {
        Exec(5, "ping", "-6", "-c", "1", "-W", "1", Slaac);
        var neigh = Exec(5, "ip", "-6", "neigh", "show", Slaac, "dev", "tap0");
        TestContext.Out.WriteLine("ip -6 neigh: " + neigh.StandardOutput.Trim());
        Assert.That(neigh.StandardOutput, Does.Contain("lladdr 02:00:00:00:00:02").And.Contain("REACHABLE"), neigh.ToString());
    }

    [Test]
    public void The_resolver_asks_the_rdnss_server_for_a_aaaa_record()
    {
        // No IPv4 DNS server is configured: the only server the resolver knows is the one router advertisements gave.
        _resolver ??= new DnsResolver();
        _host!.Driver.Add(_resolver);
        var servers = _host.WaitFor(s => s.Ipv6!.DnsServers.Count > 0 ? s.ResolverServers.ToArray() : null, TimeSpan.FromSeconds(10)) ?? [];
        var lookup = _host.Query(s => _resolver.Resolve("host6.test", DnsType.Aaaa, s.Interface.Now));
        var done = _host.WaitFor(_ => lookup.IsCompleted ? lookup : null, TimeSpan.FromSeconds(10));
        TestContext.Out.WriteLine($"resolver servers: {string.Join(", ", servers)}; host6.test AAAA -> " +
            $"{(done is null ? "no answer" : string.Join(", ", done.Addresses))} (answered by {done?.Server}, error {done?.Error})");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(servers, Is.EqualTo(new[] { (IpAddress)Ipv6Address.Parse(Dns) }));
            Assert.That(done, Is.Not.Null, "the lookup did not complete within 10 s");
            Assert.That(done!.Error, Is.EqualTo(DnsError.None));
            Assert.That(done.Addresses.Select(a => a.ToString()), Is.EqualTo(new[] { "2001:db8:1::99" }));
            Assert.That(done.Server, Is.EqualTo((IpAddress)Ipv6Address.Parse(Dns)), "the answer came from the advertised server, over IPv6");
        }
    }

    [Test]
    public void Router_advertisements_form_the_slaac_address_and_give_the_rdnss_server()
    {
        var slaac = _host!.Query(s => s.Ipv6Addresses.FirstOrDefault(a => a.Origin == Ipv6AddressOrigin.Autoconfigured));
        var servers = _host.WaitFor(s => s.Ipv6!.DnsServers.Count > 0 ? s.Ipv6.DnsServers.ToArray() : null, TimeSpan.FromSeconds(10)) ?? [];
        var routers = _host.Query(s => s.Ipv6Routers.ToArray());
        TestContext.Out.WriteLine($"the stack's IPv6 addresses after dnsmasq's advertisements:\n{_host.DescribeIpv6()}");
        TestContext.Out.WriteLine($"default routers: {string.Join(", ", routers)}; DNS servers from RDNSS: {string.Join(", ", servers)}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(slaac, Is.Not.Null);
            Assert.That(slaac!.Address, Is.EqualTo(Ipv6Address.Parse(Slaac)), "EUI-64 of 02:00:00:00:00:02 in 2001:db8:1::/64");
            Assert.That(slaac.State, Is.EqualTo(Ipv6AddressState.Preferred));
            Assert.That(slaac.ValidLifetime, Is.Not.Null.And.LessThanOrEqualTo(TimeSpan.FromMinutes(10)), "dnsmasq's 10m lifetime");
            Assert.That(servers, Is.EqualTo(new[] { Ipv6Address.Parse(Dns) }));
            Assert.That(routers, Has.Length.EqualTo(1).And.All.Matches<Ipv6Address>(r => r.ToString().StartsWith("fe80:", StringComparison.Ordinal)));
        }
    }

    [Test]
    public void Udp6_echo_round_trips_a_thousand_random_datagrams_byte_exact()
    {
        const string script = """
            import os, random, socket
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(2); s.connect(('2001:db8:1::ff:fe00:2', 7))
            rnd = random.Random(6); ok = lost = 0
            for i in range(1000):
                data = os.urandom(rnd.randint(1, 8000)); s.send(data)
                try:
                    while s.recv(65535) != data: pass
                    ok += 1
                except socket.timeout: lost += 1
            print(f"ok={ok} lost={lost}")
            """;
        var watch = Stopwatch.StartNew();
        var r = Exec(50, "python3", "-c", script);
        TestContext.Out.WriteLine($"UDP6 echo, 1,000 datagrams of 1..8000 bytes: {r.StandardOutput.Trim()} in {watch.Elapsed.TotalSeconds:0.0} s");
        Assert.That(r.StandardOutput.Trim(), Is.EqualTo("ok=1000 lost=0"), r.ToString());
        var socat = Exec(10, "sh", "-c", $"printf 'hello over socat udp6' | socat -T2 - UDP6:[{Slaac}]:7");
        Assert.That(socat.StandardOutput.TrimEnd('\n'), Is.EqualTo("hello over socat udp6"), socat.ToString());
    }

    [Test]
    public void Dad_fails_when_the_kernel_holds_the_static_address_and_up_reports_it()
    {
        const string taken = "2001:db8:3::5";
        using var ns = NetNs.Create("v6dad", ipv6: true);
        ns.AddTap("tap0");
        ns.Ip("-6", "addr", "add", taken + "/64", "dev", "tap0", "nodad");
        using var up = ns.Start(HostProgram.Path, "up", "--tap", "tap0", "--ip", "192.0.2.2/24", "--ip6", taken + "/64", "--mac", "02:00:00:00:00:03", "--services", "none");
        var wait = Stopwatch.StartNew();
        while (!(up.OutputSoFar.Contains("duplicate address detected", StringComparison.Ordinal) && up.OutputSoFar.Contains("link-local", StringComparison.Ordinal)
                 && up.OutputSoFar.Contains("preferred (link-local)", StringComparison.Ordinal)))
        {
            if (up.HasExited || wait.Elapsed > TimeSpan.FromSeconds(20)) break;
            Thread.Sleep(100);
        }
        string output = up.OutputSoFar;
        NetNs.RunHost(TimeSpan.FromSeconds(5), "kill", "-TERM", up.Id.ToString(CultureInfo.InvariantCulture));
        var result = up.WaitForExit(TimeSpan.FromSeconds(10));
        TestContext.Out.WriteLine($"$ tcpipsharp up --tap tap0 --ip 192.0.2.2/24 --ip6 {taken}/64 --mac 02:00:00:00:00:03 --services none   (the kernel holds {taken} on tap0)\n" +
                                  string.Join("\n", output.Split('\n').Where(l => l.StartsWith("tcpipsharp:", StringComparison.Ordinal) && !l.Contains("statistics", StringComparison.Ordinal))));
        TestContext.Out.WriteLine("its counters: " + string.Join(" ", result.StandardOutput.Split('\n').Where(l => l.Contains("dad", StringComparison.Ordinal) || l.Contains("nd.", StringComparison.Ordinal)).Select(l => l.Trim())));
        Assert.That(output, Does.Contain($"tcpipsharp: ipv6 {taken}: duplicate address detected"), result.ToString());
        Assert.That(output, Does.Contain("tcpipsharp: ipv6 fe80::ff:fe00:3/64 preferred (link-local)"), "the link-local address is not in conflict");
        Assert.That(output, Does.Not.Contain($"ipv6 {taken}/64 preferred"), "a duplicate address is never used");
    }
}
