using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

public class ArpTests
{
    private static readonly Ipv4Address Absent = Ipv4Address.Parse("192.0.2.99");

    [Test]
    public void Announces_itself_with_a_gratuitous_arp_when_it_comes_up()
    {
        var (a, b) = TcpIpSharp.Links.InMemoryLink.CreatePair();
        using var stack = new NetworkStack(a, new NetworkStackOptions { MacAddress = Frames.StackMac, Address = Frames.StackIp });
        stack.Poll(TimeSpan.Zero);
        var buffer = new byte[100];
        int n = b.TryReceive(buffer);
        Assert.That(n, Is.EqualTo(42));
        Assert.That(EthernetFrame.TryParse(buffer.AsSpan(0, n), out var eth), Is.EqualTo(WireError.None));
        Assert.That(ArpPacket.TryParse(eth.Payload, out var arp), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(eth.Destination, Is.EqualTo(MacAddress.Broadcast));
            Assert.That(arp.SenderProtocolAddress, Is.EqualTo(Frames.StackIp));
            Assert.That(arp.TargetProtocolAddress, Is.EqualTo(Frames.StackIp));
        }
    }

    [Test]
    public void Answers_a_request_for_its_address_and_learns_the_asker()
    {
        using var h = new StackHarness();
        h.Inject(Frames.Arp(ArpOperation.Request, Frames.PeerMac, Frames.PeerIp, MacAddress.Zero, Frames.StackIp));
        var sent = h.Drain();
        Assert.That(sent, Has.Count.EqualTo(1));
        EthernetFrame.TryParse(sent[0], out var eth);
        ArpPacket.TryParse(eth.Payload, out var reply);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.Operation, Is.EqualTo(ArpOperation.Reply));
            Assert.That(reply.SenderHardwareAddress, Is.EqualTo(Frames.StackMac));
            Assert.That(reply.TargetHardwareAddress, Is.EqualTo(Frames.PeerMac));
            Assert.That(eth.Destination, Is.EqualTo(Frames.PeerMac));
            Assert.That(h.Stack.Interface.Arp.TryLookup(Frames.PeerIp, h.Clock.Now, out var mac) && mac == Frames.PeerMac, Is.True);
        }
    }

    [Test]
    public void Ignores_requests_for_other_addresses()
    {
        using var h = new StackHarness();
        h.Inject(Frames.Arp(ArpOperation.Request, Frames.PeerMac, Frames.PeerIp, MacAddress.Zero, Absent));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Drain(), Is.Empty);
            Assert.That(h.Stack.Statistics.Drops(DropReason.ArpNotForUs), Is.EqualTo(1));
            Assert.That(h.Stack.Interface.Arp.Find(Frames.PeerIp), Is.EqualTo(-1));
        }
    }

    [Test]
    public void Requests_are_rate_limited_retried_a_bounded_number_of_times_then_queued_frames_are_dropped()
    {
        using var h = new StackHarness();
        var udp = h.Stack.OpenUdp(5000);
        for (int i = 0; i < 5; i++) Assert.That(udp.SendTo([1, 2, 3], Absent, 9), Is.EqualTo(NetError.None));
        h.Stack.Poll(h.Clock.Now);
        var requestTimes = new List<TimeSpan>();
        for (int ms = 0; ms <= 6000; ms += 50)
        {
            foreach (var f in h.Drain())
            {
                EthernetFrame.TryParse(f, out var eth);
                Assert.That(eth.EtherType, Is.EqualTo(EtherType.Arp), "nothing but ARP may leave while unresolved");
                requestTimes.Add(h.Clock.Now);
            }
            h.Clock.Advance(TimeSpan.FromMilliseconds(50));
            h.Stack.Poll(h.Clock.Now);
        }
        Assert.That(requestTimes, Has.Count.EqualTo(3), "three attempts");
        for (int i = 1; i < requestTimes.Count; i++)
            Assert.That(requestTimes[i] - requestTimes[i - 1], Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(1)), "at most one request per second");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Stack.Statistics.Drops(DropReason.ArpResolutionFailed), Is.EqualTo(5));
            Assert.That(h.Stack.Interface.Arp.QueuedFrames, Is.Zero);
            Assert.That(h.Stack.Interface.Arp.Find(Absent), Is.EqualTo(-1));
        }
    }

    [Test]
    public void The_queue_per_address_is_bounded_and_flushed_in_order_on_the_reply()
    {
        using var h = new StackHarness();
        var udp = h.Stack.OpenUdp(5000);
        for (int i = 0; i < 100; i++) udp.SendTo([(byte)i], Frames.PeerIp, 9);
        Assert.That(h.Stack.Statistics.Drops(DropReason.ArpQueueFull), Is.EqualTo(100 - 64));
        Assert.That(h.Drain(), Has.Count.EqualTo(1), "one request");
        h.Inject(Frames.Arp(ArpOperation.Reply, Frames.PeerMac, Frames.PeerIp, Frames.StackMac, Frames.StackIp));
        var flushed = h.Drain();
        Assert.That(flushed, Has.Count.EqualTo(64));
        for (int i = 0; i < flushed.Count; i++)
        {
            EthernetFrame.TryParse(flushed[i], out var eth);
            Ipv4Packet.TryParse(eth.Payload, out var ip);
            UdpDatagram.TryParse(ip.Payload, out var d);
            Assert.That(eth.Destination, Is.EqualTo(Frames.PeerMac));
            Assert.That(d.Payload[0], Is.EqualTo(i), "in order");
        }
        Assert.That(h.Stack.Interface.Arp.QueuedFrames, Is.Zero);
    }

    [Test]
    public void Entries_expire_and_are_refreshed_by_unicast_while_in_use()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var udp = h.Stack.OpenUdp(5000);
        h.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(10));   // inside the refresh window
        udp.SendTo([1], Frames.PeerIp, 9);
        var sent = h.Drain();
        Assert.That(sent, Has.Count.EqualTo(2), "the datagram and a refresh");
        EthernetFrame.TryParse(sent[0], out var refresh);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(refresh.EtherType, Is.EqualTo(EtherType.Arp));
            Assert.That(refresh.Destination, Is.EqualTo(Frames.PeerMac), "unicast refresh");
        }
        h.Advance(TimeSpan.FromSeconds(11));
        Assert.That(h.Stack.Interface.Arp.Find(Frames.PeerIp), Is.EqualTo(-1), "expired without an answer");
    }

    [Test]
    public void A_conflicting_claim_to_our_address_is_reported_and_defended_once()
    {
        using var h = new StackHarness();
        var intruder = MacAddress.Parse("02:00:00:00:00:66");
        var seen = new List<MacAddress>();
        h.Stack.AddressConflict += (_, mac) => seen.Add(mac);
        h.Inject(Frames.Arp(ArpOperation.Request, intruder, Frames.StackIp, MacAddress.Zero, Frames.StackIp));
        var defence = h.Drain();
        h.Inject(Frames.Arp(ArpOperation.Reply, intruder, Frames.StackIp, MacAddress.Zero, Frames.StackIp, MacAddress.Broadcast));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(seen, Is.EqualTo(new[] { intruder, intruder }));
            Assert.That(h.Stack.Statistics.ArpConflicts, Is.EqualTo(2));
            Assert.That(defence, Has.Count.EqualTo(1), "one defending announcement");
            Assert.That(h.Drain(), Is.Empty, "no second defence within 10 s");
        }
    }
}
