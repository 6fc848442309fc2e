using System.Text;
using TcpIpSharp.Examples;
using TcpIpSharp.Sockets;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Tests.Sockets;

/// <summary>Every example in examples/ against real Linux peers (see <see cref="KernelPeers"/>), plus socket behaviour that needs the kernel.</summary>
[NonParallelizable]
public class ExampleTests
{
    private KernelPeers _peers = null!;
    private readonly StringBuilder _printed = new();

    [OneTimeSetUp]
    public void Start()
    {
        _peers = new KernelPeers("sockets");
        SocketStack.Default = _peers.Stack;
    }

    [OneTimeTearDown]
    public void Stop()
    {
        SocketStack.Default = null;
        _peers?.Dispose();
    }

    [SetUp]
    public void ClearOutput() => _printed.Clear();

    private void Print(object value)
    {
        var line = KernelPeers.PythonRepr(value);
        lock (_printed) _printed.AppendLine(line);
        TestContext.Out.WriteLine(line);
    }

    [Test]
    public void Article_client_fetches_a_page_by_name_from_the_kernel_http_server()
    {
        ArticleClient.Run(Print, "www.example.test", 8000);
        string output = _printed.ToString();
        Assert.That(output, Does.StartWith("b'HTTP/1.0 200 OK\\r\\n"));
        Assert.That(output.Replace("'\nb'", "", StringComparison.Ordinal), Does.Contain("Hello from the kernel\\'s http.server"));
    }

