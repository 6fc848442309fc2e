using TcpIpSharp.Net.Ipv6;
using TcpIpSharp.Sockets;
using TcpIpSharp.Wire;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Tests.Sockets;

/// <summary>AF_INET6 sockets with the Pico's semantics (modlwip's 2-tuples, '' as a dual-stack bind) over two dual-stack stacks in virtual time.</summary>
public class Ipv6SocketTests
{
    private SocketStack _a = null!, _b = null!;
    private const string LinkLocalB = "fe80::ff:fe00:b";

    [SetUp]
    public void Pair()
    {
        (_a, _b) = SocketStack.CreateVirtualPair(new NetworkStackOptions { Ipv6 = new Ipv6Options() });
        WaitForAddresses();
    }

    [TearDown]
    public void Stop()
    {
        _a.Dispose();
        _b.Dispose();
    }

    // Lets virtual time pass (a receive that times out) until both link-local addresses passed DAD.
    private void WaitForAddresses()
    {
        using var idle = _a.Socket(AF_INET, SOCK_DGRAM);
        idle.SetTimeout(0.5);
        for (int i = 0; i < 20; i++)
        {
            bool ready = _a.Invoke(s => s.Ipv6Addresses.Any(x => x.State == Ipv6AddressState.Preferred))
                         && _b.Invoke(s => s.Ipv6Addresses.Any(x => x.State == Ipv6AddressState.Preferred));
            if (ready) return;
            try { idle.Recv(1); } catch (OSError e) when (e.Errno == Errno.ETIMEDOUT) { }
        }
        Assert.Fail("the link-local addresses never became preferred");
    }

    [Test]
    public void Tcp_over_af_inet6_to_a_dual_stack_listener_bound_to_empty_string()
    {
        using var listener = _b.Socket(AF_INET6, SOCK_STREAM);
        listener.Bind(("", 8080));
        listener.Listen();
        using var client = _a.Socket(AF_INET6, SOCK_STREAM);
        client.Connect((LinkLocalB + "%tap0", 8080));
        var (server, peer) = listener.Accept();
        using (server)
        {
            var (ip, port) = peer;   // a 2-tuple, as modlwip gives it
            Assert.That(ip, Is.EqualTo("fe80::ff:fe00:a"));
            Assert.That(port, Is.EqualTo(client.LocalAddress.Port));
            client.Send("GET /\r\n"u8);
            Assert.That(server.Recv(100), Is.EqualTo("GET /\r\n"u8.ToArray()));
        }
    }

    [Test]
    public void The_same_listener_takes_ipv4_too()
    {
        using var listener = _b.Socket(AF_INET6, SOCK_STREAM);
        listener.Bind(("", 8081));
        listener.Listen();
        using var client = _a.Socket(AF_INET, SOCK_STREAM);
        client.Connect(("192.0.2.11", 8081));
        var (server, peer) = listener.Accept();
        using (server) Assert.That(peer.Ip, Is.EqualTo("192.0.2.10"));
    }

    [Test]
    public void Udp_over_af_inet6_and_a_closed_port_raises_econnrefused()
    {
        using var server = _b.Socket(AF_INET6, SOCK_DGRAM);
        server.Bind(("", 5353));
        using var client = _a.Socket(AF_INET6, SOCK_DGRAM);
        client.SendTo("ping6"u8, (LinkLocalB, 5353));
        var (data, from) = server.RecvFrom(100);
        Assert.That(data, Is.EqualTo("ping6"u8.ToArray()));
        Assert.That(from.Address.IsIpv6, Is.True);

        client.Connect((LinkLocalB, 5999));
        client.SetTimeout(3);
        client.Send("x"u8);
        var e = Assert.Throws<OSError>(() => client.Recv(10));
        Assert.That(e!.Errno, Is.EqualTo(Errno.ECONNREFUSED));
    }

