using TcpIpSharp.Diagnostics;
using TcpIpSharp.Sockets;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Tests.Tcp;
using TcpIpSharp.Transport.Tcp;
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
    public void The_reassembly_byte_budget_evicts_the_oldest_and_drops_a_datagram_larger_than_itself()
    {
        using var h = new StackHarness(Options with { ReassemblyMaxBytes = 4096 });
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        for (ushort id = 1; id <= 10; id++)
            h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, new byte[1000], id: id, more: true, offset: 0));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Stack.Ipv4.Reassembler.BytesHeld, Is.LessThanOrEqualTo(4096), "at most 4 KB held");
            Assert.That(h.Stack.Statistics.Drops(DropReason.ReassemblyEvicted), Is.EqualTo(6), "the six oldest evicted for the newer ones");
        }
        // One datagram whose fragments alone exceed the budget: its fragment beyond the budget is dropped, nothing else evicted.
        for (int offset = 0; offset < 5000; offset += 1000)
            h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, new byte[1000], id: 99, more: true, offset: offset));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Stack.Statistics.Drops(DropReason.ReassemblyNoResources), Is.EqualTo(1));
            Assert.That(h.Stack.Ipv4.Reassembler.BytesHeld, Is.LessThanOrEqualTo(4096));
        }
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

    private static long LimitRefused(NetworkStack stack) => stack.Statistics.TcpDetail.All().First(c => c.Name == "tcp.connection_limit_refused").Read();

    [Test]
    public void The_default_connection_bound_is_the_ephemeral_range_and_leaves_room_for_the_scaling_tests()
    {
        var options = new NetworkStackOptions();
        Assert.That(options.TcpMaxConnections, Is.EqualTo(16_384));
        Assert.That(options.TcpMaxConnections, Is.EqualTo(options.EphemeralPortLast - options.EphemeralPortFirst + 1));
        Assert.That(options.TcpMaxConnections, Is.GreaterThan(10_000), "ScalingTests hold 10,000 connections per stack");
    }

    [Test]
    public void At_the_connection_bound_a_syn_to_a_listener_is_dropped_and_counted()
    {
        using var h = new StackHarness(Options with { TcpMaxConnections = 3 });
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        h.Stack.ListenTcp(80, backlog: 16);
        for (ushort port = 40000; port < 40005; port++) h.Inject(CookieSegment(port, 100, 0, TcpFlags.Syn));
        var answered = h.Drain().Select(SegmentOf).Where(t => t.Flags == (TcpFlags.Syn | TcpFlags.Ack)).Select(t => t.DestinationPort).ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Stack.Tcp.Count, Is.EqualTo(3), "the bound holds");
            Assert.That(answered, Is.EqualTo(new ushort[] { 40000, 40001, 40002 }), "the SYNs beyond the bound get nothing: no SYN-ACK, no cookie, no reset");
            Assert.That(LimitRefused(h.Stack), Is.EqualTo(2), "each dropped SYN counted");
            Assert.That(h.Stack.Statistics.TcpDetail.All().First(c => c.Name == "tcp.syn_cookies_sent").Read(), Is.Zero);
        }
        // One goes: the peer's retransmitted SYN gets in.
        h.Stack.Tcp.Find(Frames.PeerIp, 40000, 80)!.Abort();
        h.Drain();
        h.Inject(CookieSegment(40003, 100, 0, TcpFlags.Syn));
        Assert.That(h.Drain().Select(SegmentOf).Any(t => t.DestinationPort == 40003 && t.Flags == (TcpFlags.Syn | TcpFlags.Ack)), Is.True);
    }

    [Test]
    public void At_the_connection_bound_an_ack_with_a_valid_syn_cookie_makes_no_connection()
    {
        using var h = new StackHarness(Options with { TcpSynQueue = 1, TcpMaxConnections = 2 });
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        h.Learn(Ipv4Address.Parse("192.0.2.254"), Frames.PeerMac);
        var listener = h.Stack.ListenTcp(80, backlog: 1);
        h.Inject(CookieSegment(40000, 100, 0, TcpFlags.Syn));      // fills the SYN queue: connection 1
        h.Drain();
        h.Inject(CookieSegment(40001, 5000, 0, TcpFlags.Syn));     // queue full: answered with a cookie, no state
        var synAck = SegmentOf(h.Drain().Single());
        Assert.That(synAck.Flags, Is.EqualTo(TcpFlags.Syn | TcpFlags.Ack));
        h.Stack.ConnectTcp(Frames.PeerIp, 9000);                   // connection 2: the bound reached meanwhile
        h.Drain();
        h.Inject(CookieSegment(40001, 5001, synAck.SequenceNumber + 1, TcpFlags.Ack));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Stack.Tcp.Count, Is.EqualTo(2), "the cookie did not get past the bound");
            Assert.That(h.Stack.Tcp.Find(Frames.PeerIp, 40001, 80), Is.Null);
            Assert.That(listener.TryAccept(out _), Is.False);
            Assert.That(LimitRefused(h.Stack), Is.EqualTo(1));
            Assert.That(h.Drain().Select(SegmentOf).Any(t => t.DestinationPort == 40001 && (t.Flags & TcpFlags.Rst) != 0), Is.False,
                "dropped, not reset: the peer retransmits its ACK and gets in once there is room");
        }
    }

    [Test]
    public void At_the_connection_bound_an_active_open_fails_with_an_error_and_the_socket_layer_gives_enomem()
    {
        using (var h = new StackHarness(Options with { TcpMaxConnections = 2 }))
        {
            h.Stack.ConnectTcp(Frames.PeerIp, 9000);
            h.Stack.ConnectTcp(Frames.PeerIp, 9001);
            var e = Assert.Catch<InvalidOperationException>(() => h.Stack.ConnectTcp(Frames.PeerIp, 9002));
            Assert.That(e!.Message, Does.Contain("TcpMaxConnections"));
            Assert.That(h.Stack.Tcp.Count, Is.EqualTo(2));
            Assert.That(LimitRefused(h.Stack), Is.EqualTo(1));
        }
        var (a, b) = SocketStack.CreateVirtualPair(new NetworkStackOptions { TcpMaxConnections = 1 });
        using (a)
        using (b)
        {
            using var listener = b.Socket();
            listener.Bind(("", 80));
            listener.Listen();
            using var first = a.Socket();
            first.Connect(("192.0.2.11", 80));
            using var second = a.Socket();
            var error = Assert.Throws<OSError>(() => second.Connect(("192.0.2.11", 80)));
            Assert.That(error!.Errno, Is.EqualTo(Errno.ENOMEM), "lwIP (and so the Pico) gives ENOMEM when no TCP PCB is free");
        }
    }

    private static byte[] CookieSegment(ushort srcPort, uint seq, uint ack, TcpFlags flags)
    {
        var header = new TcpHeader(srcPort, 80, seq, ack, flags, 65535, 0, new TcpOptions { MaximumSegmentSize = 1460 });
        var tcp = new byte[header.Length];
        header.WriteTo(tcp);
        TcpHeader.FillChecksum(tcp, Frames.PeerIp, Frames.StackIp);
        return Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Tcp, tcp);
    }

    private static TcpHeader SegmentOf(byte[] frame)
    {
        EthernetFrame.TryParse(frame, out var eth);
        Ipv4Packet.TryParse(eth.Payload, out var ip);
        TcpSegment.TryParse(ip.Payload, out var seg);
        return TcpHeader.From(seg);
    }

    [Test]
    public void More_gaps_than_the_out_of_order_bound_drop_and_count_the_segments_beyond_and_retransmission_completes_byte_exact()
    {
        const int Ranges = 4, Piece = 500, Gaps = 10, Total = 2 * Piece * Gaps;
        using var h = new StackHarness(Options with { Tcp = new TcpConnectionOptions { MaxOutOfOrderRanges = Ranges } });
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var listener = h.Stack.ListenTcp(80);
        h.Inject(CookieSegment(40000, 100, 0, TcpFlags.Syn));
        var synAck = SegmentOf(h.Drain().Single());
        uint ack = synAck.SequenceNumber + 1;
        h.Inject(CookieSegment(40000, 101, ack, TcpFlags.Ack));
        Assert.That(listener.TryAccept(out var connection), Is.True);
        var data = Enumerable.Range(0, Total).Select(i => (byte)(i * 7 + (i >> 8))).ToArray();
        byte[] Data(int offset) => DataSegment(40000, 101 + (uint)offset, ack, data.AsSpan(offset, Piece));

        // The second half of each 1,000-byte block: ten islands with a gap before each.
        for (int k = 0; k < Gaps; k++) h.Inject(Data(2 * Piece * k + Piece));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(connection.Available, Is.Zero, "nothing in order yet");
            Assert.That(Counter(h.Stack, "tcp.out_of_order_dropped"), Is.EqualTo(Gaps - Ranges), "the islands beyond the bound dropped and counted");
        }
        // The peer retransmits everything in order (as it would after the dropped segments were never SACKed).
        for (int offset = 0; offset < Total; offset += Piece) h.Inject(Data(offset));
        var received = new byte[Total + 1];
        int n = connection.Receive(received);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(n, Is.EqualTo(Total));
            Assert.That(received.AsSpan(0, n).SequenceEqual(data), Is.True, "byte-exact");
            Assert.That(connection.State, Is.EqualTo(TcpState.Established));
        }
    }

    private static long Counter(NetworkStack stack, string name) => stack.Statistics.TcpDetail.All().First(c => c.Name == name).Read();

    private static byte[] DataSegment(ushort srcPort, uint seq, uint ack, ReadOnlySpan<byte> payload)
    {
        var header = new TcpHeader(srcPort, 80, seq, ack, TcpFlags.Ack | TcpFlags.Psh, 65535, 0);
        var tcp = new byte[header.Length + payload.Length];
        header.WriteTo(tcp);
        payload.CopyTo(tcp.AsSpan(header.Length));
        TcpHeader.FillChecksum(tcp, Frames.PeerIp, Frames.StackIp);
        return Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Tcp, tcp);
    }
}
