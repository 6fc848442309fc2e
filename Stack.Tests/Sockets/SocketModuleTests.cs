using TcpIpSharp.Sockets;
using static TcpIpSharp.Sockets.SelectModule;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Tests.Sockets;

/// <summary>The module surface: constants with MicroPython's values, OSError, errno mapping, address conversions.</summary>
public class SocketModuleTests
{
    [Test]
    public void Constants_have_the_Pico_W_values()
    {
        Assert.Multiple(() =>
        {
            Assert.That((AF_INET, AF_INET6), Is.EqualTo((2, 10)));
            Assert.That((SOCK_STREAM, SOCK_DGRAM, SOCK_RAW), Is.EqualTo((1, 2, 3)));
            Assert.That((IPPROTO_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP), Is.EqualTo((0, 1, 6, 17)));
            Assert.That((SOL_SOCKET, SO_REUSEADDR, SO_KEEPALIVE, SO_BROADCAST), Is.EqualTo((1, 0x04, 0x08, 0x20)));
            Assert.That(TCP_NODELAY, Is.EqualTo(0x40));
            Assert.That((IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP), Is.EqualTo((0x400, 0x401)));
            Assert.That((IP_MULTICAST_TTL, IP_MULTICAST_LOOP), Is.EqualTo((5, 7)), "lwIP's sockets.h");
            Assert.That((IPPROTO_IPV6, IPV6_JOIN_GROUP, IPV6_LEAVE_GROUP), Is.EqualTo((41, 12, 13)), "lwIP's sockets.h");
            Assert.That((MSG_PEEK, MSG_DONTWAIT), Is.EqualTo((0x01, 0x08)));
            Assert.That((POLLIN, POLLOUT, POLLERR, POLLHUP), Is.EqualTo((1, 4, 8, 16)));
        });
    }

    [Test]
    public void OSError_carries_errno_and_symbolic_name()
    {
        var e = new OSError(Errno.EAGAIN);
        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(11));
            Assert.That(e.Name, Is.EqualTo("EAGAIN"));
            Assert.That(e.Message, Is.EqualTo("[Errno 11] EAGAIN"));
            Assert.That(new OSError(-2, "no").Message, Is.EqualTo("[Errno -2] EAI_NONAME: no"));
        });
    }

    [Test]
    public void Errno_values_and_the_mapping_from_NetError()
    {
        Assert.Multiple(() =>
        {
            Assert.That((Errno.EAGAIN, Errno.ETIMEDOUT, Errno.EINPROGRESS, Errno.ECONNRESET, Errno.ECONNREFUSED), Is.EqualTo((11, 110, 115, 104, 111)));
            Assert.That((Errno.EADDRINUSE, Errno.ENOTCONN, Errno.EPIPE, Errno.EHOSTUNREACH, Errno.EMSGSIZE, Errno.EBADF), Is.EqualTo((98, 107, 32, 113, 90, 9)));
            Assert.That(Errno.FromNetError(NetError.AddressInUse), Is.EqualTo(98));
            Assert.That(Errno.FromNetError(NetError.ConnectionRefused), Is.EqualTo(111));
            Assert.That(Errno.FromNetError(NetError.ConnectionReset), Is.EqualTo(104));
            Assert.That(Errno.FromNetError(NetError.TimedOut), Is.EqualTo(110));
            Assert.That(Errno.FromNetError(NetError.WouldBlock), Is.EqualTo(11));
            Assert.That(Errno.FromNetError(NetError.HostUnreachable), Is.EqualTo(113));
            Assert.That(Errno.FromNetError(NetError.MessageTooLong), Is.EqualTo(90));
            Assert.That(Errno.FromNetError(NetError.BroadcastNotAllowed), Is.EqualTo(13));
            Assert.That(Errno.FromNetError(NetError.Closed), Is.EqualTo(9));
            Assert.That(Errno.FromNetError(NetError.NoAddress), Is.EqualTo(101));
        });
    }

    [Test]
    public void InetPton_and_InetNtop_round_trip()
    {
        byte[] b = InetPton(AF_INET, "192.0.2.33");
        Assert.Multiple(() =>
        {
            Assert.That(b, Is.EqualTo(new byte[] { 192, 0, 2, 33 }));
            Assert.That(InetNtop(AF_INET, b), Is.EqualTo("192.0.2.33"));
            Assert.That(InetNtop(AF_INET6, InetPton(AF_INET6, "2001:db8::1")), Is.EqualTo("2001:db8::1"));
            Assert.That(Assert.Throws<OSError>(() => InetPton(AF_INET, "192.0.2"))!.Errno, Is.EqualTo(Errno.EINVAL));
        });
    }

    [Test]
    public void GetAddrInfo_of_a_numeric_address_has_the_Pico_shape()
    {
        var (a, b) = SocketStack.CreateVirtualPair();
        using (a) using (b)
        {
            SocketStack.Default = a;
            var ai = GetAddrInfo("192.0.2.11", 80);
            Assert.Multiple(() =>
            {
                Assert.That(ai, Has.Count.EqualTo(1));
                Assert.That(ai[0].ToString(), Is.EqualTo("(2, 1, 0, '', ('192.0.2.11', 80))"));
                Assert.That(ai[0][^1], Is.EqualTo(new SockAddr(TcpIpSharp.Wire.Ipv4Address.Parse("192.0.2.11"), 80)));
                Assert.That(GetAddrInfo("192.0.2.11", 53, AF_INET, SOCK_DGRAM)[0].Type, Is.EqualTo(SOCK_DGRAM));
            });
            // No DNS server configured: the resolver's EAI_AGAIN.
            var e = Assert.Throws<OSError>(() => GetAddrInfo("www.example.test", 80))!;
            Assert.That(e.Errno, Is.EqualTo(-3), e.Message);
        }
    }

    [Test]
    public void Socket_accepts_the_Pico_types_and_refuses_others()
    {
        var (a, b) = SocketStack.CreateVirtualPair();
        using (a) using (b)
        {
            SocketStack.Default = a;
            using var tcp = Socket(AF_INET, SOCK_STREAM);
            using var udp = Socket(AF_INET, SOCK_DGRAM);
            using var raw = Socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
            Assert.Multiple(() =>
            {
                Assert.That((tcp.Type, udp.Type, raw.Type), Is.EqualTo((1, 2, 3)));
                Assert.That(Assert.Throws<OSError>(() => Socket(AF_INET6, SOCK_STREAM))!.Errno, Is.EqualTo(Errno.EAFNOSUPPORT));
                Assert.That(Assert.Throws<OSError>(() => Socket(AF_INET, SOCK_RAW, IPPROTO_UDP))!.Errno, Is.EqualTo(Errno.EOPNOTSUPP));
            });
        }
    }

    [Test]
    public void SockAddr_converts_from_a_tuple_and_prints_as_Python()
    {
        SockAddr addr = ("192.0.2.1", 80);
        Assert.Multiple(() =>
        {
            Assert.That(addr.ToString(), Is.EqualTo("('192.0.2.1', 80)"));
            Assert.That(((SockAddr)("", 8080)).Address.IsAny, Is.True);
        });
    }
}
