using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using TcpIpSharp.Sockets;
using TcpIpSharp.Wire;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// IGMP and the multicast socket options against Linux: the stack on a TAP that is a port of a bridge with multicast
/// snooping and its own querier (PEERS.md's recipe), in a namespace each test makes and removes (needs root, iproute2's
/// <c>bridge</c>, socat).
/// </summary>
[SupportedOSPlatform("linux")]
[NonParallelizable]
public class IgmpInteropTests
{
    private const string Group = "239.1.2.3";
    private const int Port = 5353;   // the port mDNS code shares through SO_REUSEADDR

    private static NetNs BridgeWithQuerier(int igmpVersion = 3)
    {
        NetNs.RequireRootAnd("bridge", "iproute2");
        NetNs.RequireRootAnd("socat", "socat");
        var ns = NetNs.Create("igmp");
        try
        {
            ns.AddTap("tap0");
            ns.Ip("link", "add", "br0", "type", "bridge", "mcast_snooping", "1", "mcast_querier", "1", "mcast_igmp_version", igmpVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
            ns.Run("sysctl", "-qw", "net.ipv6.conf.br0.disable_ipv6=1");
            ns.Ip("link", "set", "tap0", "master", "br0");
            ns.Ip("addr", "add", "192.0.2.1/24", "dev", "br0");
            // Centiseconds: a general query every 10 s, 5 s to answer, startup queries every second (two of them).
            ns.Ip("link", "set", "br0", "type", "bridge", "mcast_query_interval", "1000", "mcast_startup_query_interval", "100", "mcast_query_response_interval", "500");
            ns.Ip("link", "set", "br0", "up");
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    private static string WaitForMdb(NetNs ns, bool present, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        string mdb = "";
        while (clock.Elapsed < limit)
        {
            mdb = ns.Run("bridge", "-d", "mdb", "show", "dev", "br0");
            if (mdb.Contains(Group, StringComparison.Ordinal) == present) return mdb;
            Thread.Sleep(100);
        }
        Assert.Fail($"after {limit.TotalSeconds} s the bridge's mdb {(present ? "still lacks" : "still has")} {Group}:\n{mdb}");
        return mdb;
    }

    private static byte[] Mreq() => [.. InetPton(AF_INET, Group), .. InetPton(AF_INET, "0.0.0.0")];

    [Test]
    public void A_snooping_bridge_learns_the_stacks_group_on_join_and_forgets_it_on_leave_and_two_reuseaddr_sockets_each_get_the_kernels_datagram()
    {
        using var ns = BridgeWithQuerier();
        var link = ns.OpenTap("tap0");
        using var stack = SocketStack.Start(link, new NetworkStackOptions
        {
            MacAddress = MacAddress.Parse("02:00:00:00:00:22"), Address = Ipv4Address.Parse("192.0.2.2"), PrefixLength = 24,
        });
        ns.WaitUntilUp("br0");
        var before = ns.Run("bridge", "-d", "mdb", "show", "dev", "br0");
        TestContext.Out.WriteLine("bridge mdb show, before the join:\n" + before);
        Assert.That(before, Does.Not.Contain(Group));

        using var r1 = stack.Socket(AF_INET, SOCK_DGRAM);
        using var r2 = stack.Socket(AF_INET, SOCK_DGRAM);
        foreach (var r in new[] { r1, r2 })
        {
            r.SetSockOpt(SOL_SOCKET, SO_REUSEADDR, 1);
            r.Bind(("", Port));
            r.SetTimeout(5);
        }
        r1.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq());
        r2.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq());
        var joined = WaitForMdb(ns, present: true, TimeSpan.FromSeconds(5));
        TestContext.Out.WriteLine("bridge mdb show, after the join:\n" + joined);
        Assert.That(joined, Does.Contain($"port tap0 grp {Group}"));

        // The kernel sends to the group from the bridge; snooping forwards it to tap0 because of the stack's report.
        var sent = ns.Exec(TimeSpan.FromSeconds(5), "sh", "-c",
            $"printf 'hello from the kernel' | socat -u STDIN UDP4-DATAGRAM:{Group}:{Port},ip-multicast-if=192.0.2.1,ip-multicast-ttl=1");
        Assert.That(sent.ExitCode, Is.Zero, sent.StandardError);
        var (d1, from1) = r1.RecvFrom(100);
        var (d2, from2) = r2.RecvFrom(100);
        TestContext.Out.WriteLine($"socket 1 got '{Encoding.ASCII.GetString(d1)}' from {from1}; socket 2 got '{Encoding.ASCII.GetString(d2)}' from {from2}");
        Assert.That(Encoding.ASCII.GetString(d1), Is.EqualTo("hello from the kernel"));
        Assert.That(Encoding.ASCII.GetString(d2), Is.EqualTo("hello from the kernel"));
        Assert.That(from1.Ip, Is.EqualTo("192.0.2.1"));

        // Let the querier ask at least once (startup queries every 5 s): the stack answers and the entry stays.
        var queried = Stopwatch.StartNew();
        while (stack.Invoke(s => s.Statistics.Snapshot().First(kv => kv.Key == "igmp.queries_received").Value) == 0 && queried.Elapsed < TimeSpan.FromSeconds(12))
            Thread.Sleep(100);
        var counters = stack.Invoke(s => s.Statistics.Snapshot().Where(kv => kv.Key.StartsWith("igmp.", StringComparison.Ordinal)).ToList());
        TestContext.Out.WriteLine(string.Join(", ", counters.Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.That(counters.First(kv => kv.Key == "igmp.queries_received").Value, Is.GreaterThan(0), "the bridge's querier was heard");
        Thread.Sleep(1500);   // the answer's random delay is within the querier's 5 s; the entry must survive the query
        Assert.That(ns.Run("bridge", "-d", "mdb", "show", "dev", "br0"), Does.Contain(Group));

        r1.SetSockOpt(IPPROTO_IP, IP_DROP_MEMBERSHIP, Mreq());
        Thread.Sleep(1500);
        Assert.That(ns.Run("bridge", "-d", "mdb", "show", "dev", "br0"), Does.Contain(Group), "one socket is still in the group: no leave was sent");
        r2.Close();   // the last member: TO_IN{}; the bridge asks the group and then drops it
        var left = WaitForMdb(ns, present: false, TimeSpan.FromSeconds(10));
        TestContext.Out.WriteLine("bridge mdb show, after the leave:\n" + left);
        Assert.That(stack.Invoke(s => s.Statistics.Snapshot().First(kv => kv.Key == "igmp.leaves_sent").Value), Is.GreaterThan(0));
    }

    [Test]
    public void Against_an_igmpv2_querier_the_stack_answers_in_v2_and_its_leave_group_removes_the_entry()
    {
        NetNs.RequireRootAnd("tcpdump", "tcpdump");
        using var ns = BridgeWithQuerier(igmpVersion: 2);
        using var capture = ns.Start("tcpdump", "-i", "tap0", "-nn", "-l", "-v", "igmp");
        var link = ns.OpenTap("tap0");
        using var stack = SocketStack.Start(link, new NetworkStackOptions
        {
            MacAddress = MacAddress.Parse("02:00:00:00:00:23"), Address = Ipv4Address.Parse("192.0.2.2"), PrefixLength = 24,
        });
        ns.WaitUntilUp("br0");
        var group = Ipv4Address.Parse(Group);
        stack.Invoke(s => { s.JoinMulticast(group); return 0; });
        TestContext.Out.WriteLine("after the join:\n" + WaitForMdb(ns, present: true, TimeSpan.FromSeconds(5)));

        // The bridge's startup queries are v2: the stack moves to v2 mode and answers with v2 reports to the group.
        var clock = Stopwatch.StartNew();
        while (stack.Invoke(s => s.Ipv4.IgmpVersion(s.Interface.Now)) != 2 && clock.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(100);
        Assert.That(stack.Invoke(s => s.Ipv4.IgmpVersion(s.Interface.Now)), Is.EqualTo(2), "a v2 query was heard");
        long reportsAtSwitch = stack.Invoke(s => s.Statistics.Snapshot().First(kv => kv.Key == "igmp.reports_sent").Value);
        while (stack.Invoke(s => s.Statistics.Snapshot().First(kv => kv.Key == "igmp.reports_sent").Value) == reportsAtSwitch && clock.Elapsed < TimeSpan.FromSeconds(25))
            Thread.Sleep(100);
        Assert.That(stack.Invoke(s => s.Statistics.Snapshot().First(kv => kv.Key == "igmp.reports_sent").Value), Is.GreaterThan(reportsAtSwitch), "the query was answered");

        stack.Invoke(s => { s.LeaveMulticast(group); return 0; });
        TestContext.Out.WriteLine("after the leave:\n" + WaitForMdb(ns, present: false, TimeSpan.FromSeconds(10)));
        Thread.Sleep(300);
        var wire = capture.OutputSoFar;
        TestContext.Out.WriteLine("tcpdump -i tap0 -v igmp:\n" + wire);
        Assert.That(wire, Does.Contain("igmp query v2"));
        Assert.That(wire, Does.Contain($"192.0.2.2 > {Group}: igmp v2 report {Group}"));
        Assert.That(wire, Does.Contain($"192.0.2.2 > 224.0.0.2: igmp leave {Group}"));
        Assert.That(wire, Does.Contain("options (RA)"), "Router Alert on what the stack sent");
    }
}
