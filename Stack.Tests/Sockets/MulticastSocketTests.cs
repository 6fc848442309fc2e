using System.Text;
using TcpIpSharp.Net.Ipv6;
using TcpIpSharp.Sockets;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Wire;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Tests.Sockets;

/// <summary>
/// The multicast and broadcast socket options with the Pico's values and layouts (IP_ADD_MEMBERSHIP's 8 bytes),
/// SO_REUSEADDR's copies for UDP, and the errno values Linux gives, over two stacks on an in-memory pair in virtual time.
/// </summary>
public class MulticastSocketTests
{
    private const string GroupText = "239.1.2.3";
    private static readonly Ipv4Address Group = Ipv4Address.Parse(GroupText);
    private SocketStack _a = null!, _b = null!;
    private readonly List<byte[]> _sentByA = [];

    [SetUp]
    public void Pair()
    {
        (_a, _b) = SocketStack.CreateVirtualPair();
        _a.Invoke(s => s.FrameObserver = (frame, outgoing, _) =>
        {
            if (outgoing) lock (_sentByA) _sentByA.Add(frame.ToArray());
        });
    }

    [TearDown]
    public void Stop()
    {
        _a.Dispose();
        _b.Dispose();
    }

    private static int ErrnoOf(Action call) => Assert.Throws<OSError>(() => call())!.Errno;

    private static byte[] Mreq(string group, string iface) => [.. InetPton(AF_INET, group), .. InetPton(AF_INET, iface)];

    // Lets virtual time pass: a blocking receive that times out.
    private void Wait(double seconds)
    {
        using var idle = _a.Socket(AF_INET, SOCK_DGRAM);
        idle.Bind(("", 0));
        idle.SetTimeout(seconds);
        Assert.That(ErrnoOf(() => idle.Recv(10)), Is.EqualTo(Errno.ETIMEDOUT));
    }

    private List<IgmpTests.Sent> IgmpSentByA()
    {
        lock (_sentByA)
        {
            var list = IgmpTests.Igmp(_sentByA);
            _sentByA.Clear();
            return list;
        }
    }

    private List<byte[]> UdpSentByA()
    {
        lock (_sentByA)
        {
            var list = _sentByA.Where(f => f.Length > 34 && f[12] == 8 && f[13] == 0 && f[23] == (byte)IpProtocol.Udp).ToList();
            _sentByA.Clear();
            return list;
        }
    }

