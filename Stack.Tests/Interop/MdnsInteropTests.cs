using System.Diagnostics;
using System.Runtime.Versioning;
using TcpIpSharp.Services.Mdns;
using TcpIpSharp.Sockets;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// The mDNS responder, DNS-SD and .local lookups against avahi: the stack on a TAP in a namespace the test makes, an
/// avahi-daemon on the kernel's side with its own private D-Bus (PEERS.md section 2), and dig. Needs root, avahi-daemon,
/// avahi-utils, dbus-daemon and dig; everything made is removed and every daemon killed afterwards.
/// </summary>
[SupportedOSPlatform("linux")]
[NonParallelizable]
public class MdnsInteropTests
{
    private const string KernelIp = "198.51.100.1";
    private const string StackIp = "198.51.100.2";
    private const string StackName = "picotest";
    private const string KernelName = "kernelhost";

    [Test]
    public void Avahi_resolves_and_browses_the_stack_the_stack_resolves_and_browses_avahi_and_dig_gets_legacy_answers()
    {
        NetNs.RequireRootAnd("avahi-daemon", "avahi-daemon");
        NetNs.RequireRootAnd("avahi-resolve", "avahi-utils");
        NetNs.RequireRootAnd("dbus-daemon", "dbus");
        NetNs.RequireRootAnd("dig", "dnsutils");
        bool runDirExisted = Directory.Exists("/run/avahi-daemon");
        var scratch = Directory.CreateTempSubdirectory("tis-mdns-");
        try
        {
            using var ns = NetNs.Create("mdns");
            ns.AddTap("tap0", KernelIp + "/24");
            ns.Ip("route", "add", "224.0.0.0/4", "dev", "tap0");   // for dig's multicast query only; avahi needs none
            var link = ns.OpenTap("tap0");
            using var stack = SocketStack.Start(link, new NetworkStackOptions
            {
                MacAddress = MacAddress.Parse("02:00:00:00:00:33"), Address = Ipv4Address.Parse(StackIp), PrefixLength = 24, Hostname = StackName,
            });
            ns.WaitUntilUp("tap0");
            string bus = StartAvahi(ns, scratch.FullName);
            ProcessResult InAvahi(TimeSpan timeout, params string[] command) => ns.Exec(timeout, ["env", $"DBUS_SYSTEM_BUS_ADDRESS=unix:path={bus}", .. command]);
            var responder = new MdnsResponder();
            responder.Register(new ServiceInstance("Pico web", "_http._tcp", 80, ["path=/"]));
            stack.AddService(responder);
            var clock = Stopwatch.StartNew();
            while (!stack.Invoke(_ => responder.HostnameEstablished && responder.IsEstablished("Pico web", "_http._tcp")) && clock.Elapsed < TimeSpan.FromSeconds(10))
                Thread.Sleep(50);
            Assert.That(stack.Invoke(_ => responder.HostFullName), Is.EqualTo(StackName + ".local"), "no conflict with avahi's names");

            // avahi-resolve -n NAME.local gets the stack's address.
            var resolved = InAvahi(TimeSpan.FromSeconds(10), "avahi-resolve", "-4", "-n", StackName + ".local");
            TestContext.Out.WriteLine($"$ avahi-resolve -4 -n {StackName}.local\n{resolved.StandardOutput}{resolved.StandardError}");
            Assert.That(resolved.StandardOutput, Does.Contain($"{StackName}.local\t{StackIp}"));
            var reverse = InAvahi(TimeSpan.FromSeconds(10), "avahi-resolve", "-a", StackIp);
            TestContext.Out.WriteLine($"$ avahi-resolve -a {StackIp}\n{reverse.StandardOutput}{reverse.StandardError}");
            Assert.That(reverse.StandardOutput, Does.Contain($"{StackIp}\t{StackName}.local"));

            // avahi-browse -rt _http._tcp lists the stack's service, resolved.
            var browsed = InAvahi(TimeSpan.FromSeconds(15), "avahi-browse", "-rt", "_http._tcp");
            TestContext.Out.WriteLine($"$ avahi-browse -rt _http._tcp\n{browsed.StandardOutput}{browsed.StandardError}");
            Assert.That(browsed.StandardOutput, Does.Contain("Pico web"));
            Assert.That(browsed.StandardOutput, Does.Contain($"hostname = [{StackName}.local]"));
            Assert.That(browsed.StandardOutput, Does.Contain($"address = [{StackIp}]"));
            Assert.That(browsed.StandardOutput, Does.Contain("port = [80]"));
            Assert.That(browsed.StandardOutput, Does.Contain("txt = [\"path=/\"]"));

            // The stack resolves the name avahi publishes (getaddrinfo, by one-shot multicast query), and browses its service.
            using var publisher = ns.Start("env", $"DBUS_SYSTEM_BUS_ADDRESS=unix:path={bus}", "avahi-publish", "-s", "web on kernel", "_http._tcp", "8080", "path=/k");
            var info = stack.GetAddrInfo(KernelName + ".local", 80);
            TestContext.Out.WriteLine($"stack getaddrinfo({KernelName}.local) -> {string.Join(", ", info.Select(i => i.SockAddr))}");
            Assert.That(info.Select(i => i.SockAddr.Ip), Does.Contain(KernelIp));
            Thread.Sleep(1500);   // avahi-publish probes and announces
            var browse = stack.Invoke(_ => responder.Browse("_http._tcp", TimeSpan.FromSeconds(3), stack.Now));
            Assert.That(browse.Task.Wait(TimeSpan.FromSeconds(10)), Is.True);
            foreach (var s in browse.Task.Result) TestContext.Out.WriteLine($"stack browse _http._tcp: {s}");
            var kernelWeb = browse.Task.Result.Single(s => s.Instance == "web on kernel");
            Assert.That((kernelWeb.HostName, kernelWeb.Port), Is.EqualTo((KernelName + ".local", (ushort)8080)));
            Assert.That(kernelWeb.Addresses.Select(a => a.ToString()), Does.Contain(KernelIp));
            Assert.That(kernelWeb.Txt, Is.EqualTo(new[] { "path=/k" }));

            // dig: a legacy unicast query (from dig's own port). To the group, the answer comes from the stack's address,
            // which dig's connected socket drops (PEERS.md 2: avahi's answers meet the same fate); the stack's counter shows
            // it answered. To the stack's address, dig takes the answer.
            long legacyBefore = stack.Invoke(_ => responder.Statistics.LegacyResponsesSent);
            var multicastDig = ns.Exec(TimeSpan.FromSeconds(10), "dig", "+tries=1", "+time=2", "-p", "5353", "@224.0.0.251", StackName + ".local");
            TestContext.Out.WriteLine($"$ dig -p 5353 @224.0.0.251 {StackName}.local\n{multicastDig.StandardOutput}");
            Assert.That(stack.Invoke(_ => responder.Statistics.LegacyResponsesSent), Is.GreaterThan(legacyBefore), "the multicast legacy query was answered");
            var dig = ns.Exec(TimeSpan.FromSeconds(10), "dig", "-p", "5353", $"@{StackIp}", StackName + ".local");
            TestContext.Out.WriteLine($"$ dig -p 5353 @{StackIp} {StackName}.local\n{dig.StandardOutput}");
            Assert.That(dig.StandardOutput, Does.Match($@"{StackName}\.local\.\s+10\s+IN\s+A\s+{StackIp.Replace(".", @"\.", StringComparison.Ordinal)}"));
            var digPtr = ns.Exec(TimeSpan.FromSeconds(10), "dig", "+short", "-p", "5353", $"@{StackIp}", "-x", StackIp);
            TestContext.Out.WriteLine($"$ dig +short -p 5353 @{StackIp} -x {StackIp}\n{digPtr.StandardOutput}");
            Assert.That(digPtr.StandardOutput.Trim(), Is.EqualTo(StackName + ".local."));
            TestContext.Out.WriteLine(string.Join(", ", stack.Invoke(_ => responder.Statistics.Snapshot()).Where(p => p.Value > 0).Select(p => $"{p.Key}={p.Value}")));
        }
        finally
        {
            scratch.Delete(recursive: true);
            // The daemon's pid directory was made on the shared file system (its tmpfs was private to the namespace).
            if (!runDirExisted && Directory.Exists("/run/avahi-daemon") && !Directory.EnumerateFileSystemEntries("/run/avahi-daemon").Any())
                Directory.Delete("/run/avahi-daemon");
        }
    }

