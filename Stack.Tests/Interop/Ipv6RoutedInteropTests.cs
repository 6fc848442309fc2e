using System.Diagnostics;
using System.Globalization;
using TcpIpSharp.Net.Ipv6;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// <c>curl -6</c> from a kernel peer one router away from the stack: peer 2001:db8:2::2 —veth— 2001:db8:2::1 router
/// 2001:db8:1::1 —TAP— 2001:db8:1::2 the stack (static address and default router, in this process). 100 MB byte-exact
/// clean and with 2% loss both ways (iptables statistic in the router's FORWARD chain, DESIGN.md 7); then with the
/// router's far link at 1,280 bytes, the router's Packet Too Big lowers the stack's path MTU and the transfer stays
/// exact. A fresh TAP and stack per test.
/// </summary>
[NonParallelizable]
public class Ipv6RoutedInteropTests
{
    private const string Router = "2001:db8:1::1", Stack = "2001:db8:1::2", RouterFar = "2001:db8:2::1", Peer = "2001:db8:2::2";
    private const int Size = 100 * 1024 * 1024;
    private NetNs? _router, _peer;
    private int _tap;

    [OneTimeSetUp]
    public void CreateNamespaces()
    {
        foreach (var (tool, package) in new[] { ("curl", "curl"), ("iptables", "iptables"), ("ip6tables", "iptables"), ("ethtool", "ethtool"), ("ping", "iputils-ping") })
            NetNs.RequireRootAnd(tool, package);
        _router = NetNs.Create("v6rt", ipv6: true);
        try
        {
            _peer = NetNs.Create("v6peer", ipv6: true);
            NetNs.RunHost(NetNs.DefaultTimeout, "ip", "link", "add", "rt0", "netns", _router.Name, "type", "veth", "peer", "name", "peer0", "netns", _peer.Name).ThrowIfFailed();
            // Wire-size frames through the router, so that the loss rules and the MTU see what a real link would carry.
            _router.Run("ethtool", "-K", "rt0", "tso", "off", "gso", "off", "gro", "off");
            _peer.Run("ethtool", "-K", "peer0", "tso", "off", "gso", "off", "gro", "off");
            _router.Run("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1");
            _router.Ip("-6", "addr", "add", RouterFar + "/64", "dev", "rt0", "nodad");
            _router.Ip("link", "set", "rt0", "up");
            _peer.Ip("-6", "addr", "add", Peer + "/64", "dev", "peer0", "nodad");
            _peer.Ip("link", "set", "peer0", "up");
            _peer.Ip("-6", "route", "add", "default", "via", RouterFar);
            _router.WaitUntilUp("rt0");
            _peer.WaitUntilUp("peer0");
        }
        catch
        {
            RemoveNamespaces();
            throw;
        }
    }

    [OneTimeTearDown]
    public void RemoveNamespaces()
    {
        _peer?.Dispose();
        _router?.Dispose();
    }

    // A fresh TAP (and stack) per test; removed whatever happens, with the loss rules and the far link's MTU put back.
    private void WithStack(Action<InProcessStack> test, bool lossy = false, int farMtu = 1500)
    {
        string tap = "tap" + (_tap++).ToString(CultureInfo.InvariantCulture);
        var router = _router!;
        Sh(5, "ip6tables -F FORWARD").ThrowIfFailed();
        router.AddTap(tap);
        router.Ip("-6", "addr", "add", Router + "/64", "dev", tap, "nodad");
        InProcessStack? host = null;
        try
        {
            if (farMtu != 1500) router.Ip("link", "set", "rt0", "mtu", farMtu.ToString(CultureInfo.InvariantCulture));
            if (lossy)
                Sh(5, $"ip6tables -A FORWARD -i {tap} -m statistic --mode random --probability 0.02 -j DROP; ip6tables -A FORWARD -o {tap} -m statistic --mode random --probability 0.02 -j DROP").ThrowIfFailed();
            host = new InProcessStack(router, tap, new NetworkStackOptions
            {
                MacAddress = MacAddress.Parse("02:00:00:00:00:12"), Address = Ipv4Address.Parse("192.0.2.2"), PrefixLength = 24,
                Ipv6 = new Ipv6Options { StaticAddresses = [(Ipv6Address.Parse(Stack), 64)], StaticGateway = Ipv6Address.Parse(Router), RouterSolicitations = 0 },
            });
            var wait = Stopwatch.StartNew();
            while (!router.Exec(TimeSpan.FromSeconds(3), "ping", "-6", "-c", "1", "-W", "1", Stack).Succeeded)
                if (wait.Elapsed > TimeSpan.FromSeconds(20)) Assert.Fail($"the stack did not answer ping -6 on {Stack} within 20 s:\n{host.DescribeIpv6()}");
            test(host);
            if (lossy)
            {
                var drops = Sh(5, "ip6tables -L FORWARD -v -n -x | awk '$3==\"DROP\"{print $1}'").StandardOutput
                    .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(t => long.Parse(t, CultureInfo.InvariantCulture)).ToArray();
                TestContext.Out.WriteLine($"ip6tables dropped {string.Join(" and ", drops)} frames (from the stack, to it)");
                Assert.That(drops, Has.Length.EqualTo(2).And.All.GreaterThan(0), "frames were dropped both ways");
            }
        }
        finally
        {
            if (host is not null)
            {
                TestContext.Out.WriteLine("stack: " + string.Join(" ", host.Stack.Statistics.Snapshot()
                    .Where(kv => kv.Key.StartsWith("tcp.retransmits", StringComparison.Ordinal) || kv.Key is "tcp.segments_sent" or "icmpv6.packet_too_big_received" or "ipv6.fragments_sent")
                    .Select(kv => $"{kv.Key}={kv.Value}")));
                host.Dispose();
            }
            Sh(5, "ip6tables -F FORWARD");
            router.Exec(TimeSpan.FromSeconds(5), "ip", "link", "set", "rt0", "mtu", "1500");
            _peer!.Exec(TimeSpan.FromSeconds(5), "ip", "link", "set", "peer0", "mtu", "1500");
            router.Exec(TimeSpan.FromSeconds(5), "ip", "link", "del", tap);
        }
    }

