using System.Globalization;
using System.Security.Cryptography;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// TCP between the stack (`tcpipsharp up`, 192.0.2.2 on a TAP) and the Linux kernel (192.0.2.1) in a throwaway
/// namespace: curl downloads and uploads, the stack's own `get`, refused connections both ways, many at once.
/// </summary>
[NonParallelizable]
public class TcpInteropTests
{
    private const string Stack = "192.0.2.2";
    private NetNs? _ns;
    private NsProcess? _host;
    private string _www = "";

    [OneTimeSetUp]
    public void StartHost()
    {
        foreach (var (tool, package) in new[] { ("curl", "curl"), ("socat", "socat"), ("python3", "python3"), ("iptables", "iptables") })
            NetNs.RequireRootAnd(tool, package);
        _ns = NetNs.Create("tcp");
        _ns.AddTap("tap0", "192.0.2.1/24");
        _host = _ns.Start(HostProgram.Path, "up", "--tap", "tap0", "--ip", Stack + "/24", "--gw", "192.0.2.1");
        StackHost.WaitForPing(_ns!, _host, Stack);
        _www = Directory.CreateTempSubdirectory("tcpipsharp-www-").FullName;
    }

    [OneTimeTearDown]
    public void StopHost()
    {
        StackHost.Stop(_host);
        _host?.Dispose();
        _ns?.Dispose();
        if (_www.Length > 0) Directory.Delete(_www, recursive: true);
    }

    private ProcessResult Sh(int seconds, string script) => _ns!.Exec(TimeSpan.FromSeconds(seconds), "sh", "-c", script);

    [TestCase(1), TestCase(1000), TestCase(20 * 1024 * 1024)]
    public void Curl_downloads_bytes_from_the_stack_byte_exact(int n)
    {
        var r = Sh(120, $"curl -s --max-time 100 http://{Stack}/bytes/{n} | sha256sum");
        Assert.That(r.StandardOutput.Split(' ')[0], Is.EqualTo(StackHost.ExpectedBytesHash(n)), r.ToString());
    }

    [Test]
    public void Curl_uploads_to_the_sink_and_gets_length_and_sha256_back()
    {
        var data = new byte[5 * 1024 * 1024];
        new Random(5).NextBytes(data);
        string file = Path.Combine(_www, "upload.bin");
        File.WriteAllBytes(file, data);
        var r = Sh(60, $"curl -s --max-time 50 --data-binary @{file} -H 'Content-Type: application/octet-stream' http://{Stack}/sink");
        Assert.That(r.StandardOutput.Trim(), Is.EqualTo($"{data.Length} {Convert.ToHexStringLower(SHA256.HashData(data))}"), r.ToString());
    }

    [Test]
    public void Two_hundred_concurrent_requests_all_complete()
    {
        var r = Sh(120, $"seq 1 200 | xargs -P 200 -I{{}} curl -s --max-time 60 -o /dev/null -w '%{{http_code}} %{{size_download}}\\n' http://{Stack}/bytes/100000 | sort | uniq -c");
        Assert.That(r.StandardOutput.Trim(), Is.EqualTo("200 200 100000"), r.ToString());
    }

    [Test]
    public void Tcp_echo_returns_a_megabyte_unchanged()
    {
        var data = new byte[1024 * 1024];
        new Random(7).NextBytes(data);
        string file = Path.Combine(_www, "echo.bin");
        File.WriteAllBytes(file, data);
        var r = Sh(60, $"socat -T5 -u OPEN:{file} TCP4:{Stack}:7,shut-down >/dev/null; socat -T5 - TCP4:{Stack}:7 < {file} | sha256sum");
        Assert.That(r.StandardOutput.Split(' ')[0], Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData(data))), r.ToString());
    }

    [Test]
    public void A_kernel_connect_to_a_closed_stack_port_is_refused_by_a_reset()
    {
        // curl's exit 7 alone would also follow "no route to host"; the stack's reset counter proves the refusal came from it.
        var before = Sh(10, $"curl -s http://{Stack}/").StandardOutput;
        var r = Sh(10, $"curl -sv --max-time 5 http://{Stack}:81/ 2>&1; echo exit=$?");
        Assert.That(r.StandardOutput, Does.Contain("Connection refused").And.Contain("exit=7"), "curl's 'failed to connect' (ECONNREFUSED): " + r);
        var after = Sh(10, $"curl -s http://{Stack}/").StandardOutput;
        Assert.That(ResetsSent(after), Is.GreaterThan(ResetsSent(before)), "the stack sent the reset");
    }

    [Test]
    public void The_stack_gets_a_file_from_a_kernel_http_server_and_a_closed_port_refuses_it()
    {
        var data = new byte[10 * 1024 * 1024];
        new Random(9).NextBytes(data);
        File.WriteAllBytes(Path.Combine(_www, "f.bin"), data);
        // One process per TAP, and `up` owns tap0: the client stack gets tap1, on its own subnet.
        _ns!.AddTap("tap1", "198.51.100.1/24");
        using var server = _ns.Start("python3", "-m", "http.server", "8080", "--bind", "198.51.100.1", "--directory", _www);
        for (int i = 0; i < 50 && !Sh(2, "curl -s -o /dev/null http://198.51.100.1:8080/").Succeeded; i++) Thread.Sleep(100);
        string output = Path.Combine(_www, "got.bin");
        var get = _ns.Exec(TimeSpan.FromSeconds(120), HostProgram.Path, "get", "http://198.51.100.1:8080/f.bin", "-o", output, "--tap", "tap1", "--ip", "198.51.100.2/24");
        Assert.That(get.ExitCode, Is.Zero, get.ToString());
        Assert.That(SHA256.HashData(File.ReadAllBytes(output)), Is.EqualTo(SHA256.HashData(data)), get.ToString());
        TestContext.Out.WriteLine(get.StandardError.Trim());

        var refused = _ns.Exec(TimeSpan.FromSeconds(30), HostProgram.Path, "get", "http://198.51.100.1:8081/", "--tap", "tap1", "--ip", "198.51.100.2/24");
        Assert.That(refused.ExitCode, Is.EqualTo(1), refused.ToString());
        Assert.That(refused.StandardError, Does.Contain("ConnectionRefused"), refused.ToString());
    }

    private static long ResetsSent(string statusPage)
    {
        foreach (var line in statusPage.Split('\n'))
            if (line.StartsWith("tcp.resets_sent", StringComparison.Ordinal)) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return 0;
    }
}
