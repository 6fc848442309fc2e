using System.Text;
using TcpIpSharp.Sockets;
using static TcpIpSharp.Sockets.SelectModule;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Tests.Sockets;

/// <summary>
/// The Pico's socket semantics over two stacks on an in-memory pair, driven by one stack thread in virtual time
/// (timeouts of seconds take no real time and the elapsed virtual time is exact).
/// </summary>
public class SocketSemanticsTests
{
    private SocketStack _a = null!, _b = null!;
    private static readonly SockAddr B80 = ("192.0.2.11", 80);

    [SetUp]
    public void Pair() => (_a, _b) = SocketStack.CreateVirtualPair();

    [TearDown]
    public void Stop()
    {
        _a.Dispose();
        _b.Dispose();
    }

    private Socket Server(int port = 80)
    {
        var s = _b.Socket();
        s.Bind(("", port));
        s.Listen();
        return s;
    }

    private (Socket Client, Socket Server, Socket Listener) Connected(int port = 80)
    {
        var listener = Server(port);
        var client = _a.Socket();
        client.Connect(("192.0.2.11", port));
        var (server, _) = listener.Accept();
        return (client, server, listener);
    }

    private static int ErrnoOf(Action call) => Assert.Throws<OSError>(() => call())!.Errno;

    [Test]
    public void Blocking_connect_send_recv_and_accept_address()
    {
        using var listener = Server();
        using var client = _a.Socket();
        client.Connect(B80);
        var (server, address) = listener.Accept();
        using (server)
        {
            client.SendAll("hello"u8);
            Assert.That(Encoding.ASCII.GetString(server.Recv(100)), Is.EqualTo("hello"));
            Assert.That(server.Send("world"u8), Is.EqualTo(5));
            Assert.That(Encoding.ASCII.GetString(client.Recv(100)), Is.EqualTo("world"));
            Assert.That(address.Ip, Is.EqualTo("192.0.2.10"));
        }
    }

    [Test]
    public void Non_blocking_recv_raises_EAGAIN_11()
    {
        var (client, server, listener) = Connected();
        client.SetTimeout(0);
        Assert.That(ErrnoOf(() => client.Recv(10)), Is.EqualTo(11));
        client.SetBlocking(true);
        Assert.That(ErrnoOf(() => client.Recv(10, MSG_DONTWAIT)), Is.EqualTo(11));
        client.Close(); server.Close(); listener.Close();
    }

    [Test]
    public void Expired_timeout_raises_ETIMEDOUT_110_after_exactly_the_timeout_in_virtual_time()
    {
        var (client, server, listener) = Connected();
        client.SetTimeout(2);
        var start = _a.Now;
        Assert.That(ErrnoOf(() => client.Recv(10)), Is.EqualTo(110));
        var elapsed = _a.Now - start;
        Assert.That(elapsed.TotalSeconds, Is.InRange(2.0, 2.3), "virtual time elapsed");
        client.Close(); server.Close(); listener.Close();
    }

    [Test]
    public void Timeout_none_blocks_until_data_and_SetTimeout_reports_it()
    {
        var (client, server, listener) = Connected();
        client.SetTimeout(null);
        Assert.That(client.Timeout, Is.Null);
        client.SetTimeout(1.5);
        Assert.That(client.Timeout, Is.EqualTo(1.5));
        client.Close(); server.Close(); listener.Close();
    }

    [Test]
    public void Non_blocking_connect_raises_EINPROGRESS_115_then_polls_writable()
    {
        using var listener = Server();
        using var client = _a.Socket();
        client.SetBlocking(false);
        Assert.That(ErrnoOf(() => client.Connect(B80)), Is.EqualTo(115));
        var poller = SelectModule.Poll();
        poller.Register(client, POLLOUT);
        var ready = poller.Poll(5000);
        Assert.That(ready, Has.Count.EqualTo(1));
        Assert.That(ready[0].Events & POLLOUT, Is.EqualTo(POLLOUT));
        Assert.That(ErrnoOf(() => client.Connect(B80)), Is.EqualTo(Errno.EISCONN));
        Assert.That(client.Send("x"u8), Is.EqualTo(1));
    }