    private ProcessResult Sh(int seconds, string script) => _router!.Exec(TimeSpan.FromSeconds(seconds), "sh", "-c", script);

    private void Curl(long size, string what)
    {
        var r = _peer!.Exec(TimeSpan.FromSeconds(58), "sh", "-c", $"curl -6 -g -s --max-time 55 -w '%{{stderr}}%{{speed_download}}' http://[{Stack}]/bytes/{size} | sha256sum");
        string rate = double.TryParse(r.StandardError.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double b) ? (b * 8 / 1e6).ToString("0", CultureInfo.InvariantCulture) : "?";
        TestContext.Out.WriteLine($"curl -6 from the stack{what}: {size} bytes, sha256 {(r.StandardOutput.Split(' ')[0] == StackHost.ExpectedBytesHash(size) ? "exact" : "WRONG")}, {rate} Mbit/s");
        Assert.That(r.StandardOutput.Split(' ')[0], Is.EqualTo(StackHost.ExpectedBytesHash(size)), r.ToString());
    }

    [Test]
    public void Curl_6_downloads_100_MB_from_the_stack_byte_exact()
        => WithStack(_ => Curl(Size, " through the router"));

    [Test]
    public void Curl_6_downloads_100_MB_from_the_stack_byte_exact_with_2_percent_loss_both_ways()
        => WithStack(host =>
        {
            Curl(Size, " through the router with 2% loss both ways");
            var retransmits = host.Stack.Statistics.Snapshot().Where(kv => kv.Key.StartsWith("tcp.retransmits", StringComparison.Ordinal)).Sum(kv => kv.Value);
            Assert.That(retransmits, Is.GreaterThan(0), "the loss made the stack retransmit");
        }, lossy: true);

    // The other way: the peer posts 100 MB to the stack's HTTP sink, which answers with the length and SHA-256 it received.
    private void CurlUpload(string what)
    {
        var data = new byte[Size];
        new Random(17).NextBytes(data);
        string file = Path.Combine(Path.GetTempPath(), $"tis-v6-upload-{Environment.ProcessId}.bin");
        File.WriteAllBytes(file, data);
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var r = _peer!.Exec(TimeSpan.FromSeconds(58), "sh", "-c",
                $"curl -6 -g -s --max-time 55 --data-binary @{file} -H 'Content-Type: application/octet-stream' http://[{Stack}]/sink");
            string expected = $"{data.Length} {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data))}";
            TestContext.Out.WriteLine($"curl -6 to the stack{what}: {Size} bytes, {(r.StandardOutput.Trim() == expected ? "exact" : "WRONG")}, " +
                $"{Size * 8 / watch.Elapsed.TotalSeconds / 1e6:0} Mbit/s");
            Assert.That(r.StandardOutput.Trim(), Is.EqualTo(expected), r.ToString());
        }
        finally { File.Delete(file); }
    }

    [Test]
    public void Curl_6_uploads_100_MB_to_the_stack_byte_exact()
        => WithStack(_ => CurlUpload(" through the router"));

    [Test]
    public void Curl_6_uploads_100_MB_to_the_stack_byte_exact_with_2_percent_loss_both_ways()
        => WithStack(_ => CurlUpload(" through the router with 2% loss both ways"), lossy: true);

    [Test]
    public void A_1280_byte_far_link_makes_the_router_send_packet_too_big_and_the_stack_lowers_its_path_mtu()
        => WithStack(host =>
        {
            var peer = Ipv6Address.Parse(Peer);
            int before = host.Query(s => s.Ipv6!.PathMtu(peer, s.Interface.Now));
            Curl(20 * 1024 * 1024, " with the router's far link at MTU 1280");
            int after = host.Query(s => s.Ipv6!.PathMtu(peer, s.Interface.Now));
            long tooBig = host.Stack.Statistics.Snapshot().Single(kv => kv.Key == "icmpv6.packet_too_big_received").Value;
            TestContext.Out.WriteLine($"the stack's path MTU to {Peer}: {before} before, {after} after {tooBig} Packet Too Big from the router");
            using (Assert.EnterMultipleScope())
            {
                Assert.That(before, Is.EqualTo(1500));
                Assert.That(tooBig, Is.GreaterThan(0));
                Assert.That(after, Is.EqualTo(1280));
            }
            // The lowered path MTU also fragments what the stack sends on its own at 1,280: a 3,000-byte echo is answered.
            // (The peer's end goes to 1,280 as well now: a veth drops what exceeds its receiving end's MTU, and the
            // peer's 1,500-byte reply fragments would die there; it stayed at 1,500 for curl so that its MSS let the
            // stack send full-size segments into the router.)
            _peer!.Ip("link", "set", "peer0", "mtu", "1280");
            var replies = host.Ping(peer, 2, 3000, TimeSpan.FromSeconds(5));
            Assert.That(replies.Count(r => r.DataIntact && r.PayloadLength == 3000), Is.EqualTo(2), "fragmented pings through the 1,280 link");
        }, farMtu: 1280);
}
