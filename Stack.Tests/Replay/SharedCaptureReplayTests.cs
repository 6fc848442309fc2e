using TcpIpSharp.Capture;
using TcpIpSharp.Replay;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Replay;

/// <summary>
/// Replays the shared corpus's echo captures into a stack configured as the host that answered them: its address and
/// MAC. The captures hold no ARP: the replay answers the stack's ARP requests with the MAC each requester's frames came
/// from. Only the requests go in. Each echo reply must equal the recorded one in its Ethernet addresses, IP addresses
/// and whole ICMP message (IP id, TTL and IP checksum differ by host).
/// </summary>
public class SharedCaptureReplayTests
{
    [TestCase("zeek/testing/btest/Traces/icmp/5-pings.pcap", 5)]
    [TestCase("packetnet/Test/CaptureFiles/ICMPv4.pcap", 3)]
    public void Echo_replies_equal_the_recorded_ones(string relative, int replies)
    {
        string path = Path.Combine(TestPaths.RequireSharedCaptures(), relative);
        var frames = CaptureFile.ReadEthernet(path).Frames;
        var requests = frames.Where(f => Kind(f.Data) == IcmpType.EchoRequest).ToList();
        var recorded = frames.Where(f => Kind(f.Data) == IcmpType.EchoReply).Select(f => f.Data).ToList();
        Assert.That(recorded, Has.Count.EqualTo(replies));

        Ipv4Address responder = Ip(requests[0].Data, destination: true);
        // No ARP in these captures: the replay answers the stack's ARP requests with the MACs the capture shows.
        var result = CaptureReplay.Run(requests, new ReplayOptions { Host = responder, HostMac = MacAddress.Read(requests[0].Data) });
        var ours = result.Sent.Select(f => f.Data).Where(f => Kind(f) == IcmpType.EchoReply).ToList();
        Assert.That(result.NeighbourAnswers, Is.Not.Empty, "the replay answered the stack's ARP request from the capture");

        Assert.That(ours, Has.Count.EqualTo(recorded.Count));
        for (int i = 0; i < ours.Count; i++)
        {
            Assert.That(ours[i].AsSpan(0, 12).SequenceEqual(recorded[i].AsSpan(0, 12)), Is.True, $"reply {i}: Ethernet addresses");
            Assert.That((Ip(ours[i], false), Ip(ours[i], true)), Is.EqualTo((Ip(recorded[i], false), Ip(recorded[i], true))), $"reply {i}: IP addresses");
            Assert.That(Icmp(ours[i]), Is.EqualTo(Icmp(recorded[i])), $"reply {i}: the ICMP message");
        }
    }

    private static IcmpType? Kind(byte[] frame)
    {
        if (EthernetFrame.TryParse(frame, out var eth) != WireError.None || eth.EtherType != EtherType.Ipv4) return null;
        if (Ipv4Packet.TryParse(eth.Payload, out var ip) != WireError.None || ip.Protocol != IpProtocol.Icmp) return null;
        return IcmpPacket.TryParse(ip.Payload, out var icmp) == WireError.None ? icmp.Type : null;
    }

    private static Ipv4Address Ip(byte[] frame, bool destination)
    {
        EthernetFrame.TryParse(frame, out var eth);
        Ipv4Packet.TryParse(eth.Payload, out var ip);
        return destination ? ip.Destination : ip.Source;
    }

    private static byte[] Icmp(byte[] frame)
    {
        EthernetFrame.TryParse(frame, out var eth);
        Ipv4Packet.TryParse(eth.Payload, out var ip);
        return ip.Payload.ToArray();
    }
}
