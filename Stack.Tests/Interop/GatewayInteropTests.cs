using System.Globalization;
using System.Text.RegularExpressions;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// `tcpipsharp gateway` on a TUN (issue 19) against real Linux peers: a "guest" namespace whose default routes (IPv4 and
/// IPv6) are the TUN, and a "server" namespace that runs the gateway process and the servers (nginx, dnsmasq,
/// microsocks, socat, small Python servers) on 198.51.100.1 and 2001:db8:2::1 (on its loopback: the namespace has no
/// other interface, so nothing leaves it). The gateway opens the TUN in the server namespace and the test moves the
/// device into the guest's. Each test bounds its load in count and time; the namespaces, devices and processes go in
/// teardown.
/// </summary>
[NonParallelizable]
public partial class GatewayInteropTests
{
    private const string Server = "198.51.100.1", Server6 = "2001:db8:2::1", GatewayAddress = "192.0.2.1", Gateway6Address = "2001:db8:1::1";
    private const string HostsOnly4 = "198.51.100.42", HostsOnly6 = "2001:db8:2::42";
    private const string Unreachable = "198.51.100.200", Unreachable6 = "2001:db8:2::200";
    private const int Size = 20 * 1024 * 1024;
    private NetNs? _server, _guest;
    private NsProcess? _gateway;
    private readonly List<NetNs> _extraGuests = [];
    private string _dir = "";
    private byte[] _payload = [];