    [Test]
    public void Recv_after_the_peer_FIN_returns_empty()
    {
        var (client, server, listener) = Connected();
        server.SendAll("bye"u8);
        server.Close();
        Assert.That(client.Recv(100), Is.EqualTo("bye"u8.ToArray()));
        Assert.That(client.Recv(100), Is.Empty);
        Assert.That(client.Recv(100), Is.Empty);
        client.Close(); listener.Close();
    }

    [Test]
    public void Reset_raises_ECONNRESET_104_once_then_recv_is_empty()
    {
        var (client, server, listener) = Connected();
        client.SendAll("unread"u8);
        Assert.That(server.Recv(new byte[1], MSG_PEEK), Is.EqualTo(1));   // the data arrived and stays unread
        server.Close();                                                  // closing with unread data resets (RFC 2525 2.17)
        var poller = SelectModule.Poll();
        poller.Register(client, POLLIN);
        var ready = poller.Poll(5000);
        Assert.That(ready, Has.Count.EqualTo(1));
        Assert.That(ready[0].Events & (POLLERR | POLLHUP), Is.EqualTo(POLLERR | POLLHUP));
        Assert.That(ErrnoOf(() => client.Recv(10)), Is.EqualTo(104));
        Assert.That(client.Recv(10), Is.Empty);
        Assert.That(ErrnoOf(() => client.Send("x"u8)), Is.EqualTo(Errno.EPIPE));
        client.Close(); listener.Close();
    }

    [Test]
    public void Refused_connect_raises_ECONNREFUSED_111()
    {
        using var client = _a.Socket();
        Assert.That(ErrnoOf(() => client.Connect(("192.0.2.11", 81))), Is.EqualTo(111));
    }

    [Test]
    public void Bind_on_a_port_in_use_raises_EADDRINUSE_98()
    {
        using var first = Server();
        using var second = _b.Socket();
        Assert.That(ErrnoOf(() => second.Bind(("", 80))), Is.EqualTo(98));
        using var udp1 = _b.Socket(AF_INET, SOCK_DGRAM);
        udp1.Bind(("", 5000));
        using var udp2 = _b.Socket(AF_INET, SOCK_DGRAM);
        Assert.That(ErrnoOf(() => udp2.Bind(("", 5000))), Is.EqualTo(98));
    }

    [Test]
    public void SO_REUSEADDR_allows_bind_while_old_connections_are_in_TIME_WAIT()
    {
        var (client, server, listener) = Connected();
        server.Close();                         // the server closes first: its side goes to TIME-WAIT
        Assert.That(client.Recv(10), Is.Empty);
        client.Close();
        listener.Close();
        Assert.That(() => _b.Invoke(s => s.TcpSnapshot().Any(l => l.Contains("TimeWait", StringComparison.Ordinal))), Is.True.After(2000, 10));
        using var plain = _b.Socket();
        Assert.That(ErrnoOf(() => plain.Bind(("", 80))), Is.EqualTo(98));
        using var reuse = _b.Socket();
        reuse.SetSockOpt(SOL_SOCKET, SO_REUSEADDR, 1);
        reuse.Bind(("", 80));
        reuse.Listen();
    }

    [Test]
    public void Send_unconnected_raises_ENOTCONN_107_and_after_shutdown_EPIPE_32()
    {
        using var fresh = _a.Socket();
        Assert.That(ErrnoOf(() => fresh.Send("x"u8)), Is.EqualTo(107));
        Assert.That(ErrnoOf(() => fresh.Recv(1)), Is.EqualTo(107));
        var (client, server, listener) = Connected();
        client.ShutdownSend();
        Assert.That(ErrnoOf(() => client.Send("x"u8)), Is.EqualTo(32));
        client.Close();
        Assert.That(ErrnoOf(() => client.Send("x"u8)), Is.EqualTo(Errno.EBADF));
        server.Close(); listener.Close();
    }

    [Test]
    public void A_timed_out_read_loses_no_data_already_received()
    {
        var (client, server, listener) = Connected();
        server.SendAll("abc"u8);
        client.SetTimeout(1);
        var got = client.Read(10);                   // 3 of 10 bytes, then the timeout: the 3 are returned, not lost
        Assert.That(got, Is.EqualTo("abc"u8.ToArray()));
        Assert.That(ErrnoOf(() => client.Read(10)), Is.EqualTo(110));
        server.SendAll("def"u8);
        Assert.That(client.Read(3), Is.EqualTo("def"u8.ToArray()));
        client.Close(); server.Close(); listener.Close();
    }

