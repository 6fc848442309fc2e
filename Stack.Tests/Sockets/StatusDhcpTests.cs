using System.Diagnostics;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Sockets;
using TcpIpSharp.Tests.Interop;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Sockets;

/// <summary><c>WLAN.status()</c>, <c>isconnected()</c> and <c>ifconfig()</c> of a socket stack that takes its address from dnsmasq's DHCP.</summary>
[NonParallelizable]
public class StatusDhcpTests
{
    [Test]
    public void Status_goes_from_no_IP_to_got_IP_and_ifconfig_shows_the_lease()
    {
        NetNs.RequireRootAnd("dnsmasq", "dnsmasq-base");
        var dir = Directory.CreateTempSubdirectory("tis-sockdhcp-").FullName;
        try
        {
            using var ns = NetNs.Create("sockdhcp");
            ns.AddTap("tap0", "192.0.2.1/24");
            File.WriteAllText(Path.Combine(dir, "hosts"), "192.0.2.1 server.test\n");
            ns.Start(NetNs.FindTool("dnsmasq")!, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--addn-hosts=" + Path.Combine(dir, "hosts"),
                "--listen-address=192.0.2.1", "--bind-interfaces", "--interface=tap0", "--local=/test/",
                "--dhcp-range=192.0.2.50,192.0.2.60,255.255.255.0,120", "--dhcp-option=3,192.0.2.1", "--dhcp-option=6,192.0.2.1",
                "--dhcp-leasefile=" + Path.Combine(dir, "leases"), "--no-ping");
            var link = ns.OpenTap("tap0");
            using var stack = SocketStack.Start(link, new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:36") }, new DhcpClientOptions { HostName = "picow" });
            var seen = new List<WlanStatus>();
            var wait = Stopwatch.StartNew();
            while (wait.Elapsed < TimeSpan.FromSeconds(40))
            {
                var status = stack.Status();
                if (seen.Count == 0 || seen[^1] != status) seen.Add(status);
                if (status == WlanStatus.GotIp) break;
                Assert.That(stack.IsConnected(), Is.False);
                Thread.Sleep(10);
            }
            TestContext.Out.WriteLine($"statuses seen: {string.Join(" -> ", seen.Select(s => $"{(int)s} {s}"))}; ifconfig {stack.IfConfig()}");
            Assert.That(seen, Does.Contain(WlanStatus.NoIp));
            Assert.That(seen[^1], Is.EqualTo(WlanStatus.GotIp));
            Assert.That(stack.IsConnected(), Is.True);
            var config = stack.IfConfig();
            Assert.That(config.Ip, Does.StartWith("192.0.2.5").Or.EqualTo("192.0.2.60"));
            Assert.That((config.Subnet, config.Gateway, config.Dns), Is.EqualTo(("255.255.255.0", "192.0.2.1", "192.0.2.1")));
            Assert.That(stack.GetAddrInfo("server.test", 80)[0].SockAddr.Ip, Is.EqualTo("192.0.2.1"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