    [Test]
    public void Over_ipv6_avahi_resolves_the_stacks_aaaa_and_the_stack_resolves_avahis()
    {
        NetNs.RequireRootAnd("avahi-daemon", "avahi-daemon");
        NetNs.RequireRootAnd("avahi-resolve", "avahi-utils");
        NetNs.RequireRootAnd("dbus-daemon", "dbus");
        bool runDirExisted = Directory.Exists("/run/avahi-daemon");
        var scratch = Directory.CreateTempSubdirectory("tis-mdns6-");
        try
        {
            using var ns = NetNs.Create("mdns6", ipv6: true);
            ns.AddTap("tap0", KernelIp + "/24");
            ns.Ip("-6", "addr", "add", "2001:db8:1::1/64", "dev", "tap0", "nodad");
            var link = ns.OpenTap("tap0");
            using var stack = SocketStack.Start(link, new NetworkStackOptions
            {
                MacAddress = MacAddress.Parse("02:00:00:00:00:34"), Address = Ipv4Address.Parse(StackIp), PrefixLength = 24, Hostname = StackName,
                Ipv6 = new TcpIpSharp.Net.Ipv6.Ipv6Options { StaticAddresses = [(Ipv6Address.Parse("2001:db8:1::2"), 64)] },
            });
            ns.WaitUntilUp("tap0");
            string bus = StartAvahi(ns, scratch.FullName, ipv6: true);
            var responder = stack.StartMdns();
            var clock = Stopwatch.StartNew();
            // Established with its IPv6 addresses too (they pass DAD after the first probes; it sees that in the same poll
            // round and probes again, so "established" with both preferred means established with them).
            while (!stack.Invoke(s => responder.HostnameEstablished && s.Ipv6Addresses.Count(a => a.State == TcpIpSharp.Net.Ipv6.Ipv6AddressState.Preferred) >= 2)
                   && clock.Elapsed < TimeSpan.FromSeconds(15))
                Thread.Sleep(50);
            TestContext.Out.WriteLine($"established with its IPv6 addresses after {clock.Elapsed.TotalSeconds:0.0} s");
            var addresses = stack.Invoke(s => s.Ipv6Addresses.Select(a => a.Address.ToString()).ToList());
            TestContext.Out.WriteLine("the stack's IPv6 addresses: " + string.Join(", ", addresses));
            var resolved = ns.Exec(TimeSpan.FromSeconds(10), "env", $"DBUS_SYSTEM_BUS_ADDRESS=unix:path={bus}", "avahi-resolve", "-6", "-n", StackName + ".local");
            TestContext.Out.WriteLine($"$ avahi-resolve -6 -n {StackName}.local\n{resolved.StandardOutput}{resolved.StandardError}");
            Assert.That(addresses, Does.Contain(resolved.StandardOutput.Split('\t', StringSplitOptions.TrimEntries).Last()));
            var info = stack.GetAddrInfo(KernelName + ".local", 80, TcpIpSharp.Sockets.SocketModule.AF_INET6);
            TestContext.Out.WriteLine($"stack getaddrinfo({KernelName}.local, AF_INET6) -> {string.Join(", ", info.Select(i => i.SockAddr))}");
            Assert.That(info.Select(i => i.SockAddr.Ip), Has.Some.StartsWith("2001:db8:1::1").Or.Some.StartsWith("fe80:"));
        }
        finally
        {
            scratch.Delete(recursive: true);
            if (!runDirExisted && Directory.Exists("/run/avahi-daemon") && !Directory.EnumerateFileSystemEntries("/run/avahi-daemon").Any())
                Directory.Delete("/run/avahi-daemon");
        }
    }