    [Test]
    public void MakeFile_Read_ReadInto_ReadLine_Write()
    {
        var (client, server, listener) = Connected();
        var f = client.MakeFile("rwb");
        Assert.That(f, Is.SameAs(client));
        server.Write("line one\nline two\nrest"u8);
        Assert.That(Encoding.ASCII.GetString(f.ReadLine()), Is.EqualTo("line one\n"));
        Assert.That(Encoding.ASCII.GetString(f.ReadLine()), Is.EqualTo("line two\n"));
        var buffer = new byte[2];
        Assert.That(f.ReadInto(buffer), Is.EqualTo(2));
        Assert.That(Encoding.ASCII.GetString(buffer), Is.EqualTo("re"));
        server.Close();
        Assert.That(Encoding.ASCII.GetString(f.Read()!), Is.EqualTo("st"));
        Assert.That(f.ReadLine(), Is.Empty);
        client.SetBlocking(false);
        Assert.That(client.Read(), Is.Empty);        // end of stream, not None
        client.Close(); listener.Close();
    }

    [Test]
    public void Non_blocking_read_with_nothing_ready_returns_null_as_None()
    {
        var (client, server, listener) = Connected();
        client.SetBlocking(false);
        Assert.That(client.Read(5), Is.Null);
        Assert.That(client.ReadInto(new byte[5]), Is.Null);
        client.Close(); server.Close(); listener.Close();
    }

    [Test]
    public void Accept_non_blocking_raises_EAGAIN_and_a_pending_connection_makes_the_listener_readable()
    {
        using var listener = Server();
        listener.SetBlocking(false);
        Assert.That(ErrnoOf(() => listener.Accept()), Is.EqualTo(11));
        var poller = SelectModule.Poll();
        poller.Register(listener, POLLIN);
        Assert.That(poller.Poll(0), Is.Empty);
        using var client = _a.Socket();
        client.Connect(B80);
        var ready = poller.Poll(5000);
        Assert.That(ready, Has.Count.EqualTo(1));
        Assert.That(ready[0].Events, Is.EqualTo(POLLIN));
        var (server, _) = listener.Accept();
        server.Close();
    }

    [Test]
    public void Accept_with_a_timeout_raises_ETIMEDOUT()
    {
        using var listener = Server();
        listener.SetTimeout(3);
        Assert.That(ErrnoOf(() => listener.Accept()), Is.EqualTo(110));
    }