    [Test]
    public void Getaddrinfo_entry_connects_without_a_cast_and_names_its_family()
    {
        using var listener = _b.Socket(AF_INET6, SOCK_STREAM);
        listener.Bind(("", 8082));
        listener.Listen();
        var ai = _a.GetAddrInfo(LinkLocalB, 8082);
        Assert.That(ai[0].Af, Is.EqualTo(AF_INET6), "a literal IPv6 address resolves as AF_INET6 even with no family asked");
        using var client = _a.Socket(AF_INET6, SOCK_STREAM);
        client.Connect(ai[0][^1]);
        var (server, _) = listener.Accept();
        server.Dispose();
        Assert.That(ai[0].ToString(), Is.EqualTo("(10, 1, 0, '', ('fe80::ff:fe00:b', 8082))"));
    }

    [Test]
    public void Raw_icmpv6_socket_pings_the_peer()
    {
        using var raw = _a.Socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
        raw.SetTimeout(3);
        byte[] echo = [128, 0, 0, 0, 0x12, 0x34, 0, 1, (byte)'h', (byte)'i'];   // type, code, checksum (filled in), id, seq, data
        raw.SendTo(echo, (LinkLocalB, 0));
        byte[] reply;
        do reply = raw.Recv(100); while (reply[0] != 129);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply[4..6], Is.EqualTo(new byte[] { 0x12, 0x34 }));
            Assert.That(reply[8..], Is.EqualTo("hi"u8.ToArray()));
        }
    }

    [Test]
    public void Af_inet6_on_a_stack_without_ipv6_raises_eafnosupport()
    {
        var (a, b) = SocketStack.CreateVirtualPair();
        using (a)
        using (b)
        {
            var e = Assert.Throws<OSError>(() => a.Socket(AF_INET6, SOCK_STREAM));
            Assert.That(e!.Errno, Is.EqualTo(Errno.EAFNOSUPPORT));
        }
    }

    [Test]
    public void Ipconfig_addr6_lists_the_link_local_address_as_preferred()
    {
        var addr6 = (List<Ipv6AddressConfig>)_a.IpConfig("addr6");
        var linkLocal = addr6.Single(a => a.Address == "fe80::ff:fe00:a");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(linkLocal.State, Is.EqualTo(Ipv6AddressConfig.Preferred));
            Assert.That((linkLocal.PreferredLifetime, linkLocal.ValidLifetime), Is.EqualTo((0u, 0u)), "lwIP's static lifetime");
            Assert.That(linkLocal.ToString(), Is.EqualTo("('fe80::ff:fe00:a', 48, 0, 0)"));
            Assert.That(_a.IpConfig("autoconf6"), Is.EqualTo(true));
            Assert.That(_a.IpConfig("addr4"), Is.EqualTo(("192.0.2.10", "255.255.255.0")));
        }
        Assert.Throws<ArgumentException>(() => _a.IpConfig("nonsense"));
    }

    [TestCase("192.0.2.99")]
    [TestCase("fe80::99")]
    public void Connect_to_a_silent_on_link_address_raises_ehostunreach(string address)
    {
        using var client = _a.Socket(address.Contains(':') ? AF_INET6 : AF_INET, SOCK_STREAM);
        client.SetTimeout(30);
        var started = _a.Now;
        var e = Assert.Throws<OSError>(() => client.Connect((address, 80)));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(e!.Errno, Is.EqualTo(Errno.EHOSTUNREACH), "as Linux, once address resolution gives up");
            // Three requests a second apart, then the failure: seconds, not the connect's 30 s timeout.
            Assert.That(_a.Now - started, Is.LessThan(TimeSpan.FromSeconds(6)));
        }
    }

    [Test]
    public async Task HttpClient_and_GetStream_reach_an_ipv6_literal_through_the_stack()
    {
        using var listener = _b.Socket(AF_INET6, SOCK_STREAM);
        listener.Bind(("", 8090));
        listener.Listen();
        var server = Task.Run(() =>
        {
            var (c, _) = listener.Accept();
            using (c)
            {
                using var reader = new StreamReader(c.GetStream(), System.Text.Encoding.ASCII, leaveOpen: true);
                while (reader.ReadLine() is { Length: > 0 }) { }   // the request head
                c.SendAll("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nover v6"u8);
            }
        });
        using var http = new System.Net.Http.HttpClient(_a.CreateHttpHandler()) { Timeout = TimeSpan.FromSeconds(20) };
        var body = await http.GetStringAsync(new Uri($"http://[{LinkLocalB}]:8090/"));
        await server;
        Assert.That(body, Is.EqualTo("over v6"));
    }
}