    [Test]
    public void Ip_add_membership_takes_group_then_interface_and_the_group_is_reported_once_across_two_sockets()
    {
        using var s1 = _a.Socket(AF_INET, SOCK_DGRAM);
        using var s2 = _a.Socket(AF_INET, SOCK_DGRAM);
        s1.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq(GroupText, "0.0.0.0"));
        s2.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq(GroupText, "192.0.2.10"));   // our own address names the interface too
        Wait(3);
        var joins = IgmpSentByA();
        Assert.That(joins.SelectMany(j => j.Records), Is.EqualTo(new[] { (MldRecordType.ChangeToExcludeMode, Group), (MldRecordType.ChangeToExcludeMode, Group) }),
            "one join reported (robustness 2), not one per socket");
        Assert.That(_a.Invoke(s => s.Ipv4.GroupUsers(Group)), Is.EqualTo(2));

        s1.SetSockOpt(IPPROTO_IP, IP_DROP_MEMBERSHIP, Mreq(GroupText, "0.0.0.0"));
        Wait(3);
        Assert.That(IgmpSentByA(), Is.Empty, "the other socket is still in the group");
        s2.Close();   // closing drops the socket's memberships, as Linux
        Wait(3);
        Assert.That(IgmpSentByA().SelectMany(j => j.Records), Is.EqualTo(new[] { (MldRecordType.ChangeToIncludeMode, Group), (MldRecordType.ChangeToIncludeMode, Group) }));
        Assert.That(_a.Invoke(s => s.Ipv4MulticastGroups), Has.No.Member(Group));
    }

    [Test]
    public void Membership_options_raise_the_errno_linux_gives()
    {
        using var s = _a.Socket(AF_INET, SOCK_DGRAM);
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, InetPton(AF_INET, GroupText))), Is.EqualTo(Errno.EINVAL), "4 bytes");
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, [.. Mreq(GroupText, "0.0.0.0"), 0])), Is.EqualTo(Errno.EINVAL), "9 bytes");
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq("0.0.0.0", GroupText))), Is.EqualTo(Errno.EINVAL),
            "interface first, group second is the wrong order: 0.0.0.0 is not a group");
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq("192.0.2.77", "0.0.0.0"))), Is.EqualTo(Errno.EINVAL), "not multicast");
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq(GroupText, "192.0.2.99"))), Is.EqualTo(Errno.ENODEV), "not our interface");
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_DROP_MEMBERSHIP, Mreq(GroupText, "0.0.0.0"))), Is.EqualTo(Errno.EADDRNOTAVAIL), "not in the group");
        s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq(GroupText, "0.0.0.0"));
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq(GroupText, "0.0.0.0"))), Is.EqualTo(Errno.EADDRINUSE), "twice on one socket");
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_MULTICAST_TTL, 256)), Is.EqualTo(Errno.EINVAL));
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_MULTICAST_TTL, -1)), Is.EqualTo(Errno.EINVAL));
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IPV6, IPV6_JOIN_GROUP, new byte[20])), Is.EqualTo(Errno.EINVAL), "IPv6 :: is not a group");
        s.Close();
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq(GroupText, "0.0.0.0"))), Is.EqualTo(Errno.EBADF));
        Assert.That(_a.Invoke(st => st.Ipv4MulticastGroups), Has.No.Member(Group), "the close dropped the one membership");
    }

    [Test]
    public void A_full_group_table_raises_ENOBUFS()
    {
        _a.Dispose(); _b.Dispose();
        (_a, _b) = SocketStack.CreateVirtualPair(new NetworkStackOptions { IgmpMaxGroups = 2 });
        using var s = _a.Socket(AF_INET, SOCK_DGRAM);
        s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq("239.0.0.1", "0.0.0.0"));   // with 224.0.0.1: full
        Assert.That(ErrnoOf(() => s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq("239.0.0.2", "0.0.0.0"))), Is.EqualTo(Errno.ENOBUFS));
    }

    [Test]
    public void So_reuseaddr_gives_each_udp_socket_a_copy_of_multicast_and_broadcast_and_unicast_goes_to_one()
    {
        using var r1 = _b.Socket(AF_INET, SOCK_DGRAM);
        using var r2 = _b.Socket(AF_INET, SOCK_DGRAM);
        foreach (var r in new[] { r1, r2 })
        {
            r.SetSockOpt(SOL_SOCKET, SO_REUSEADDR, 1);
            r.Bind(("", 5000));
            r.SetTimeout(2);
        }
        using (var plain = _b.Socket(AF_INET, SOCK_DGRAM))
            Assert.That(ErrnoOf(() => plain.Bind(("", 5000))), Is.EqualTo(Errno.EADDRINUSE), "a socket without SO_REUSEADDR may not share the port");
        r1.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq(GroupText, "0.0.0.0"));   // one membership is enough for the host

        using var sender = _a.Socket(AF_INET, SOCK_DGRAM);
        sender.SetSockOpt(SOL_SOCKET, SO_BROADCAST, 1);
        sender.SendTo("multicast"u8, (GroupText, 5000));
        Assert.That(Encoding.ASCII.GetString(r1.Recv(100)), Is.EqualTo("multicast"));
        Assert.That(Encoding.ASCII.GetString(r2.Recv(100)), Is.EqualTo("multicast"));
        sender.SendTo("broadcast"u8, ("255.255.255.255", 5000));
        Assert.That(Encoding.ASCII.GetString(r1.Recv(100)), Is.EqualTo("broadcast"));
        Assert.That(Encoding.ASCII.GetString(r2.Recv(100)), Is.EqualTo("broadcast"));
        sender.SendTo("subnet"u8, ("192.0.2.255", 5000));
        Assert.That(Encoding.ASCII.GetString(r1.Recv(100)), Is.EqualTo("subnet"));
        Assert.That(Encoding.ASCII.GetString(r2.Recv(100)), Is.EqualTo("subnet"));

        sender.SendTo("unicast"u8, ("192.0.2.11", 5000));
        Assert.That(Encoding.ASCII.GetString(r1.Recv(100)), Is.EqualTo("unicast"), "unicast to the first socket");
        r2.SetTimeout(1);
        Assert.That(ErrnoOf(() => r2.Recv(100)), Is.EqualTo(Errno.ETIMEDOUT), "and to no other");

        // Once the first closes, the port stays bound and the other takes its unicast.
        r1.Close();
        sender.SendTo("again"u8, ("192.0.2.11", 5000));
        r2.SetTimeout(2);
        Assert.That(Encoding.ASCII.GetString(r2.Recv(100)), Is.EqualTo("again"));
    }

    [Test]
    public void Sending_to_the_limited_or_the_subnet_broadcast_without_SO_BROADCAST_raises_EACCES()
    {
        using var s = _a.Socket(AF_INET, SOCK_DGRAM);
        Assert.That(ErrnoOf(() => s.SendTo("x"u8, ("255.255.255.255", 9))), Is.EqualTo(Errno.EACCES));
        Assert.That(ErrnoOf(() => s.SendTo("x"u8, ("192.0.2.255", 9))), Is.EqualTo(Errno.EACCES));
        Assert.That(s.SendTo("x"u8, (GroupText, 9)), Is.EqualTo(1), "multicast needs no SO_BROADCAST");
        s.SetSockOpt(SOL_SOCKET, SO_BROADCAST, 1);
        Assert.That(s.SendTo("x"u8, ("192.0.2.255", 9)), Is.EqualTo(1));
        s.SetSockOpt(SOL_SOCKET, SO_BROADCAST, 0);
        Assert.That(ErrnoOf(() => s.SendTo("x"u8, ("192.0.2.255", 9))), Is.EqualTo(Errno.EACCES));
    }

    [Test]
    public void Ip_multicast_ttl_sets_the_ttl_and_ip_multicast_loop_the_copy_to_our_own_sockets()
    {
        using var s = _a.Socket(AF_INET, SOCK_DGRAM);
        s.Bind(("", 6000));
        s.SetSockOpt(IPPROTO_IP, IP_ADD_MEMBERSHIP, Mreq(GroupText, "0.0.0.0"));
        s.SetTimeout(1);
        UdpSentByA();

        s.SendTo("one"u8, (GroupText, 6000));
        Assert.That(UdpSentByA().Single()[22], Is.EqualTo(1), "TTL 1 by default (RFC 1112 6.1)");
        Assert.That(Encoding.ASCII.GetString(s.Recv(100)), Is.EqualTo("one"), "looped back by default, as Linux");

        s.SetSockOpt(IPPROTO_IP, IP_MULTICAST_TTL, 7);
        s.SetSockOpt(IPPROTO_IP, IP_MULTICAST_LOOP, 0);
        s.SendTo("two"u8, (GroupText, 6000));
        Assert.That(UdpSentByA().Single()[22], Is.EqualTo(7));
        Assert.That(ErrnoOf(() => s.Recv(100)), Is.EqualTo(Errno.ETIMEDOUT), "no copy with IP_MULTICAST_LOOP 0");

        s.SetSockOpt(IPPROTO_IP, IP_MULTICAST_TTL, 0);
        s.SetSockOpt(IPPROTO_IP, IP_MULTICAST_LOOP, 1);
        s.SendTo("three"u8, (GroupText, 6000));
        Assert.That(Encoding.ASCII.GetString(s.Recv(100)), Is.EqualTo("three"));
        Assert.That(UdpSentByA(), Is.Empty, "TTL 0 stays on the host");
    }

    [Test]
    public void Ipv6_join_group_goes_through_mld_and_counts_across_sockets()
    {
        _a.Dispose(); _b.Dispose();
        (_a, _b) = SocketStack.CreateVirtualPair(new NetworkStackOptions { Ipv6 = new Ipv6Options() });
        var group = Ipv6Address.Parse("ff05::1234");
        byte[] mreq = [.. InetPton(AF_INET6, "ff05::1234"), 0, 0, 0, 0];
        using var s1 = _a.Socket(AF_INET6, SOCK_DGRAM);
        using var s2 = _a.Socket(AF_INET6, SOCK_DGRAM);
        Assert.That(ErrnoOf(() => s1.SetSockOpt(IPPROTO_IPV6, IPV6_JOIN_GROUP, InetPton(AF_INET6, "ff05::1234"))), Is.EqualTo(Errno.EINVAL), "16 bytes: no interface index");
        Assert.That(ErrnoOf(() => s1.SetSockOpt(IPPROTO_IPV6, IPV6_JOIN_GROUP, [.. InetPton(AF_INET6, "ff05::1234"), 7, 0, 0, 0])), Is.EqualTo(Errno.ENODEV));
        s1.SetSockOpt(IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq);
        s2.SetSockOpt(IPPROTO_IPV6, IPV6_JOIN_GROUP, [.. InetPton(AF_INET6, "ff05::1234"), 1, 0, 0, 0]);
        Assert.That(_a.Invoke(s => s.Ipv6!.Groups), Has.Member(group));
        s1.SetSockOpt(IPPROTO_IPV6, IPV6_LEAVE_GROUP, mreq);
        Assert.That(_a.Invoke(s => s.Ipv6!.Groups), Has.Member(group), "s2 is still in it");
        Assert.That(ErrnoOf(() => s1.SetSockOpt(IPPROTO_IPV6, IPV6_LEAVE_GROUP, mreq)), Is.EqualTo(Errno.EADDRNOTAVAIL));
        s2.SetSockOpt(IPPROTO_IPV6, IPV6_LEAVE_GROUP, mreq);
        Assert.That(_a.Invoke(s => s.Ipv6!.Groups), Has.No.Member(group));

        // And a datagram to the group reaches a socket on the other stack that joined it.
        using var r = _b.Socket(AF_INET6, SOCK_DGRAM);
        r.Bind(("", 7000));
        r.SetSockOpt(IPPROTO_IPV6, IPV6_JOIN_GROUP, mreq);
        r.SetTimeout(3);
        Wait(3);   // the link-local addresses out of DAD
        s1.SendTo("v6 multicast"u8, ("ff05::1234", 7000));
        Assert.That(Encoding.ASCII.GetString(r.Recv(100)), Is.EqualTo("v6 multicast"));
    }
}
