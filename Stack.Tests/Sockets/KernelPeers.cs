using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TcpIpSharp.Sockets;
using TcpIpSharp.Tests.Interop;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Sockets;

/// <summary>
/// A socket stack (192.0.2.2) on a TAP in a throwaway namespace whose kernel side (192.0.2.1) runs real peers:
/// dnsmasq (names *.test), python3 http.server on 8000, a socat TCP echo on 7 and UDP echo on 5000, openssl s_server
/// on 4433 with a fresh self-signed certificate for server.test. Everything is removed in <see cref="Dispose"/>.
/// </summary>
internal sealed class KernelPeers : IDisposable
{
    public const string Kernel = "192.0.2.1", StackIp = "192.0.2.2";
    public readonly NetNs Ns;
    public readonly SocketStack Stack;
    public readonly string Directory;
    public readonly X509Certificate2 Certificate;
    public readonly string IndexHtml = "<html><body>Hello from the kernel's http.server</body></html>\n";

    public KernelPeers(string purpose)
    {
        foreach (var (tool, package) in new[] { ("socat", "socat"), ("python3", "python3"), ("dnsmasq", "dnsmasq-base"), ("openssl", "openssl"), ("nc", "netcat-openbsd"), ("ss", "iproute2") })
            NetNs.RequireRootAnd(tool, package);
        Directory = System.IO.Directory.CreateTempSubdirectory("tis-sockets-").FullName;
        var www = System.IO.Path.Combine(Directory, "www");
        System.IO.Directory.CreateDirectory(www);
        File.WriteAllText(System.IO.Path.Combine(www, "index.html"), IndexHtml);
        File.WriteAllText(System.IO.Path.Combine(www, "hello.txt"), "hello through the stack\n");
        File.WriteAllText(System.IO.Path.Combine(Directory, "hosts"), $"{Kernel} www.example.test server.test\n");
        string cert = System.IO.Path.Combine(Directory, "cert.pem"), key = System.IO.Path.Combine(Directory, "key.pem");
        NetNs.RunHost(TimeSpan.FromSeconds(30), "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-days", "1", "-subj", "/CN=server.test", "-addext", "subjectAltName=DNS:server.test").ThrowIfFailed();
        Certificate = X509Certificate2.CreateFromPem(File.ReadAllText(cert));

        Ns = NetNs.Create(purpose);
        try
        {
            Ns.AddTap("tap0", Kernel + "/24");
            Ns.Start(NetNs.FindTool("dnsmasq")!, "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--addn-hosts=" + System.IO.Path.Combine(Directory, "hosts"),
                "--listen-address=" + Kernel, "--bind-interfaces", "--interface=tap0", "--local=/test/", "--log-facility=" + System.IO.Path.Combine(Directory, "dnsmasq.log"));
            Ns.Start("python3", "-m", "http.server", "8000", "--bind", Kernel, "--directory", www);
            Ns.Start("socat", "TCP4-LISTEN:7,fork,reuseaddr,backlog=128", "PIPE");
            Ns.Start("socat", "UDP4-RECVFROM:5000,fork", "PIPE");
            Ns.Start("openssl", "s_server", "-accept", "4433", "-cert", cert, "-key", key, "-www", "-quiet");
            WaitListening("-ltn", ":8000 ", ":7 ", ":4433 ", ":53 ");
            WaitListening("-lun", ":5000 ", ":53 ");
            var link = Ns.OpenTap("tap0");
            Stack = SocketStack.Start(link, new NetworkStackOptions
            {
                Address = Ipv4Address.Parse(StackIp), PrefixLength = 24, Gateway = Ipv4Address.Parse(Kernel), DnsServers = [Ipv4Address.Parse(Kernel)],
            });
        }
        catch
        {
            Ns.Dispose();
            throw;
        }
    }

    private void WaitListening(string kind, params string[] ports)
    {
        var limit = Stopwatch.StartNew();
        string listing = "";
        while (limit.Elapsed < TimeSpan.FromSeconds(15))
        {
            listing = Ns.Exec(TimeSpan.FromSeconds(5), "ss", kind).StandardOutput;
            if (ports.All(p => listing.Contains(p, StringComparison.Ordinal))) return;
            Thread.Sleep(50);
        }
        Assert.Fail($"peers not listening on {string.Join(",", ports)} after 15 s:\n{listing}");
    }

    /// <summary>Python's <c>print</c> of a value: bytes as <c>b'...'</c>.</summary>
    public static string PythonRepr(object value)
    {
        if (value is not byte[] bytes) return Convert.ToString(value, CultureInfo.InvariantCulture) ?? "None";
        var sb = new StringBuilder("b'");
        foreach (byte b in bytes)
            sb.Append(b switch
            {
                (byte)'\r' => "\\r", (byte)'\n' => "\\n", (byte)'\t' => "\\t", (byte)'\'' => "\\'", (byte)'\\' => "\\\\",
                >= 32 and < 127 => ((char)b).ToString(),
                _ => string.Create(CultureInfo.InvariantCulture, $"\\x{b:x2}"),
            });
        return sb.Append('\'').ToString();
    }

    public void Dispose()
    {
        Stack?.Dispose();
        Ns.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