    [Test]
    public void Echo_server_serves_socat_clients()
    {
        using var listening = new ManualResetEventSlim();
        var server = Task.Run(() => EchoServer.Run(Print, 8080, 2, listening.Set));
        Assert.That(listening.Wait(TimeSpan.FromSeconds(10)), Is.True);
        for (int i = 0; i < 2; i++)
        {
            var r = _peers.Ns.Exec(TimeSpan.FromSeconds(20), "sh", "-c", $"printf 'echo me {i}\\n' | socat -T5 - TCP4:{KernelPeers.StackIp}:8080,shut-down");
            Assert.That(r.StandardOutput, Is.EqualTo($"echo me {i}\n"), r.ToString());
        }
        Assert.That(server.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(_printed.ToString(), Does.Contain("client connected from ('192.0.2.1', "));
    }

    [Test]
    public void Poller_client_connects_without_blocking_and_reads_on_POLLIN()
    {
        var response = PollerClient.Run(Print, (KernelPeers.Kernel, 8000), "/hello.txt");
        Assert.That(Encoding.ASCII.GetString(response), Does.StartWith("HTTP/1.0 200 OK").And.EndWith("hello through the stack\n"));
        Assert.That(_printed.ToString(), Does.Contain("connect: EINPROGRESS").And.Contain("writable: True"));
    }

    [Test]
    public void Udp_exchange_with_a_socat_echo()
    {
        var replies = UdpExchange.Run(Print, (KernelPeers.Kernel, 5000));
        Assert.That(replies, Is.EqualTo(new[] { "hello 0", "hello 1", "hello 2" }));
    }

    [Test]
    public void Tls_client_talks_to_openssl_s_server()
    {
        var response = TlsClient.Run(Print, (KernelPeers.Kernel, 4433), "server.test",
            (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == _peers.Certificate.GetCertHashString());
        Assert.That(Encoding.ASCII.GetString(response), Does.StartWith("HTTP/1.0 200 ok").And.Contain("s_server"));
        Assert.That(_printed.ToString(), Does.Contain("TLS: Tls1"));
    }

    [Test]
    public void Tls_refuses_a_certificate_the_callback_rejects()
    {
        using var s = Socket();
        s.Connect((KernelPeers.Kernel, 4433));
        Assert.Throws<System.Security.Authentication.AuthenticationException>(() => s.WrapTls("server.test", (_, _, _, _) => false));
    }

    [Test]
    public async Task HttpClient_goes_through_the_stack_with_names_from_its_resolver()
    {
        string body = await HttpClientThroughStack.Run(Print, _peers.Stack, "http://www.example.test:8000/hello.txt");
        Assert.That(body, Is.EqualTo("hello through the stack\n"));
        Assert.That(_printed.ToString(), Does.Contain("200 OK"));
    }

    [Test]
    public void Ping_over_a_raw_ICMP_socket()
    {
        Assert.That(Ping.Run(Print, KernelPeers.Kernel), Is.EqualTo(3));
    }

    [Test]
    public void GetAddrInfo_resolves_a_name_through_dnsmasq_and_an_unknown_name_raises_its_error()
    {
        var ai = GetAddrInfo("www.example.test", 80);
        Assert.That(ai[0].ToString(), Is.EqualTo("(2, 1, 0, '', ('192.0.2.1', 80))"));
        var e = Assert.Throws<OSError>(() => GetAddrInfo("nothing.example.test", 80))!;
        Assert.That(e.Errno, Is.EqualTo(-2), e.Message);
        Assert.That(e.Message, Does.Contain("EAI_NONAME"));
    }

    [Test]
    public void Kernel_refusal_raises_ECONNREFUSED()
    {
        using var s = Socket();
        var e = Assert.Throws<OSError>(() => s.Connect((KernelPeers.Kernel, 9)))!;
        Assert.That(e.Errno, Is.EqualTo(Errno.ECONNREFUSED));
    }

    [Test]
    public void Nc_peer_sends_then_closes_and_recv_returns_empty()
    {
        using var nc = _peers.Ns.Start("sh", "-c", "printf 'hello from nc\\n' | nc -l -q 0 -p 9001 -s 192.0.2.1");
        Socket? s = null;
        for (int i = 0; i < 50 && s is null; i++)
        {
            var attempt = Socket();
            try { attempt.Connect((KernelPeers.Kernel, 9001)); s = attempt; }
            catch (OSError e) when (e.Errno == Errno.ECONNREFUSED) { attempt.Close(); Thread.Sleep(100); }   // nc not listening yet
        }
        Assert.That(s, Is.Not.Null, "nc never listened");
        using var _ = s;
        s.SetTimeout(5);
        Assert.That(Encoding.ASCII.GetString(s.ReadLine()), Is.EqualTo("hello from nc\n"));
        Assert.That(s.Recv(10), Is.Empty);
    }

    [Test]
    public async Task Async_connect_send_recv_against_the_kernel_echo()
    {
        using var s = Socket();
        await s.ConnectAsync((KernelPeers.Kernel, 7));
        await s.SendAllAsync("async echo"u8.ToArray());
        var buffer = new byte[64];
        int got = 0;
        while (got < 10) got += await s.RecvAsync(buffer.AsMemory(got));
        Assert.That(Encoding.ASCII.GetString(buffer, 0, got), Is.EqualTo("async echo"));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Assert.That(async () => await s.RecvAsync(buffer, cts.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public void GetStream_is_a_Stream_over_the_socket()
    {
        using var s = Socket();
        s.Connect((KernelPeers.Kernel, 7));
        using var stream = s.GetStream();
        stream.Write("through a Stream\n"u8);
        using var reader = new StreamReader(stream);
        Assert.That(reader.ReadLine(), Is.EqualTo("through a Stream"));
    }

    [Test]
    public void Status_and_ifconfig_of_a_stack_on_a_TAP()
    {
        Assert.That(_peers.Stack.Status(), Is.EqualTo(WlanStatus.GotIp));
        Assert.That(_peers.Stack.IsConnected(), Is.True);
        Assert.That(_peers.Stack.IfConfig().ToString(), Is.EqualTo("('192.0.2.2', '255.255.255.0', '192.0.2.1', '192.0.2.1')"));
    }

    [Test]
    public void Closing_from_another_thread_wakes_a_recv_blocked_on_a_kernel_connection()
    {
        var s = Socket();
        s.Connect((KernelPeers.Kernel, 7));
        var reader = Task.Run(() => Assert.Throws<OSError>(() => s.Recv(10))!.Errno);
        Thread.Sleep(200);
        Assert.That(reader.IsCompleted, Is.False, "the recv is blocked");
        s.Close();
        Assert.That(reader.Wait(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(reader.Result, Is.EqualTo(Errno.EBADF));
    }
}
