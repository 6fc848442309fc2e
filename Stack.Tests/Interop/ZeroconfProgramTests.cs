using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// Issue 17 item 8, the program as a user runs it against real peers in a namespace the test makes: <c>up --hostname</c>
/// answers avahi (its name and its HTTP service by DNS-SD), <c>browse</c> and <c>resolve NAME.local</c> find what avahi
/// publishes, and <c>ntp</c> gets chrony's time within 10 ms (the same machine's clock).
/// </summary>
[NonParallelizable]
[SupportedOSPlatform("linux")]
public partial class ZeroconfProgramTests
{
    private const string KernelIp = "198.51.100.1";
    private const string StackIp = "198.51.100.2";

    [Test]
    public void Up_hostname_is_found_by_avahi_and_browse_and_resolve_find_avahis_service_and_name()
    {
        NetNs.RequireRootAnd("avahi-daemon", "avahi-daemon");
        NetNs.RequireRootAnd("avahi-resolve", "avahi-utils");
        NetNs.RequireRootAnd("dbus-daemon", "dbus");
        bool runDirExisted = Directory.Exists("/run/avahi-daemon");
        var scratch = Directory.CreateTempSubdirectory("tis-zc-");
        try
        {
            using var ns = NetNs.Create("zc");
            ns.AddTap("tap0", KernelIp + "/24");
            string bus = MdnsInteropTests.StartAvahi(ns, scratch.FullName);
            ProcessResult InAvahi(TimeSpan timeout, params string[] command) => ns.Exec(timeout, ["env", $"DBUS_SYSTEM_BUS_ADDRESS=unix:path={bus}", .. command]);

            string[] link = ["--tap", "tap0", "--ip", StackIp + "/24", "--mac", "02:00:00:00:00:44", "--no-ipv6"];
            using (var up = ns.Start([HostProgram.Path, "up", "--hostname", "progpico", "--services", "http", .. link]))
            {
                var wait = Stopwatch.StartNew();
                while (!up.OutputSoFar.Contains("mdns progpico.local", StringComparison.Ordinal) && !up.HasExited && wait.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(50);
                TestContext.Out.WriteLine(up.OutputSoFar);
                Assert.That(up.HasExited, Is.False, "up runs");
                // Probing (three probes 250 ms apart after up to 250 ms) and announcing: ask until avahi answers (10 s at most).
                ProcessResult resolved;
                do resolved = InAvahi(TimeSpan.FromSeconds(5), "avahi-resolve", "-4", "-n", "progpico.local");
                while (!resolved.StandardOutput.Contains(StackIp, StringComparison.Ordinal) && wait.Elapsed < TimeSpan.FromSeconds(15));
                TestContext.Out.WriteLine($"$ avahi-resolve -4 -n progpico.local\n{resolved.StandardOutput}{resolved.StandardError}");
                Assert.That(resolved.StandardOutput, Does.Contain($"progpico.local\t{StackIp}"));
                var browsed = InAvahi(TimeSpan.FromSeconds(15), "avahi-browse", "-rt", "_http._tcp");
                TestContext.Out.WriteLine($"$ avahi-browse -rt _http._tcp\n{browsed.StandardOutput}");
                Assert.That(browsed.StandardOutput, Does.Contain("progpico"), "the HTTP service, named after the host");
                Assert.That(browsed.StandardOutput, Does.Contain("hostname = [progpico.local]"));
                Assert.That(browsed.StandardOutput, Does.Contain("port = [80]"));
                var status = ns.Exec(TimeSpan.FromSeconds(10), "curl", "-s", $"http://{StackIp}/");
                TestContext.Out.WriteLine($"$ curl http://{StackIp}/ (its first lines)\n{string.Join('\n', status.StandardOutput.Split('\n').Take(3))}");
                Assert.That(status.StandardOutput, Does.Contain("224.0.0.251"), "the status page lists the groups joined");
                Assert.That(status.StandardOutput, Does.Contain("mdns: progpico.local; services: progpico._http._tcp.local port 80"));
            }

            // The other way: the program finds what avahi publishes.
            using var publisher = ns.Start("env", $"DBUS_SYSTEM_BUS_ADDRESS=unix:path={bus}", "avahi-publish", "-s", "kernel web", "_http._tcp", "8080", "path=/k");
            Thread.Sleep(1500);   // avahi-publish probes and announces
            var browse = ns.Exec(TimeSpan.FromSeconds(20), [HostProgram.Path, "browse", "_http._tcp", "--timeout", "2", .. link]);
            TestContext.Out.WriteLine($"$ tcpipsharp browse _http._tcp --timeout 2 ...\n{browse.StandardOutput}{browse.StandardError}");
            Assert.That(browse.ExitCode, Is.Zero, browse.ToString());
            Assert.That(browse.StandardOutput, Does.Match(@"= +tap0 IPv4 kernel web +_http\._tcp +local"));
            Assert.That(browse.StandardOutput, Does.Contain($"hostname = [kernelhost.local]"));
            Assert.That(browse.StandardOutput, Does.Contain($"address = [{KernelIp}]"));
            Assert.That(browse.StandardOutput, Does.Contain("port = [8080]"));
            Assert.That(browse.StandardOutput, Does.Contain("txt = [\"path=/k\"]"));
            var resolve = ns.Exec(TimeSpan.FromSeconds(20), [HostProgram.Path, "resolve", "kernelhost.local", .. link]);
            TestContext.Out.WriteLine($"$ tcpipsharp resolve kernelhost.local ... (no --dns)\n{resolve.StandardOutput}{resolve.StandardError}");
            Assert.That(resolve.ExitCode, Is.Zero, resolve.ToString());
            Assert.That(resolve.StandardOutput, Does.Contain($"kernelhost.local has address {KernelIp}"));
            var none = ns.Exec(TimeSpan.FromSeconds(20), [HostProgram.Path, "browse", "_nothing._tcp", "--timeout", "1", .. link]);
            Assert.That(none.ExitCode, Is.EqualTo(1), "nothing answered: exit 1\n" + none);
        }
        finally
        {
            scratch.Delete(recursive: true);
            if (!runDirExisted && Directory.Exists("/run/avahi-daemon") && !Directory.EnumerateFileSystemEntries("/run/avahi-daemon").Any())
                Directory.Delete("/run/avahi-daemon");
        }
    }

    [Test]
    public void Ntp_command_against_chrony_prints_an_offset_within_10_ms()
    {
        NetNs.RequireRootAnd("chronyd", "chrony");
        var dir = Directory.CreateTempSubdirectory("tis-ntpcmd-").FullName;
        try
        {
            using var ns = NetNs.Create("ntpcmd");
            ns.AddTap("tap0", KernelIp + "/24");
            using var chrony = SntpAutoIpInteropTests.StartChrony(ns, dir);
            string[] command = [HostProgram.Path, "ntp", KernelIp, "--tap", "tap0", "--ip", StackIp + "/24", "--no-ipv6"];
            // chronyd needs a moment to bind its port: ask again until it answers (three runs at most).
            ProcessResult ntp = ns.Exec(TimeSpan.FromSeconds(20), command);
            for (int i = 0; i < 2 && ntp.ExitCode != 0; i++) { Thread.Sleep(500); ntp = ns.Exec(TimeSpan.FromSeconds(20), command); }
            TestContext.Out.WriteLine($"$ tcpipsharp ntp {KernelIp} --tap tap0 --ip {StackIp}/24\n{ntp.StandardOutput}{ntp.StandardError}");
            Assert.That(ntp.ExitCode, Is.Zero, ntp.ToString());
            var m = NtpLine().Match(ntp.StandardOutput);
            Assert.That(m.Success, Is.True, "ntpdate -q's line");
            double offset = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), delay = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.That(Math.Abs(offset), Is.LessThan(0.010), "the same machine's clock: the true offset is about 0");
            Assert.That(delay, Is.InRange(0, 0.050));
            var refused = ns.Exec(TimeSpan.FromSeconds(20), [HostProgram.Path, "ntp", "198.51.100.9", "--timeout", "0.3", "--tap", "tap0", "--ip", StackIp + "/24", "--no-ipv6"]);
            TestContext.Out.WriteLine($"$ tcpipsharp ntp 198.51.100.9 (no such host)\n{refused.StandardOutput}");
            Assert.That(refused.ExitCode, Is.EqualTo(1), refused.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [GeneratedRegex(@"server 198\.51\.100\.1, stratum 8, offset ([-+]\d+\.\d+), delay (\d+\.\d+)")]
    private static partial Regex NtpLine();
}