    [OneTimeSetUp]
    public void Start()
    {
        foreach (var (tool, package) in new[] { ("curl", "curl"), ("nginx", "nginx-light"), ("microsocks", "microsocks"), ("dig", "dnsutils"),
                     ("dnsmasq", "dnsmasq-base"), ("nc", "netcat-openbsd"), ("socat", "socat"), ("ping", "iputils-ping") })
            NetNs.RequireRootAnd(tool, package);
        if (!File.Exists("/usr/bin/python3")) Assert.Fail("this interop test needs /usr/bin/python3 (Debian package python3)");
        _dir = Directory.CreateTempSubdirectory("tcpipsharp-gw-").FullName;
        Directory.CreateDirectory(Path.Combine(_dir, "www", "up"));
        Directory.CreateDirectory(Path.Combine(_dir, "ngx", "cb"));
        File.SetUnixFileMode(_dir, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(_dir, "www", "up"), (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(Path.Combine(_dir, "ngx", "cb"), (UnixFileMode)0b111_111_111);
        _payload = new byte[Size];
        new Random(19).NextBytes(_payload);
        File.WriteAllBytes(Path.Combine(_dir, "www", "big.bin"), _payload);
        File.WriteAllBytes(Path.Combine(_dir, "www", "small.bin"), _payload.AsSpan(0, 100_000).ToArray());
        File.WriteAllText(Path.Combine(_dir, "www", "index.html"), "hello through the gateway\n");
        // The gateway's own /etc/hosts and /etc/resolv.conf (bind-mounted in its private mount namespace): a name only the
        // hosts file knows, and the server namespace's dnsmasq as the host's DNS server.
        File.WriteAllText(Path.Combine(_dir, "hosts"), $"127.0.0.1 localhost\n{HostsOnly4} hostsonly.test\n{HostsOnly6} hostsonly.test\n");
        File.WriteAllText(Path.Combine(_dir, "resolv.conf"), $"nameserver {Server}\n");
        File.WriteAllText(Path.Combine(_dir, "ngx", "nginx.conf"), $$"""
            worker_processes 1; pid {{_dir}}/ngx/nginx.pid; error_log stderr warn; events { worker_connections 2048; }
            http { access_log off; client_body_temp_path {{_dir}}/ngx/cb; proxy_temp_path {{_dir}}/ngx/px; fastcgi_temp_path {{_dir}}/ngx/fc;
              uwsgi_temp_path {{_dir}}/ngx/uw; scgi_temp_path {{_dir}}/ngx/sc;
              server { listen {{Server}}:8080; listen [{{Server6}}]:8080; root {{_dir}}/www; client_max_body_size 1g;
                location /up/ { dav_methods PUT; create_full_put_path on; } } }
            """);
        File.WriteAllText(Path.Combine(_dir, "slow.py"), """
            import socket, sys, time
            # Accepts one connection at a time and reads 16 KB every 100 ms (160 KB/s): a slow server.
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(8)
            while True:
                c, _ = s.accept()
                while True:
                    d = c.recv(16384)
                    if not d: break
                    time.sleep(0.1)
                c.close()
            """);
        File.WriteAllText(Path.Combine(_dir, "sender.py"), """
            import socket, sys, time, select
            # Writes to HOST:PORT for SECONDS without blocking and prints how many bytes the kernel took.
            s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5); s.setblocking(False)
            block = b"x" * 65536; total = 0; end = time.time() + float(sys.argv[3])
            while time.time() < end:
                select.select([], [s], [], 0.05)
                try: total += s.send(block)
                except BlockingIOError: pass
            print(total)
            """);
        File.WriteAllText(Path.Combine(_dir, "idle.py"), """
            import socket, sys, time
            # Connects and never reads for SECONDS (a guest that never reads).
            s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            time.sleep(float(sys.argv[3])); print("idle done")
            """);

        File.WriteAllText(Path.Combine(_dir, "resets.py"), """
            import socket, struct, sys, threading
            # Port 7300: reads a line, then resets (SO_LINGER 0). Port 7301: reports how each connection ended, to a file.
            host, log = sys.argv[1], sys.argv[2]
            def server(port, handle):
                s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((host, port)); s.listen(8)
                while True:
                    c, _ = s.accept(); threading.Thread(target=handle, args=(c,), daemon=True).start()
            def resetter(c):
                c.recv(100); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
            def reporter(c):
                try:
                    while c.recv(65536): pass
                    r = "eof"
                except ConnectionResetError: r = "reset"
                with open(log, "a") as f: f.write(r + "\n")
            threading.Thread(target=server, args=(7301, reporter), daemon=True).start()
            server(7300, resetter)
            """);
        File.WriteAllText(Path.Combine(_dir, "resetclient.py"), """
            import socket, struct, sys, time
            host = sys.argv[1]
            # The server's reset reaches the guest.
            s = socket.create_connection((host, 7300), timeout=5); s.sendall(b"hello\n")
            try: print("host->guest", "eof" if s.recv(100) == b"" else "data")
            except ConnectionResetError: print("host->guest reset")
            # The guest's reset reaches the server.
            s = socket.create_connection((host, 7301), timeout=5); s.sendall(b"x" * 1000); time.sleep(0.2)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); s.close()
            print("sent reset")
            """);

        File.WriteAllText(Path.Combine(_dir, "recverr.py"), """
            import select, socket, struct, sys
            # Sends one datagram on a connected socket with IP_RECVERR and prints the ICMP error it gets:
            # errno, type, code and the address that sent it (the "offender"), or "none" after 3 s.
            dst, port = sys.argv[1], int(sys.argv[2]); v6 = ":" in dst
            s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(41, 25, 1) if v6 else s.setsockopt(0, 11, 1)   # IPV6_RECVERR, IP_RECVERR
            s.connect((dst, port)); s.send(b"x" * 100)
            p = select.poll(); p.register(s, select.POLLERR)
            if not p.poll(3000): print("none"); sys.exit()
            _, ancillary, _, _ = s.recvmsg(512, 512, socket.MSG_ERRQUEUE)
            for level, kind, data in ancillary:
                errno, origin, icmp_type, code = struct.unpack_from("=IBBB", data)
                offender = socket.inet_ntop(socket.AF_INET6, data[24:40]) if v6 else socket.inet_ntop(socket.AF_INET, data[20:24])
                print(errno, icmp_type, code, offender)
            """);
        File.WriteAllText(Path.Combine(_dir, "socks5.py"), Socks5Server);
        _server = NetNs.Create("gws", ipv6: true);
        _server.Ip("addr", "add", Server + "/24", "dev", "lo");
        _server.Ip("addr", "add", Server6 + "/64", "dev", "lo", "nodad");
        // Destinations the server namespace cannot reach: an unreachable route for one host of each family (connect:
        // EHOSTUNREACH); no route at all to 192.0.2.0/24 and 2001:db8:ffff::/48 (ENETUNREACH).
        _server.Ip("route", "add", "unreachable", Unreachable + "/32");
        _server.Ip("-6", "route", "add", "unreachable", Unreachable6 + "/128");
        _server.Start("nginx", "-p", Path.Combine(_dir, "ngx"), "-c", Path.Combine(_dir, "ngx", "nginx.conf"), "-g", "daemon off;");
        _server.Start("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--listen-address=" + Server, "--bind-interfaces", "--no-resolv",
"--address=/gateway.test/" + Server, "--address=/nx.test/", "--no-hosts", "--txt-record=txt.gateway.test,from dnsmasq",
            "--pid-file=" + Path.Combine(_dir, "dnsmasq.pid"));
        _server.Start("microsocks", "-i", Server, "-p", "1080");
        _server.Start("microsocks", "-i", Server, "-p", "1081", "-u", "alice", "-P", "secret");
        _server.Start("socat", $"TCP-LISTEN:7000,bind={Server},reuseaddr,fork", "SYSTEM:wc -c");
        _server.Start("socat", $"TCP-LISTEN:7200,bind={Server},reuseaddr,fork", "OPEN:/dev/zero");
        _server.Start("socat", $"UDP4-RECVFROM:7400,bind={Server},fork", "PIPE");
        _server.Start("/usr/bin/python3", Path.Combine(_dir, "socks5.py"), Server, "1082", Path.Combine(_dir, "socks5.log"));
        _server.Start("/usr/bin/python3", Path.Combine(_dir, "slow.py"), Server, "7100");
        _server.Start("/usr/bin/python3", Path.Combine(_dir, "resets.py"), Server, Path.Combine(_dir, "resets.log"));
        (_guest, _gateway) = StartGateway("gtun0");
        for (int i = 0; i < 50; i++)
        {
            if (_guest.Exec(TimeSpan.FromSeconds(3), "curl", "-s", "-o", "/dev/null", "--max-time", "2", $"http://{Server}:8080/index.html").Succeeded) return;
            Thread.Sleep(100);
        }
        Assert.Fail($"nothing answered through the gateway: {_gateway.OutputSoFar}");
    }

    // Starts a gateway on a new TUN in the server namespace and moves the TUN into a new guest namespace, routed there.
    private (NetNs Guest, NsProcess Gateway) StartGateway(string tun, params string[] extra)
    {
        var guest = NetNs.Create("gwq", ipv6: true);
        try
        {
            var started = StartGatewayInto(guest, tun, extra);
            if (_guest is not null) _extraGuests.Add(guest);
            return started;
        }
        catch
        {
            // A gateway that did not start (the program not built, say) leaves no namespace behind.
            guest.Dispose();
            throw;
        }
    }

    private (NetNs Guest, NsProcess Gateway) StartGatewayInto(NetNs guest, string tun, string[] extra)
    {
        // In the gateway's private mount namespace (ip netns exec gives each command one): its own hosts and resolv.conf.
        var gateway = _server!.Start(["sh", "-c", "mount --bind \"$1\" /etc/hosts && mount --bind \"$2\" /etc/resolv.conf && shift 2 && exec \"$@\"", "sh",
            Path.Combine(_dir, "hosts"), Path.Combine(_dir, "resolv.conf"), HostProgram.Path, "gateway", "--tun", tun, "--ip", GatewayAddress + "/24", "--ip6", "2001:db8:1::1/64",
            "--dns", Server + ":53", "--time-wait", "5", .. extra]);
        var limit = System.Diagnostics.Stopwatch.StartNew();
        while (!gateway.OutputSoFar.Contains("gateway on", StringComparison.Ordinal))
        {
            if (gateway.HasExited || limit.Elapsed > TimeSpan.FromSeconds(20)) Assert.Fail($"the gateway did not start: {gateway.WaitForExit(TimeSpan.FromSeconds(1))}");
            Thread.Sleep(50);
        }
        _server.Ip("link", "set", tun, "netns", guest.Name);
        guest.Ip("addr", "add", "192.0.2.2/24", "dev", tun);
        guest.Ip("addr", "add", "2001:db8:1::2/64", "dev", tun, "nodad");
        guest.Ip("link", "set", tun, "up");
        guest.Ip("route", "add", "default", "dev", tun);
        guest.Ip("-6", "route", "add", "default", "dev", tun);
        return (guest, gateway);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _gateway?.Dispose();
        foreach (var g in _extraGuests) g.Dispose();
        _guest?.Dispose();
        _server?.Dispose();
        if (_dir.Length > 0) Directory.Delete(_dir, recursive: true);
    }

    private string Guest(TimeSpan timeout, params string[] command) => _guest!.Exec(timeout, command).ThrowIfFailed().StandardOutput;

    private static long RssKilobytes(NsProcess process)
    {
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return -1;
    }

    // Stops a gateway with SIGTERM and returns its statistics (name -> value).
    private static Dictionary<string, long> StopAndReadStatistics(NsProcess gateway)
    {
        NetNs.RunHost(TimeSpan.FromSeconds(5), "kill", "-TERM", gateway.Id.ToString(CultureInfo.InvariantCulture));
        var result = gateway.WaitForExit(TimeSpan.FromSeconds(15));
        var stats = new Dictionary<string, long>();
        foreach (Match m in StatisticLine().Matches(result.StandardOutput)) stats[m.Groups[1].Value] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.That(stats, Does.ContainKey("gateway.tcp_opened"), result.ToString());
        return stats;
    }

    [GeneratedRegex(@"^(\S+)\s+(-?\d+)$", RegexOptions.Multiline)]
    private static partial Regex StatisticLine();

    [Test]
    public void Download_IsByteExact()
    {
        string file = Path.Combine(_dir, "down.bin");
        Guest(TimeSpan.FromSeconds(30), "curl", "-sS", "--max-time", "25", "-o", file, $"http://{Server}:8080/big.bin");
        Assert.That(File.ReadAllBytes(file).AsSpan().SequenceEqual(_payload), "20 MB downloaded through the gateway differ");
    }

    [Test]
    public void Upload_IsByteExact()
    {
        Guest(TimeSpan.FromSeconds(30), "curl", "-sS", "--fail", "--max-time", "25", "-T", Path.Combine(_dir, "www", "big.bin"), $"http://{Server}:8080/up/put.bin");
        Assert.That(File.ReadAllBytes(Path.Combine(_dir, "www", "up", "put.bin")).AsSpan().SequenceEqual(_payload), "20 MB uploaded through the gateway differ");
    }

    [Test]
    public void Ipv6_DownloadAndPing()
    {
        string file = Path.Combine(_dir, "down6.bin");
        Guest(TimeSpan.FromSeconds(30), "curl", "-sS", "--max-time", "25", "-o", file, $"http://[{Server6}]:8080/big.bin");
        Assert.That(File.ReadAllBytes(file).AsSpan().SequenceEqual(_payload), "20 MB downloaded over IPv6 differ");
        Assert.That(Guest(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", Server6), Does.Contain("3 received"));
    }

    private static int Received(string pingOutput)
    {
        var m = Regex.Match(pingOutput, @"(\d+) received");
        Assert.That(m.Success, pingOutput);
        return int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    // The gateway's IPv6 address (the source of its ICMPv6 errors) is usable once its duplicate address detection has
    // passed (1-2 s after start): its DNS answers then (a ping does not tell: the gateway answers pings to any address).
    private static void WaitForGatewayIpv6(NetNs guest)
    {
        for (int i = 0; i < 20 && !guest.Exec(TimeSpan.FromSeconds(3), "dig", "+time=1", "+tries=1", "@" + Gateway6Address, "hostsonly.test").Succeeded; i++) Thread.Sleep(100);
    }

    private static void AssertEchoRelayed(NetNs guest)
    {
        WaitForGatewayIpv6(guest);
        // Relayed: the real hosts answer, and an address the server namespace cannot reach does not: the gateway, the
        // router on the path, says it is unreachable (the host's ICMP socket could not reach it), as a router would.
        Assert.That(Received(guest.Exec(TimeSpan.FromSeconds(10), "ping", "-c", "3", "-i", "0.2", "-W", "2", Server).StandardOutput), Is.EqualTo(3));
        Assert.That(Received(guest.Exec(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", Server6).StandardOutput), Is.EqualTo(3));
        foreach (var (args, expected) in new[]
                 {
                     (new[] { Unreachable }, $"From {GatewayAddress} icmp_seq=1 Destination Host Unreachable"),
                     (new[] { "192.0.2.99" }, $"From {GatewayAddress} icmp_seq=1 Destination Net Unreachable"),
                     (new[] { "-6", Unreachable6 }, $"From {Gateway6Address} icmp_seq=1 Destination unreachable: "),
                 })
        {
            var output = guest.Exec(TimeSpan.FromSeconds(10), ["ping", "-c", "2", "-i", "0.2", "-W", "1", .. args]).StandardOutput;
            Assert.That(Received(output), Is.Zero, "a ping to an unreachable host was answered");
            Assert.That(output, Does.Contain(expected), "no ICMP error from the gateway");
        }
    }

    [Test]
    public void Ping_IsRelayedThroughARawSocketAsRoot()
    {
        Assert.That(_gateway!.OutputSoFar, Does.Contain("ping relayed (raw icmp socket) (ipv4), relayed (raw icmp socket) (ipv6)"));
        AssertEchoRelayed(_guest!);
    }

    [Test]
    public void Ping_IsRelayedThroughADatagramSocket_WhenPingGroupRangeAllowsIt()
    {
        // net.ipv4.ping_group_range is the namespace's own (it covers ICMPv6 too); root's group 0 let in for this gateway only.
        // (Each flow opens its socket when the guest first pings, so the range stays open for the whole test.)
        _server!.Run("sysctl", "-qw", "net.ipv4.ping_group_range=0 0");
        try
        {
            var (guest, gateway) = StartGateway("gtun3");
            using (gateway)
            {
                Assert.That(gateway.OutputSoFar, Does.Contain("ping relayed (icmp datagram socket) (ipv4), relayed (icmp datagram socket) (ipv6)"));
                AssertEchoRelayed(guest);
                var stats = StopAndReadStatistics(gateway);
                Assert.That(stats["gateway.echo_replies_relayed"], Is.EqualTo(6));
            }
        }
        finally
        {
            _server.Run("sysctl", "-qw", "net.ipv4.ping_group_range=1 0");
        }
    }

    [Test]
    public void Ping_IsAnsweredByTheGateway_WhenNotRelayed()
    {
        // The fallback (no ICMP socket opens, or --no-echo-relay): the gateway answers for every address.
        var (guest, gateway) = StartGateway("gtun4", "--no-echo-relay");
        using (gateway)
        {
            Assert.That(gateway.OutputSoFar, Does.Contain("ping answered here (ipv4), answered here (ipv6)"));
            Assert.That(Received(guest.Exec(TimeSpan.FromSeconds(10), "ping", "-c", "2", "-i", "0.2", "-W", "2", Unreachable).StandardOutput), Is.EqualTo(2));
            Assert.That(Received(guest.Exec(TimeSpan.FromSeconds(10), "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", Unreachable6).StandardOutput), Is.EqualTo(2));
        }
    }

    [Test]
    public void UdpToAClosedPort_GetsPortUnreachable([Values(Server, Server6)] string server)
    {
        // The server's kernel answers with a port unreachable; the gateway's socket reports ECONNREFUSED and the guest gets
        // an ICMP port unreachable quoting its datagram: nc -u quits at once instead of waiting out -w 3.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = _guest!.Exec(TimeSpan.FromSeconds(10), "bash", "-c", $"echo hello | nc -u -w 3 {server} 9");
        watch.Stop();
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "nc -u waited: no port unreachable reached it. " + result);
        // The same seen by a connected socket: the refusal is its error.
        string script = $"import socket\ns = socket.socket(socket.AF_INET6 if ':' in '{server}' else socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)\n" +
                        $"s.connect(('{server}', 9)); s.send(b'x' * 100)\ntry: s.recv(100); print('data')\nexcept ConnectionRefusedError: print('refused')\nexcept TimeoutError: print('timeout')";
        Assert.That(Guest(TimeSpan.FromSeconds(10), "/usr/bin/python3", "-c", script).Trim(), Is.EqualTo("refused"));
    }

    [Test]
    public void UdpErrors_ComeFromWhereARealPathSendsThem([Values(Server, Server6, Unreachable, "192.0.2.99", Unreachable6, "2001:db8:ffff::1")] string destination)
    {
        // A connected UDP socket with IP_RECVERR reads the ICMP error's errno, type, code and its sender ("offender"): a
        // closed port is refused by the server itself; a host or network the gateway's namespace cannot reach is reported
        // by the gateway (the router on the path).
        string expected = destination switch
        {
            Server => $"111 3 3 {Server}",
            Server6 => $"111 1 4 {Server6}",
            Unreachable => $"113 3 1 {GatewayAddress}",
            "192.0.2.99" => $"101 3 0 {GatewayAddress}",
            Unreachable6 => $"113 1 3 {Gateway6Address}",
            _ => $"101 1 0 {Gateway6Address}",
        };
        if (destination.Contains(':', StringComparison.Ordinal)) WaitForGatewayIpv6(_guest!);
        Assert.That(Guest(TimeSpan.FromSeconds(10), "/usr/bin/python3", Path.Combine(_dir, "recverr.py"), destination, "9").Trim(), Is.EqualTo(expected));
    }

    [Test]
    public void TcpToAnUnreachableHost_GetsIcmpUnreachable([Values(Unreachable, "192.0.2.99", Unreachable6, "2001:db8:ffff::1")] string destination)
    {
        // The host's connect fails with EHOSTUNREACH or ENETUNREACH: the guest gets the ICMP error, not a reset, and its
        // connect fails with the same error at once.
        string expected = destination is Unreachable or Unreachable6 ? "No route to host" : "Network is unreachable";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = _guest!.Exec(TimeSpan.FromSeconds(15), "nc", "-v", "-z", "-w", "8", destination, "80");
        watch.Stop();
        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.StandardError, Does.Contain(expected), result.ToString());
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "the guest waited for its SYN to time out");
    }

    [Test]
    public void TcpToAHostThatNeverAnswers_GetsHostUnreachableAtTheConnectTimeout()
    {
        // The server namespace drops SYNs to one address: the gateway's connect gets no answer, and at its ConnectTimeout
        // (10 s) the guest is told "host unreachable" by the gateway (as by a last router whose ARP gave up), not "refused".
        const string Silent = "198.51.100.201";
        _server!.Run("iptables", "-A", "OUTPUT", "-d", Silent, "-p", "tcp", "--syn", "-j", "DROP");
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var result = _guest!.Exec(TimeSpan.FromSeconds(30), "nc", "-v", "-z", "-w", "25", Silent, "80");
            watch.Stop();
            Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
            Assert.That(result.StandardError, Does.Contain("No route to host"), result.ToString());
            Assert.That(watch.Elapsed, Is.InRange(TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(14)), "not the gateway's 10 s connect timeout");
        }
        finally
        {
            _server.Run("iptables", "-D", "OUTPUT", "-d", Silent, "-p", "tcp", "--syn", "-j", "DROP");
        }
    }

    [Test]
    public void ConcurrentCurls_AllComplete()
    {
        // 200 curls at once, 100 KB each, every body checked by size.
        string script = $"for i in $(seq 200); do curl -sS --max-time 20 -o /dev/null -w '%{{http_code}} %{{size_download}}\\n' http://{Server}:8080/small.bin & done; wait";
        var lines = Guest(TimeSpan.FromSeconds(40), "bash", "-c", script).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(200).And.All.EqualTo("200 100000"));
    }

    [Test]
    public void Dig_ThroughTheGatewaysDns()
    {
        Assert.That(Guest(TimeSpan.FromSeconds(10), "dig", "+short", "+time=2", "+tries=2", "@" + GatewayAddress, "gateway.test").Trim(), Is.EqualTo(Server));
    }

    [Test]
    public void Dig_AddressesFromTheHostsResolver_OverUdpAndTcp([Values("", "+tcp")] string transport)
    {
        string[] Dig(params string[] question) => Guest(TimeSpan.FromSeconds(15), ["dig", "+time=2", "+tries=2", .. transport.Length > 0 ? new[] { transport } : [], "@" + GatewayAddress, .. question])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // Only the gateway's /etc/hosts knows hostsonly.test (dnsmasq runs with --no-hosts): the host's resolver answered.
        Assert.That(Dig("+short", "hostsonly.test"), Is.EqualTo(new[] { HostsOnly4 }));
        Assert.That(Dig("+short", "AAAA", "hostsonly.test"), Is.EqualTo(new[] { HostsOnly6 }));
        // Through the host's resolv.conf to dnsmasq, with the gateway's short TTL (less the seconds it was in the
        // gateway's cache when an earlier test asked).
        var full = string.Join('\n', Dig("+noall", "+answer", "gateway.test"));
        Assert.That(full, Does.Match(@"^gateway\.test\.\s+([1-9]|10)\s+IN\s+A\s+198\.51\.100\.1$"), full);
        Assert.That(string.Join('\n', Dig("nx.test")), Does.Contain("status: NXDOMAIN"));
        // Other types are relayed to --dns (dnsmasq), over the same transport.
        Assert.That(Dig("+short", "TXT", "txt.gateway.test"), Is.EqualTo(new[] { "\"from dnsmasq\"" }));
        if (transport.Length > 0)
        {
            // Several queries on one connection (RFC 7766 6.2.1): dig +keepopen asks them in turn on one socket.
            Assert.That(Dig("+short", "+keepopen", "hostsonly.test", "gateway.test", "txt.gateway.test", "TXT"),
                Is.EqualTo(new[] { HostsOnly4, Server, "\"from dnsmasq\"" }));
        }
    }

    [Test]
    public void ClosedPort_GetsAResetQuickly()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = _guest!.Exec(TimeSpan.FromSeconds(10), "nc", "-z", "-w", "5", Server, "9");
        watch.Stop();
        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "a refused connection waited (no reset)");
    }

    [Test]
    public void HalfClose_Completes()
    {
        // nc -N shuts down its sending side at the end of input; the server (wc -c) answers only after that FIN.
        string file = Path.Combine(_dir, "half.bin");
        File.WriteAllBytes(file, _payload.AsSpan(0, 5_000_000).ToArray());
        Assert.That(Guest(TimeSpan.FromSeconds(20), "bash", "-c", $"nc -N -w 10 {Server} 7000 < {file}").Trim(), Is.EqualTo("5000000"));
    }

    [Test]
    public void Resets_AreCarriedBothWays()
    {
        var output = Guest(TimeSpan.FromSeconds(15), "/usr/bin/python3", Path.Combine(_dir, "resetclient.py"), Server);
        Assert.That(output, Does.Contain("host->guest reset"), "the server's reset did not reach the guest");
        string log = Path.Combine(_dir, "resets.log");
        for (int i = 0; i < 50 && !(File.Exists(log) && File.ReadAllText(log).Length > 0); i++) Thread.Sleep(100);
        Assert.That(File.ReadAllText(log).Trim(), Is.EqualTo("reset"), "the guest's reset did not reach the server");
    }

    [Test]
    public void Socks5_CarriesCurl([Values] bool withPassword)
    {
        var (guest, gateway) = StartGateway(withPassword ? "gtun2" : "gtun1",
            withPassword ? ["--socks5", Server + ":1081", "--socks5-user", "alice", "--socks5-password", "secret"] : ["--socks5", Server + ":1080"]);
        using (gateway)
        {
            string file = Path.Combine(_dir, withPassword ? "socks2.bin" : "socks.bin");
            guest.Exec(TimeSpan.FromSeconds(30), "curl", "-sS", "--max-time", "25", "-o", file, $"http://{Server}:8080/big.bin").ThrowIfFailed();
            Assert.That(File.ReadAllBytes(file).AsSpan().SequenceEqual(_payload), "20 MB through SOCKS5 differ");
            var stats = StopAndReadStatistics(gateway);
            TestContext.Out.WriteLine($"socks5 ({(withPassword ? "username/password" : "no-auth")}): {stats["gateway.tcp_opened"]} flow(s), {stats["gateway.bytes_down"]} bytes down");
            Assert.That(stats["gateway.socks5_failures"], Is.Zero);
            Assert.That(stats["gateway.bytes_down"], Is.GreaterThanOrEqualTo(Size));
        }
    }

    [Test]
    public void Socks5_FailureRepliesReachTheGuestAsARealPathWould()
    {
        // microsocks answers a CONNECT its connect() failed with the RFC 1928 reply for the errno: EHOSTUNREACH 4 (host
        // unreachable), ENETUNREACH 3 (network unreachable), ECONNREFUSED 5 (refused). The guest sees the first two as the
        // ICMP errors a router sends (its connect fails at once with the same error) and the third as a reset.
        var (guest, gateway) = StartGateway("gtun6", "--socks5", Server + ":1080");
        using (gateway)
        {
            foreach (var (destination, port, expected) in new[] { (Unreachable, "80", "No route to host"), ("192.0.2.99", "80", "Network is unreachable"), (Server, "9", "Connection refused") })
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var result = guest.Exec(TimeSpan.FromSeconds(15), "nc", "-v", "-z", "-w", "8", destination, port);
                watch.Stop();
                Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
                Assert.That(result.StandardError, Does.Contain(expected), result.ToString());
                Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "the guest waited for its SYN to time out");
            }
            var stats = StopAndReadStatistics(gateway);
            Assert.That((stats["gateway.socks5_failures"], stats["gateway.icmp_errors_to_guest"]), Is.EqualTo((3L, 2L)));
        }
    }

    // A SOCKS5 server (RFC 1928, no authentication) with CONNECT and UDP ASSOCIATE, which microsocks lacks; it logs each
    // association, each datagram it relays and each association's end.
    private const string Socks5Server = """
        import select, socket, struct, sys, threading
        host, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        lock = threading.Lock()
        def note(text):
            with lock, open(log, "a") as f: f.write(text + "\n")
        def recvn(c, n):
            b = b""
            while len(b) < n:
                d = c.recv(n - len(b))
                if not d: raise EOFError
                b += d
            return b
        def family(a): return socket.AF_INET6 if ":" in a else socket.AF_INET
        def address(c):
            t = recvn(c, 1)[0]
            a = socket.inet_ntop(socket.AF_INET, recvn(c, 4)) if t == 1 else socket.inet_ntop(socket.AF_INET6, recvn(c, 16)) if t == 4 else recvn(c, recvn(c, 1)[0]).decode()
            return a, struct.unpack("!H", recvn(c, 2))[0]
        def packed(a, p): return bytes([4 if family(a) == socket.AF_INET6 else 1]) + socket.inet_pton(family(a), a) + struct.pack("!H", p)
        def reply(c, code, bound): c.sendall(bytes([5, code, 0]) + packed(bound[0], bound[1]))
        def pipe(a, b):
            try:
                while True:
                    d = a.recv(65536)
                    if not d: break
                    b.sendall(d)
            except OSError: pass
            try: b.shutdown(socket.SHUT_WR)
            except OSError: pass
        def associate(c):
            relay = socket.socket(family(host), socket.SOCK_DGRAM); relay.bind((host, 0))
            outs = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)]
            note(f"associate {relay.getsockname()[1]}"); reply(c, 0, relay.getsockname()[:2])
            client = None
            try:
                while True:
                    ready = select.select([c, relay] + outs, [], [])[0]
                    if c in ready and not c.recv(100): break
                    if relay in ready:
                        d, client = relay.recvfrom(65536)
                        if len(d) >= 10 and d[2] == 0 and d[3] in (1, 4):
                            n = 4 if d[3] == 1 else 16
                            a = socket.inet_ntop(socket.AF_INET if n == 4 else socket.AF_INET6, d[4:4 + n]); p = struct.unpack("!H", d[4 + n:6 + n])[0]
                            note(f"udp {a}:{p} {len(d) - 6 - n}"); outs[0 if n == 4 else 1].sendto(d[6 + n:], (a, p))
                    for o in outs:
                        if o in ready:
                            d, source = o.recvfrom(65536)
                            if client: relay.sendto(b"\0\0\0" + packed(source[0], source[1]) + d, client)
            finally:
                for s in [relay] + outs: s.close()
                note("associate closed")
        def handle(c):
            try:
                recvn(c, recvn(c, 2)[1]); c.sendall(b"\x05\x00")
                _, command, _ = recvn(c, 3); destination = address(c)
                if command == 3: associate(c); return
                if command != 1: reply(c, 7, ("0.0.0.0", 0)); return
                try: upstream = socket.create_connection(destination, timeout=5)
                except OSError: reply(c, 5, ("0.0.0.0", 0)); return
                note(f"connect {destination[0]}:{destination[1]}"); reply(c, 0, upstream.getsockname()[:2])
                threading.Thread(target=pipe, args=(upstream, c), daemon=True).start(); pipe(c, upstream)
            except (OSError, EOFError): pass
            finally: c.close()
        s = socket.socket(family(host)); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((host, port)); s.listen(64)
        while True:
            c, _ = s.accept(); threading.Thread(target=handle, args=(c,), daemon=True).start()
        """;

    [Test]
    public void Socks5_UdpAssociate_CarriesDigAndUdpEcho()
    {
        string log = Path.Combine(_dir, "socks5.log");
        var (guest, gateway) = StartGateway("gtun5", "--socks5", Server + ":1082", "--udp-idle", "2");
        using (gateway)
        {
            // DNS straight to dnsmasq (not the gateway's own address) and a UDP echo, each flow through an association of its own.
            Assert.That(guest.Exec(TimeSpan.FromSeconds(10), "dig", "+short", "+time=2", "+tries=2", "@" + Server, "gateway.test").ThrowIfFailed().StandardOutput.Trim(), Is.EqualTo(Server));
            Assert.That(guest.Exec(TimeSpan.FromSeconds(10), "bash", "-c", $"echo through-socks5 | socat -t 2 - UDP4:{Server}:7400").ThrowIfFailed().StandardOutput.Trim(), Is.EqualTo("through-socks5"));
            // And TCP by CONNECT through the same proxy.
            Assert.That(guest.Exec(TimeSpan.FromSeconds(10), "curl", "-sS", "--max-time", "5", $"http://{Server}:8080/index.html").ThrowIfFailed().StandardOutput, Does.Contain("hello"));
            // Each association ends with its flow: the idle sweep (2 s; DNS flows 10 s) closes the flows while the gateway runs on.
            for (int i = 0; i < 150 && Regex.Matches(File.ReadAllText(log), "associate closed").Count < 2; i++) Thread.Sleep(100);
            Assert.That(Regex.Matches(File.ReadAllText(log), "associate closed"), Has.Count.EqualTo(2), "an association outlived its flow");
            var stats = StopAndReadStatistics(gateway);
            TestContext.Out.WriteLine($"socks5 udp: {stats["gateway.socks5_udp_associations"]} association(s), {stats["gateway.udp_datagrams_up"]} datagram(s) up, {stats["gateway.udp_datagrams_down"]} down");
            Assert.That(stats["gateway.socks5_udp_associations"], Is.EqualTo(2));
            Assert.That(stats["gateway.socks5_failures"], Is.Zero);
        }
        string text = File.ReadAllText(log);
        TestContext.Out.WriteLine(text);
        Assert.That(text, Does.Contain($"udp {Server}:53 ").And.Contain($"udp {Server}:7400 15").And.Contain($"connect {Server}:8080"));
        Assert.That(Regex.Matches(text, @"^associate \d+$", RegexOptions.Multiline), Has.Count.EqualTo(2));
    }

    [Test]
    public void BackPressure_SlowServerStallsTheGuestAndMemoryStaysBounded()
    {
        long before = RssKilobytes(_gateway!);
        // The guest writes for 4 s to a server that reads 160 KB/s: what the guest's kernel takes is bounded by the
        // windows and buffers along the way, not by time.
        long taken = long.Parse(Guest(TimeSpan.FromSeconds(15), "/usr/bin/python3", Path.Combine(_dir, "sender.py"), Server, "7100", "4").Trim(), CultureInfo.InvariantCulture);
        long after = RssKilobytes(_gateway!);
        TestContext.Out.WriteLine($"back-pressure: the guest's sender got {taken / 1024} KB out in 4 s; gateway RSS {before / 1024} MB -> {after / 1024} MB");
        Assert.That(taken, Is.LessThan(16L * 1024 * 1024), "the guest kept sending: no back-pressure");
        Assert.That(after - before, Is.LessThan(64 * 1024), "the gateway's memory grew by more than 64 MB");
        Assert.That(Guest(TimeSpan.FromSeconds(10), "curl", "-sS", "--max-time", "5", $"http://{Server}:8080/index.html"), Does.Contain("hello"));
    }

    [Test]
    public void GuestThatNeverReads_StaysBounded()
    {
        long before = RssKilobytes(_gateway!);
        // The server sends /dev/zero as fast as it can; the guest never reads for 4 s.
        using var idle = _guest!.Start("/usr/bin/python3", Path.Combine(_dir, "idle.py"), Server, "7200", "4");
        Thread.Sleep(2000);
        Assert.That(Guest(TimeSpan.FromSeconds(10), "curl", "-sS", "--max-time", "5", $"http://{Server}:8080/index.html"), Does.Contain("hello"), "the gateway stopped serving others");
        long during = RssKilobytes(_gateway!);
        var result = idle.WaitForExit(TimeSpan.FromSeconds(10));
        TestContext.Out.WriteLine($"never-reading guest: gateway RSS {before / 1024} MB -> {during / 1024} MB");
        Assert.That(result.StandardOutput, Does.Contain("idle done"));
        Assert.That(during - before, Is.LessThan(64 * 1024), "the gateway's memory grew by more than 64 MB");
    }
}

