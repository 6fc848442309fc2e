using TcpIpSharp.Diagnostics;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Tests.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Hostile;

/// <summary>
/// Each bounded table of docs/security.md that had no test of its own: reaching the bound drops the new work, counts
/// it, and neither throws nor grows the table (issue 8, item 4). Virtual time, in-memory link.
/// </summary>
public class BoundsTests
{
    private static NetworkStackOptions Options => new()
    {
        MacAddress = Frames.StackMac, Address = Frames.StackIp, PrefixLength = 24, Gateway = Ipv4Address.Parse("192.0.2.254"),
    };

    [Test]
    public void The_arp_cache_full_of_resolving_entries_drops_and_counts_new_destinations()
    {
        using var h = new StackHarness(Options with { ArpCacheSize = 4 });
        var udp = h.Stack.OpenUdp(5000);
        for (int i = 0; i < 10; i++) udp.SendTo([1], Ipv4Address.Parse($"192.0.2.{100 + i}"), 9);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Stack.Interface.Arp.Count, Is.EqualTo(4));
            Assert.That(h.Stack.Statistics.Drops(DropReason.ArpCacheFull), Is.EqualTo(6));
        }
    }

    [Test]
    public void Arp_requests_from_many_neighbours_keep_the_cache_at_its_size()
    {
        using var h = new StackHarness(Options with { ArpCacheSize = 8 });
        for (int i = 0; i < 200; i++)
        {
            var mac = MacAddress.Parse($"02:00:00:00:{i >> 8:x2}:{i & 255:x2}");
            h.Inject(Frames.Arp(ArpOperation.Request, mac, Ipv4Address.Parse($"192.0.2.{10 + i % 200}"), MacAddress.Zero, Frames.StackIp));
        }
        Assert.That(h.Stack.Interface.Arp.Count, Is.EqualTo(8), "resolved entries are evicted least recently used first");
    }

    [Test]
    public void A_datagram_with_more_holes_than_tracked_is_dropped_and_counted()
    {
        using var h = new StackHarness(Options with { ReassemblyMaxPieces = 16 });
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        // 40 eight-byte fragments with a gap after each: 40 pieces, more than 16.
        for (int i = 0; i < 40; i++)
            h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, new byte[8], id: 77, more: true, offset: i * 16));
        Assert.That(h.Stack.Statistics.Drops(DropReason.ReassemblyTooManyHoles), Is.GreaterThan(0));
    }

    [Test]
    public void The_reassembly_byte_budget_drops_and_counts_what_does_not_fit()
    {
        using var h = new StackHarness(Options with { ReassemblyMaxBytes = 4096 });
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        for (ushort id = 1; id <= 10; id++)
            h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, new byte[1000], id: id, more: true, offset: 0));
        Assert.That(h.Stack.Statistics.Drops(DropReason.ReassemblyNoResources), Is.GreaterThanOrEqualTo(6), "at most 4 KB held");
    }

    [TestCase(4, 1 << 20, 4), TestCase(256, 1000, 3)]
    public void A_full_udp_receive_queue_drops_and_counts(int datagrams, int bytes, int kept)
    {
        using var h = new StackHarness(Options with { UdpReceiveQueueDatagrams = datagrams, UdpReceiveQueueBytes = bytes });
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var udp = h.Stack.OpenUdp(7000);
        for (int i = 0; i < 10; i++)
            h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Frames.StackIp, 4000, 7000, new byte[300]), id: (ushort)i));
        var buffer = new byte[2000];
        int received = 0;
        while (udp.Receive(buffer, out _, out _) >= 0 && received < 100) received++;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(received, Is.EqualTo(kept));
            Assert.That(h.Stack.Statistics.Drops(DropReason.UdpQueueFull), Is.EqualTo(10 - kept));
        }
    }

    [Test]
    public void Udp_endpoints_stop_at_their_bound_with_an_error()
    {
        using var h = new StackHarness(Options with { UdpMaxEndpoints = 3 });
        for (ushort p = 1; p <= 3; p++) Assert.That(h.Stack.OpenUdp((ushort)(6000 + p), out _), Is.EqualTo(NetError.None));
        Assert.That(h.Stack.OpenUdp(6100, out var none), Is.EqualTo(NetError.NoFreePort));
        Assert.That(none, Is.Null);
    }

    [Test]
    public void A_full_accept_backlog_drops_and_counts_completed_handshakes()
    {
        using var s = new TwoStacks();
        var listener = s.B.ListenTcp(5001, backlog: 2);
        for (int i = 0; i < 6; i++) s.A.ConnectTcp(TwoStacks.AddressB, 5001);
        s.RunUntil(() => s.B.Statistics.TcpDetail.ListenOverflowsCount > 0, TimeSpan.FromSeconds(10));
        int accepted = 0;
        while (listener.TryAccept(out _)) accepted++;
        Assert.That(accepted, Is.EqualTo(2), "the backlog holds two");
        Assert.That(s.B.Statistics.TcpDetail.ListenOverflowsCount, Is.GreaterThan(0), "the handshakes beyond it counted as listen overflows");
    }
}