    [Test]
    public void UDP_sendto_recvfrom_and_connected_send_recv()
    {
        using var b = _b.Socket(AF_INET, SOCK_DGRAM);
        b.Bind(("", 5353));
        using var a = _a.Socket(AF_INET, SOCK_DGRAM);
        Assert.That(a.SendTo("ping"u8, ("192.0.2.11", 5353)), Is.EqualTo(4));
        var (data, from) = b.RecvFrom(100);
        Assert.That(Encoding.ASCII.GetString(data), Is.EqualTo("ping"));
        Assert.That(from.Ip, Is.EqualTo("192.0.2.10"));
        b.SendTo("pong"u8, from);
        var buffer = new byte[100];
        int n = a.RecvFrom(buffer, out var back);
        Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("pong"));
        Assert.That(back, Is.EqualTo((SockAddr)("192.0.2.11", 5353)));
        a.Connect(("192.0.2.11", 5353));
        a.Send("again"u8);
        Assert.That(Encoding.ASCII.GetString(b.Recv(100)), Is.EqualTo("again"));
        b.SetTimeout(0);
        Assert.That(ErrnoOf(() => b.Recv(100)), Is.EqualTo(11));
    }

    [Test]
    public void UDP_to_a_closed_port_reports_ECONNREFUSED_on_the_next_call()
    {
        using var a = _a.Socket(AF_INET, SOCK_DGRAM);
        a.Connect(("192.0.2.11", 9));
        a.Send("x"u8);
        a.SetTimeout(2);
        Assert.That(ErrnoOf(() => a.Recv(10)), Is.EqualTo(111));
    }

    [Test]
    public void UDP_broadcast_needs_SO_BROADCAST()
    {
        using var a = _a.Socket(AF_INET, SOCK_DGRAM);
        Assert.That(ErrnoOf(() => a.SendTo("x"u8, ("255.255.255.255", 9))), Is.EqualTo(Errno.EACCES));
        a.SetSockOpt(SOL_SOCKET, SO_BROADCAST, 1);
        Assert.That(a.SendTo("x"u8, ("255.255.255.255", 9)), Is.EqualTo(1));
    }

    [Test]
    public void Raw_ICMP_socket_pings_the_peer()
    {
        using var raw = _a.Socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
        var request = PingPacket(0x1234, 1, "abcdefgh"u8);
        raw.SendTo(request, ("192.0.2.11", 0));
        raw.SetTimeout(2);
        var (packet, from) = raw.RecvFrom(1500);
        Assert.That(from.Ip, Is.EqualTo("192.0.2.11"));
        int ihl = (packet[0] & 0x0F) * 4;
        Assert.That(packet[ihl], Is.EqualTo(0), "ICMP type echo reply");
        Assert.That(packet.AsSpan(ihl + 8).ToArray(), Is.EqualTo("abcdefgh"u8.ToArray()));
    }

    internal static byte[] PingPacket(ushort id, ushort seq, ReadOnlySpan<byte> payload)
    {
        var p = new byte[8 + payload.Length];
        p[0] = 8;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), id);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(6), seq);
        payload.CopyTo(p.AsSpan(8));
        uint sum = 0;
        for (int i = 0; i < p.Length; i += 2) sum += (uint)(p[i] << 8 | (i + 1 < p.Length ? p[i + 1] : 0));
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)~sum);
        return p;
    }

    [Test]
    public void SetSockOpt_TCP_NODELAY_KEEPALIVE_and_multicast_membership()
    {
        var (client, server, listener) = Connected();
        client.SetSockOpt(IPPROTO_TCP, TCP_NODELAY, 1);
        Assert.That(_a.Invoke(_ => client.ToString()), Does.Contain("Established"));
        using var udp = _a.Socket(AF_INET, SOCK_DGRAM);
        udp.SetSockOpt(SOL_SOCKET, SO_KEEPALIVE, 1);
        udp.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, [.. InetPton(AF_INET, "239.1.2.3"), .. InetPton(AF_INET, "0.0.0.0")]);
        udp.SetSockOpt(IPPROTO_IP, IP_DROP_MEMBERSHIP, [.. InetPton(AF_INET, "239.1.2.3"), .. InetPton(AF_INET, "0.0.0.0")]);
        Assert.That(ErrnoOf(() => udp.SetSockOpt(SOL_SOCKET, 0x7777, 1)), Is.EqualTo(Errno.EINVAL));
        client.Close(); server.Close(); listener.Close();
    }

    [Test]
    public void Closing_a_socket_from_another_thread_wakes_a_blocked_recv_with_EBADF()
    {
        var (client, server, listener) = Connected();
        OSError? raised = null;
        var reader = new Thread(() =>
        {
            try { client.Recv(10); }
            catch (OSError e) { raised = e; }
        });
        reader.Start();
        Thread.Sleep(100);
        client.Close();
        Assert.That(reader.Join(TimeSpan.FromSeconds(5)), Is.True, "the blocked recv woke");
        Assert.That(raised?.Errno, Is.EqualTo(Errno.EBADF));
        server.Close(); listener.Close();
    }

    [Test]
    public void Poller_ipoll_one_shot_and_modify_rearms()
    {
        var (client, server, listener) = Connected();
        var poller = SelectModule.Poll();
        poller.Register(client, POLLIN);
        server.SendAll("x"u8);
        Assert.That(poller.IPoll(5000, IPOLL_ONESHOT), Has.Count.EqualTo(1));
        Assert.That(poller.IPoll(0, IPOLL_ONESHOT), Is.Empty, "one-shot: not reported again");
        poller.Modify(client, POLLIN);
        Assert.That(poller.IPoll(0, IPOLL_ONESHOT), Has.Count.EqualTo(1), "modify re-arms");
        poller.Unregister(client);
        Assert.That(poller.Poll(0), Is.Empty);
        Assert.That(Assert.Throws<OSError>(() => poller.Modify(client, POLLIN))!.Errno, Is.EqualTo(Errno.ENOENT));
        client.Close(); server.Close(); listener.Close();
    }

    [Test]
    public void Select_reports_readable_and_writable()
    {
        var (client, server, listener) = Connected();
        var (r, w, x) = SelectModule.Select([client], [client], [client], 0);
        Assert.That((r.Count, w.Count, x.Count), Is.EqualTo((0, 1, 0)));
        server.SendAll("x"u8);
        (r, _, _) = SelectModule.Select([client], [], [], 5);
        Assert.That(r, Is.EqualTo(new[] { client }));
        client.Close(); server.Close(); listener.Close();
    }

    [Test]
    public void Poll_times_out_empty_in_virtual_time()
    {
        var (client, server, listener) = Connected();
        var poller = SelectModule.Poll();
        poller.Register(client, POLLIN);
        var start = _a.Now;
        Assert.That(poller.Poll(1500), Is.Empty);
        Assert.That((_a.Now - start).TotalSeconds, Is.InRange(1.5, 1.8));
        client.Close(); server.Close(); listener.Close();
    }

    [Test]
    public void Status_IsConnected_and_IfConfig_in_the_Pico_shape()
    {
        Assert.That(() => _a.Status(), Is.EqualTo(WlanStatus.GotIp).After(2000, 10));
        Assert.Multiple(() =>
        {
            Assert.That((int)_a.Status(), Is.EqualTo(3));
            Assert.That(_a.IsConnected(), Is.True);
            Assert.That(_a.IfConfig().ToString(), Is.EqualTo("('192.0.2.10', '255.255.255.0', '0.0.0.0', '0.0.0.0')"));
        });
        _a.IfConfig(new IfConfig("192.0.2.20", "255.255.255.0", "192.0.2.1", "192.0.2.53"));
        Assert.That(_a.IfConfig(), Is.EqualTo(new IfConfig("192.0.2.20", "255.255.255.0", "192.0.2.1", "192.0.2.53")));
        _a.Dispose();
        Assert.That(_a.Status(), Is.EqualTo(WlanStatus.Idle));
    }

    [Test]
    public void Non_blocking_connect_refused_polls_POLLERR_POLLHUP_and_raises_ECONNREFUSED_once()
    {
        using var client = _a.Socket();
        client.SetBlocking(false);
        Assert.That(ErrnoOf(() => client.Connect(("192.0.2.11", 81))), Is.EqualTo(115));
        var poller = SelectModule.Poll();
        poller.Register(client, POLLOUT);
        var ready = poller.Poll(5000);
        Assert.That(ready, Has.Count.EqualTo(1));
        Assert.That(ready[0].Events & (POLLERR | POLLHUP), Is.EqualTo(POLLERR | POLLHUP));
        Assert.That(ErrnoOf(() => client.Recv(1)), Is.EqualTo(111));
        Assert.That(client.Recv(1), Is.Empty);
    }

    [Test]
    public async Task Async_accept_connect_send_recv_and_cancellation()
    {
        using var listener = Server();
        var accepting = listener.AcceptAsync();
        using var client = _a.Socket();
        await client.ConnectAsync(B80);
        var (server, from) = await accepting;
        using (server)
        {
            Assert.That(from.Ip, Is.EqualTo("192.0.2.10"));
            Assert.That(await client.SendAsync("async"u8.ToArray()), Is.EqualTo(5));
            var buffer = new byte[16];
            int n = await server.RecvAsync(buffer);
            Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("async"));
            using var cts = new CancellationTokenSource(100);
            Assert.That(async () => await server.RecvAsync(buffer, cts.Token), Throws.InstanceOf<OperationCanceledException>());
            using var stream = client.GetStream(ownsSocket: false);
            await stream.WriteAsync("stream"u8.ToArray());
            n = await server.RecvAsync(buffer);
            Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("stream"));
        }
    }

    [Test]
    public void WrapTls_client_and_WrapTlsServer_over_the_pair()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=pair.test", rsa, System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var (client, server, listener) = Connected();
        var serving = Task.Run(() =>
        {
            using var tls = SslModule.WrapSocket(server, serverSide: true, certificate: certificate);
            var line = tls.ReadLine();
            tls.Write(line);
        });
        using var tlsClient = client.WrapTls("pair.test", (_, c, _, _) => c?.GetCertHashString() == certificate.GetCertHashString());
        tlsClient.Write("secret line\n"u8);
        Assert.That(Encoding.ASCII.GetString(tlsClient.ReadLine()), Is.EqualTo("secret line\n"));
        Assert.That(serving.Wait(TimeSpan.FromSeconds(10)), Is.True);
        listener.Close();
    }
}