/// <summary>
/// Hostile guests against a gateway with small bounds (64 TCP flows, 256 UDP flows): a SYN flood to random destinations
/// and ports and thousands of UDP flows, each bounded in count (5,000 packets, twice) and time, then 100,000 UDP flows
/// from an ordinary socket; afterwards the gateway still serves a curl, and its statistics show the bounds refusing the
/// excess.
/// </summary>
[NonParallelizable]
public class GatewayHostileInteropTests
{
    [Test]
    public void SynFloodAndManyUdpFlows_BoundsHold()
    {
        NetNs.RequireRootAnd("curl", "curl");
        if (!File.Exists("/usr/bin/python3")) Assert.Fail("this interop test needs /usr/bin/python3 (Debian package python3)");
        using var server = NetNs.Create("gwhs", ipv6: true);
        using var guest = NetNs.Create("gwhq", ipv6: true);
        if (!guest.Exec(TimeSpan.FromSeconds(20), "/usr/bin/python3", "-c", "import scapy").Succeeded) Assert.Fail("this interop test needs python3-scapy");
        server.Ip("addr", "add", "198.51.100.1/24", "dev", "lo");
        using var http = server.Start("/usr/bin/python3", "-m", "http.server", "8000", "--bind", "198.51.100.1", "--directory", "/usr/share/doc");
        using var gateway = server.Start(HostProgram.Path, "gateway", "--tun", "gtunh", "--ip", "192.0.2.1/24", "--max-flows", "64", "--max-udp-flows", "256", "--time-wait", "5");
        var limit = System.Diagnostics.Stopwatch.StartNew();
        while (!gateway.OutputSoFar.Contains("gateway on", StringComparison.Ordinal))
        {
            if (gateway.HasExited || limit.Elapsed > TimeSpan.FromSeconds(20)) Assert.Fail($"the gateway did not start: {gateway.WaitForExit(TimeSpan.FromSeconds(1))}");
            Thread.Sleep(50);
        }
        server.Ip("link", "set", "gtunh", "netns", guest.Name);
        guest.Ip("addr", "add", "192.0.2.2/24", "dev", "gtunh");
        guest.Ip("link", "set", "gtunh", "up");
        guest.Ip("route", "add", "default", "dev", "gtunh");
        long before = ReadRss(gateway.Id);
        // 5,000 SYNs to random addresses of 198.51.100.0/24 and random ports, and 5,000 datagrams from random ports: sent
        // through a raw socket (the TUN has no link layer for scapy's own). Twice: the second round shows the memory
        // the first left is reused, not added to.
        string script = """
            import sys
            from scapy.all import IP, TCP, UDP, RandIP, RandShort, conf, L3RawSocket
            conf.L3socket = L3RawSocket
            s = conf.L3socket()
            base = int(sys.argv[1])
            for i in range(5000): s.send(IP(src="192.0.2.2", dst=str(RandIP("198.51.100.0/24")))/TCP(sport=int(RandShort()), dport=int(RandShort()), flags="S"))
            for i in range(5000): s.send(IP(src="192.0.2.2", dst="198.51.100.1")/UDP(sport=base + i, dport=9999)/b"hostile")
            print("sent")
            """;
        var flood = guest.Exec(TimeSpan.FromSeconds(60), "/usr/bin/python3", "-c", script, "10000");
        Assert.That(flood.StandardOutput, Does.Contain("sent"), flood.ToString());
        long first = ReadRss(gateway.Id);
        flood = guest.Exec(TimeSpan.FromSeconds(60), "/usr/bin/python3", "-c", script, "20000");
        Assert.That(flood.StandardOutput, Does.Contain("sent"), flood.ToString());
        long second = ReadRss(gateway.Id);
        // Then 100,000 UDP flows (issue 19's hostile figure): one ordinary socket of the guest to 100,000 different
        // destinations (254 addresses x 394 ports), in bursts of 1,000 so that the TUN's queue does not drop most.
        string many = """
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(100000):
                s.sendto(b"hostile", ("198.51.100.%d" % (i % 254 + 1), 20000 + i // 254))
                if i % 1000 == 999: time.sleep(0.005)
            print("sent")
            """;
        flood = guest.Exec(TimeSpan.FromSeconds(60), "/usr/bin/python3", "-c", many);
        Assert.That(flood.StandardOutput, Does.Contain("sent"), flood.ToString());
        long after = ReadRss(gateway.Id);
        var served = guest.Exec(TimeSpan.FromSeconds(10), "curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "http://198.51.100.1:8000/");
        NetNs.RunHost(TimeSpan.FromSeconds(5), "kill", "-TERM", gateway.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = gateway.WaitForExit(TimeSpan.FromSeconds(15));
        string Stat(string name) => System.Text.RegularExpressions.Regex.Match(result.StandardOutput, "^" + name + @"\s+(\d+)$", System.Text.RegularExpressions.RegexOptions.Multiline).Groups[1].Value;
        TestContext.Out.WriteLine($"hostile: gateway RSS {before / 1024} MB -> {first / 1024} MB after the first round -> {second / 1024} MB after the second -> {after / 1024} MB after 100,000 UDP flows; tcp refused {Stat("gateway.tcp_refused")}, connect failures {Stat("gateway.connect_failures")}, " +
                                  $"tcp flow limit {Stat("gateway.tcp_flow_limit")}, pending limit {Stat("gateway.pending_connect_limit")}; udp opened {Stat("gateway.udp_opened")}, udp flow limit {Stat("gateway.udp_flow_limit")}");
        Assert.That(served.StandardOutput.Trim(), Is.EqualTo("200"), "the gateway stopped serving after the flood: " + served);
        Assert.That(long.Parse(Stat("gateway.udp_opened"), System.Globalization.CultureInfo.InvariantCulture), Is.LessThanOrEqualTo(256 + 1), "UDP flows beyond the bound");
        // Each datagram of a flow beyond the bound is refused and counted; of the 100,000 most reach the gateway (about
        // 70,000 here: the rest the TUN's queue drops in the guest's kernel), at least 10,000 under any load.
        Assert.That(long.Parse(Stat("gateway.udp_flow_limit"), System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(2 * 5000 - 256 + 10_000));
        // RSS counts the runtime's heap growth and uncollected garbage too (a refused SYN's objects and its
        // SocketException); the 256 UDP flows hold 64 KB each (16 MB). By hand, nine such rounds levelled off at 164 MB
        // from the fifth on (docs/gateway.md); two rounds stay well under 256 MB.
        Assert.That(first - before, Is.LessThan(192 * 1024), "the gateway's memory grew by more than 192 MB");
        Assert.That(after, Is.LessThan(256 * 1024), "the gateway's RSS passed 256 MB");
    }

    private static long ReadRss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        return -1;
    }
}
