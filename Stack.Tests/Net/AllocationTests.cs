using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

public class AllocationTests
{
    [Test]
    public void The_packet_path_allocates_nothing_after_warm_up()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var echoServer = h.Stack.OpenUdp(7);
        var arpRequest = Frames.Arp(ArpOperation.Request, Frames.PeerMac, Frames.PeerIp, MacAddress.Zero, Frames.StackIp);
        var ping = Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, Frames.EchoMessage(IcmpType.EchoRequest, 1, 1, 56));
        var udp = Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Frames.StackIp, 4000, 7, new byte[512]));
        var fragmented = Frames.Fragments(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, Frames.EchoMessage(IcmpType.EchoRequest, 1, 2, 3000), 1480, 77);
        // IGMP (issue 17): in a group, a v3 general query with a zero maximum response time is answered by the next poll.
        h.Stack.JoinMulticast(Ipv4Address.Parse("239.1.2.3"));
        var igmpQuery = IgmpTests.Query(3, 0, Ipv4Address.Any, source: Ipv4Address.Any);
        var buffer = new byte[2048];
        var sink = new byte[70000];

        void Round()
        {
            h.Peer.TrySend(arpRequest);
            h.Peer.TrySend(ping);
            h.Peer.TrySend(udp);
            foreach (var f in fragmented) h.Peer.TrySend(f);
            h.Peer.TrySend(igmpQuery);
            h.Stack.Poll(h.Clock.Now);
            h.Stack.Poll(h.Clock.Now);   // the query's answer
            while (echoServer.Receive(buffer, out var from, out var port) is int n && n >= 0)
                echoServer.SendTo(buffer.AsSpan(0, n), from, port);
            while (h.Peer.TryReceive(sink) > 0) { }
        }

        for (int i = 0; i < 200; i++) Round();   // warm-up (tiered JIT, dictionaries)
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            for (int i = 0; i < 10_000 / 7; i++) Round();   // 7 input frames a round: over 10,000 packets
        });

        Assert.That(allocated, Is.Zero, "bytes allocated on the packet path");
        Assert.That(h.Stack.Statistics.EchoRepliesSent, Is.GreaterThan(2 * 10_000 / 7));
        Assert.That(h.Stack.Statistics.Snapshot().First(kv => kv.Key == "igmp.reports_sent").Value, Is.GreaterThan(10_000 / 7), "every query answered");
    }

    [Test]
    public void The_meter_counts_what_a_window_allocates()
    {
        object? kept = null;
        long allocated = AllocationMeter.BytesAllocatedBy(() => kept = new byte[1000]);
        GC.KeepAlive(kept);
        Assert.That(allocated, Is.InRange(1000, 1100), "a 1,000-byte array and its header");
    }
}