    // PEERS.md 2(a): a private system bus and avahi-daemon with its pid directory on a tmpfs private to the namespace.
    internal static string StartAvahi(NetNs ns, string dir, bool ipv6 = false)
    {
        string bus = Path.Combine(dir, "bus.sock");
        File.WriteAllText(Path.Combine(dir, "bus.conf"),
            $"""
            <busconfig><type>system</type><listen>unix:path={bus}</listen><auth>EXTERNAL</auth>
             <policy context="default"><allow user="*"/><allow own="*"/><allow send_type="method_call"/>
             <allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>
            """);
        File.WriteAllText(Path.Combine(dir, "avahi.conf"),
            $"[server]\nhost-name={KernelName}\nuse-ipv4=yes\nuse-ipv6={(ipv6 ? "yes" : "no")}\nallow-interfaces=tap0\nenable-dbus=yes\n[wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n");
        ns.Start("dbus-daemon", $"--config-file={Path.Combine(dir, "bus.conf")}", "--nofork", "--nopidfile");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(bus) && clock.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(20);
        Assert.That(File.Exists(bus), Is.True, "dbus-daemon made its socket");
        var avahi = ns.Start("sh", "-c", "mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && exec env " +
            $"DBUS_SYSTEM_BUS_ADDRESS=unix:path={bus} avahi-daemon -f {Path.Combine(dir, "avahi.conf")} --no-drop-root --no-chroot --no-rlimits 2>&1");
        while (!avahi.OutputSoFar.Contains("Server startup complete", StringComparison.Ordinal) && !avahi.HasExited && clock.Elapsed < TimeSpan.FromSeconds(15))
            Thread.Sleep(50);
        TestContext.Out.WriteLine("avahi-daemon:\n" + avahi.OutputSoFar);
        Assert.That(avahi.HasExited, Is.False, "avahi-daemon runs");
        return bus;
    }
}
