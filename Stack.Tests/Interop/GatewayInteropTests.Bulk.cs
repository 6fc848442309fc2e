using System.Globalization;
using System.Text.RegularExpressions;

namespace TcpIpSharp.Tests.Interop;

// Issue 19's bulk items from the guest: 1 GB downloaded and uploaded with curl through the gateway byte-exact (a fresh
// random file, compared by SHA-256), and iperf3 through it both ways. The rates are printed; the figure beside the
// kernel routing the same is tools/gateway-iperf.sh's (a performance figure, docs/gateway.md), not asserted here.
public partial class GatewayInteropTests
{
    private const long Gigabyte = 1L << 30;

    [Test]
    public void Gigabyte_DownloadAndUpload_AreByteExact()
    {
        string file = Path.Combine(_dir, "www", "giga.bin"), uploaded = Path.Combine(_dir, "www", "up", "giga.bin");
        try
        {
            NetNs.RunHost(TimeSpan.FromSeconds(60), "sh", "-c", $"head -c {Gigabyte} /dev/urandom > '{file}'").ThrowIfFailed();
            File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
            string expected = Sha256Of(file);
            // Download: curl's bytes hashed as they arrive (nothing written to disk on the guest's side).
            var down = Guest(TimeSpan.FromSeconds(150), "bash", "-c",
                $"set -o pipefail; {{ curl -sS --fail --max-time 140 -w '%{{stderr}}speed=%{{speed_download}} size=%{{size_download}}\\n' http://{Server}:8080/giga.bin | sha256sum; }} 2>&1");
            TestContext.Out.WriteLine($"1 GB download through the gateway: {down.Trim()}");
            Assert.That(down, Does.Contain(expected), "the downloaded gigabyte differs");
            Assert.That(down, Does.Contain($"size={Gigabyte}"));
            // Upload: nginx writes it to disk in the server's namespace; its hash is compared with the original's.
            var up = Guest(TimeSpan.FromSeconds(150), "curl", "-sS", "--fail", "--max-time", "140", "-w", "speed=%{speed_upload} size=%{size_upload}\n",
                "-T", file, $"http://{Server}:8080/up/giga.bin");
            TestContext.Out.WriteLine($"1 GB upload through the gateway: {up.Trim()}");
            Assert.That(new FileInfo(uploaded).Length, Is.EqualTo(Gigabyte), up);
            Assert.That(Sha256Of(uploaded), Is.EqualTo(expected), "the uploaded gigabyte differs");
        }
        finally
        {
            File.Delete(file);
            File.Delete(uploaded);
        }
    }

    [Test]
    public void Iperf3_ThroughTheGateway_BothWays()
    {
        NetNs.RequireRootAnd("iperf3", "iperf3");
        foreach (bool reverse in new[] { false, true })
        {
            using var server = _server!.Start("iperf3", "-s", "-1", "-B", Server, "-p", "5209");
            string result = "";
            for (int attempt = 0; attempt < 30; attempt++)
            {
                var run = _guest!.Exec(TimeSpan.FromSeconds(20), ["iperf3", "-c", Server, "-p", "5209", "-t", "2", "-f", "m", .. reverse ? new[] { "-R" } : []]);
                result = run.ToString();
                if (run.Succeeded) break;
                Thread.Sleep(100);   // the server not listening yet
            }
            var receiver = Regex.Match(result, @"([0-9.]+) Mbits/sec\s+receiver");
            TestContext.Out.WriteLine($"iperf3 {(reverse ? "server→guest" : "guest→server")} through the gateway: {(receiver.Success ? receiver.Groups[1].Value + " Mbit/s" : result)}");
            Assert.That(receiver.Success, result);
            Assert.That(double.Parse(receiver.Groups[1].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0), result);
        }
    }

    private static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }
}
