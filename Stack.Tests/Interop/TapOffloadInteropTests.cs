using System.Globalization;
using System.Security.Cryptography;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// TAP offloads against the Linux kernel, with them on (the default of `tcpipsharp up`) and off (`--no-offload`):
/// curl downloads 20 MB from the stack (the stack sends 64 KB segments the kernel cuts) and uploads 20 MB to its sink
/// (the kernel hands up coalesced segments with partial checksums), both byte-exact; the stack's counters show whether
/// large segments crossed the TAP. Each runs with the TAP's frames batched through io_uring (`--uring`) and one system
/// call per frame (`--no-uring`).
/// </summary>
[NonParallelizable]
[TestFixture(true, true)]
[TestFixture(false, true)]
[TestFixture(true, false)]
[TestFixture(false, false)]
public class TapOffloadInteropTests(bool offloads, bool uring)
{
    private const string Stack = "192.0.2.2";
    private const int Size = 20 * 1024 * 1024;
    private NetNs? _ns;
    private NsProcess? _host;
    private string _dir = "";

    [OneTimeSetUp]
    public void StartHost()
    {
        NetNs.RequireRootAnd("curl", "curl");
        _ns = NetNs.Create((offloads ? "tso" : "notso") + (uring ? "u" : ""));
        _ns.AddTap("tap0", "192.0.2.1/24");
        string[] command = [HostProgram.Path, "up", "--tap", "tap0", "--ip", Stack + "/24", "--gw", "192.0.2.1", "--services", "http"];
        command = [.. command, uring ? "--uring" : "--no-uring"];
        _host = _ns.Start(offloads ? command : [.. command, "--no-offload"]);
        bool answered = false;
        for (int i = 0; i < 40 && !answered && !_host.HasExited; i++)
            answered = _ns.Exec(TimeSpan.FromSeconds(3), "curl", "-s", "-o", "/dev/null", "--max-time", "2", $"http://{Stack}/").Succeeded;
        if (!answered) Assert.Fail($"the stack did not answer HTTP within 40 s: {_host.WaitForExit(TimeSpan.FromSeconds(1))}");
        _dir = Directory.CreateTempSubdirectory("tcpipsharp-tso-").FullName;
    }

    [OneTimeTearDown]
    public void StopHost()
    {
        StackHost.Stop(_host);
        _host?.Dispose();
        _ns?.Dispose();
        if (_dir.Length > 0) Directory.Delete(_dir, recursive: true);
    }

    private ProcessResult Sh(int seconds, string script) => _ns!.Exec(TimeSpan.FromSeconds(seconds), "sh", "-c", script);

    private long Counter(string name)
    {
        var page = Sh(10, $"curl -s --max-time 5 http://{Stack}/").StandardOutput;
        foreach (var line in page.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 2 && fields[0] == name) return long.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        return 0;   // the status page leaves out counters that are zero
    }

    [Test]
    public void Curl_downloads_20_MB_byte_exact()
    {
        long before = Counter("tcp.large_segments_sent");
        var r = Sh(120, $"curl -s --max-time 100 http://{Stack}/bytes/{Size} | sha256sum");
        var block = new byte[251 * 1024];
        for (int i = 0; i < block.Length; i++) block[i] = (byte)(i % 251);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long left = Size; left > 0; left -= block.Length) sha.AppendData(block, 0, (int)Math.Min(left, block.Length));
        Assert.That(r.StandardOutput.Split(' ')[0], Is.EqualTo(Convert.ToHexStringLower(sha.GetHashAndReset())), r.ToString());
        long large = Counter("tcp.large_segments_sent") - before;
        TestContext.Out.WriteLine($"offloads {(offloads ? "on" : "off")}: {large} segments larger than the MTU sent");
        if (offloads) Assert.That(large, Is.GreaterThan(0), "with offloads the stack sends segments larger than the MTU for the kernel to cut");
        else Assert.That(large, Is.Zero, "without offloads every segment fits the MTU");
    }

    [Test]
    public void Curl_uploads_20_MB_to_the_sink_byte_exact()
    {
        var data = new byte[Size];
        new Random(11).NextBytes(data);
        string file = Path.Combine(_dir, "upload.bin");
        File.WriteAllBytes(file, data);
        long before = Counter("tcp.large_segments_received");
        var r = Sh(120, $"curl -s --max-time 100 --data-binary @{file} -H 'Content-Type: application/octet-stream' http://{Stack}/sink");
        Assert.That(r.StandardOutput.Trim(), Is.EqualTo($"{data.Length} {Convert.ToHexStringLower(SHA256.HashData(data))}"), r.ToString());
        long large = Counter("tcp.large_segments_received") - before;
        TestContext.Out.WriteLine($"offloads {(offloads ? "on" : "off")}: {large} segments larger than the MTU received");
        if (offloads) Assert.That(large, Is.GreaterThan(0), "with offloads the kernel hands up coalesced segments");
        else Assert.That(large, Is.Zero, "without offloads every segment fits the MTU");
    }
}
