using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

public class IcmpUdpTests
{
    private static IcmpPacket ParseIcmp(byte[] frame, out Ipv4Packet ip)
    {
        Assert.That(EthernetFrame.TryParse(frame, out var eth), Is.EqualTo(WireError.None));
        Assert.That(Ipv4Packet.TryParse(eth.Payload, out ip), Is.EqualTo(WireError.None));
        Assert.That(IcmpPacket.TryParse(ip.Payload, out var icmp), Is.EqualTo(WireError.None));
        return icmp;
    }

    [Test]
    public void Echo_request_gets_an_echo_reply_with_the_same_data()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var request = Frames.EchoMessage(IcmpType.EchoRequest, 0x1234, 7, 56);
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, request));
        var sent = h.Drain();
        Assert.That(sent, Has.Count.EqualTo(1));
        var icmp = ParseIcmp(sent[0], out var ip);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ip.Destination, Is.EqualTo(Frames.PeerIp));
            Assert.That(ip.IsChecksumValid, Is.True);
            Assert.That(icmp.Type, Is.EqualTo(IcmpType.EchoReply));
            Assert.That(icmp.Identifier, Is.EqualTo(0x1234));
            Assert.That(icmp.SequenceNumber, Is.EqualTo(7));
            Assert.That(icmp.IsChecksumValid, Is.True);
            Assert.That(icmp.Data.SequenceEqual(request.AsSpan(8)), Is.True);
        }
    }

    [Test]
    public void Udp_to_a_closed_port_gets_port_unreachable_quoting_the_header_and_data()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var udp = Frames.UdpMessage(Frames.PeerIp, Frames.StackIp, 40000, 9999, "hello"u8);
        var offending = Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, udp);
        h.Inject(offending);
        var sent = h.Drain();
        Assert.That(sent, Has.Count.EqualTo(1));
        var icmp = ParseIcmp(sent[0], out _);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(icmp.Type, Is.EqualTo(IcmpType.DestinationUnreachable));
            Assert.That(icmp.Code, Is.EqualTo(3));
            Assert.That(icmp.IsChecksumValid, Is.True);
            Assert.That(icmp.Data.SequenceEqual(offending.AsSpan(EthernetHeader.Size)), Is.True, "the whole short datagram is quoted");
            Assert.That(h.Stack.Statistics.Drops(DropReason.UdpNoEndpoint), Is.EqualTo(1));
        }
    }

    [Test]
    public void No_port_unreachable_for_broadcast_and_the_errors_are_rate_limited()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var bcast = Ipv4Address.Parse("192.0.2.255");
        h.Inject(Frames.Ipv4(Frames.PeerIp, bcast, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, bcast, 1, 9999, [1]), dstMac: MacAddress.Broadcast));
        Assert.That(h.Drain(), Is.Empty);
        for (int i = 0; i < 200; i++)
            h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Frames.StackIp, 1, 9999, [1])));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Drain(), Has.Count.EqualTo(50), "the burst");
            Assert.That(h.Stack.Statistics.Drops(DropReason.IcmpRateLimited), Is.EqualTo(150));
        }
    }

    [Test]
    public void Unknown_protocol_gets_protocol_unreachable()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, (IpProtocol)253, new byte[12]));
        var icmp = ParseIcmp(h.Drain().Single(), out _);
        Assert.That((icmp.Type, icmp.Code), Is.EqualTo((IcmpType.DestinationUnreachable, (byte)2)));
    }

    [Test]
    public void Udp_is_delivered_by_port_with_the_sender_and_broadcast_is_accepted()
    {
        using var h = new StackHarness();
        var a = h.Stack.OpenUdp(7);
        var b = h.Stack.OpenUdp(8);
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Frames.StackIp, 1234, 8, "to-b"u8)));
        h.Inject(Frames.Ipv4(Frames.PeerIp, Ipv4Address.Broadcast, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Ipv4Address.Broadcast, 1235, 7, "all"u8), dstMac: MacAddress.Broadcast));
        var buffer = new byte[100];
        Assert.That(b.Receive(buffer, out var from, out var port), Is.EqualTo(4));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(buffer[..4], Is.EqualTo("to-b"u8.ToArray()));
            Assert.That((from, port), Is.EqualTo(((IpAddress)Frames.PeerIp, (ushort)1234)));
            Assert.That(a.Receive(buffer, out _, out var p2), Is.EqualTo(3));
            Assert.That(p2, Is.EqualTo(1235));
            Assert.That(a.Receive(buffer, out _, out _), Is.EqualTo(-1));
        }
    }

    [Test]
    public void A_bad_udp_checksum_is_counted_and_dropped()
    {
        using var h = new StackHarness();
        var a = h.Stack.OpenUdp(7);
        var udp = Frames.UdpMessage(Frames.PeerIp, Frames.StackIp, 1, 7, "x"u8);
        udp[^1] ^= 0xFF;
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, udp));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(a.QueuedDatagrams, Is.Zero);
            Assert.That(h.Stack.Statistics.Drops(DropReason.UdpBadChecksum), Is.EqualTo(1));
            Assert.That(h.Stack.Statistics.Udp.Errors, Is.EqualTo(1));
        }
    }

    [Test]
    public void Binding_a_bound_port_fails_and_ephemeral_ports_are_random_distinct_and_in_range()
    {
        using var h = new StackHarness();
        h.Stack.OpenUdp(7);
        Assert.That(h.Stack.OpenUdp(7, out _), Is.EqualTo(NetError.AddressInUse));
        var ports = new HashSet<ushort>();
        var buckets = new int[8];
        for (int i = 0; i < 800; i++)
        {
            var e = h.Stack.OpenUdp();
            Assert.That(e.LocalPort, Is.InRange(49152, 65535));
            Assert.That(ports.Add(e.LocalPort), Is.True);
            buckets[(e.LocalPort - 49152) * 8 / 16384]++;
        }
        // Spread: each eighth of the range gets a share (100 expected; a sequential allocator would fill one bucket).
        Assert.That(buckets, Has.All.InRange(50, 160));
    }

    [Test]
    public void Port_unreachable_reaches_the_sending_endpoint_as_connection_refused()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var e = h.Stack.OpenUdp(5555);
        e.SendTo("q"u8, Frames.PeerIp, 53);
        var sent = h.Drain().Single();
        // The peer answers with port unreachable quoting what we sent.
        var quote = sent.AsSpan(EthernetHeader.Size).ToArray();
        var icmp = new byte[IcmpHeader.Size + quote.Length];
        new IcmpHeader(IcmpType.DestinationUnreachable, 3).WriteTo(icmp);
        quote.CopyTo(icmp, IcmpHeader.Size);
        IcmpHeader.FillChecksum(icmp);
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, icmp));
        Assert.That(e.TakeError(), Is.EqualTo(NetError.ConnectionRefused));
        Assert.That(e.TakeError(), Is.EqualTo(NetError.None));
    }

    [Test]
    public void Routing_on_link_goes_direct_off_link_through_the_gateway_and_without_one_fails()
    {
        using var h = new StackHarness();
        var e = h.Stack.OpenUdp(5555);
        e.SendTo("x"u8, Ipv4Address.Parse("192.0.2.77"), 9);
        e.SendTo("y"u8, Ipv4Address.Parse("198.51.100.7"), 9);
        var asked = h.Drain().Select(f => { EthernetFrame.TryParse(f, out var eth); ArpPacket.TryParse(eth.Payload, out var arp); return arp.TargetProtocolAddress; }).ToList();
        Assert.That(asked, Is.EqualTo(new[] { Ipv4Address.Parse("192.0.2.77"), Ipv4Address.Parse("192.0.2.254") }));

        using var noGateway = new StackHarness(new NetworkStackOptions { MacAddress = Frames.StackMac, Address = Frames.StackIp });
        var e2 = noGateway.Stack.OpenUdp(5555);
        Assert.That(e2.SendTo("y"u8, Ipv4Address.Parse("198.51.100.7"), 9), Is.EqualTo(NetError.HostUnreachable));
    }

    [Test]
    public void Large_udp_is_fragmented_to_the_mtu()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var e = h.Stack.OpenUdp(5555);
        var payload = new byte[8000];
        new Random(3).NextBytes(payload);
        Assert.That(e.SendTo(payload, Frames.PeerIp, 7), Is.EqualTo(NetError.None));
        var frames = h.Drain();
        Assert.That(frames, Has.Count.EqualTo(6));
        Assert.That(frames.Max(f => f.Length), Is.EqualTo(1514));
        Assert.That(e.SendTo(new byte[65508], Frames.PeerIp, 7), Is.EqualTo(NetError.MessageTooLong));
    }

    [Test]
    public void Frames_for_other_hosts_and_bad_headers_are_counted_by_reason()
    {
        using var h = new StackHarness();
        var other = MacAddress.Parse("02:00:00:00:00:99");
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, new byte[8], dstMac: other));
        h.Inject(Frames.Ipv4(Frames.PeerIp, Ipv4Address.Parse("192.0.2.3"), IpProtocol.Udp, new byte[8]));
        var bad = Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, new byte[8]);
        bad[EthernetHeader.Size + 10] ^= 1;
        h.Inject(bad);
        h.Inject(new byte[10]);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Stack.Statistics.Drops(DropReason.EthernetNotForUs), Is.EqualTo(1));
            Assert.That(h.Stack.Statistics.Drops(DropReason.Ipv4NotForUs), Is.EqualTo(1));
            Assert.That(h.Stack.Statistics.Drops(DropReason.Ipv4BadChecksum), Is.EqualTo(1));
            Assert.That(h.Stack.Statistics.Drops(DropReason.EthernetMalformed), Is.EqualTo(1));
            Assert.That(h.Drain(), Is.Empty);
        }
    }
}
