using TcpIpSharp.Tap.Capture;
using TcpIpSharp.Tap.Commands;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Replay;

/// <summary>
/// Replays the shared corpus's echo captures into a stack configured as the host that answered them: its address and
/// MAC, with the requesters reached through a gateway whose MAC is the one the requests came from (an ARP request
/// from that gateway is put first, since the captures hold no ARP). Each echo reply must equal the recorded one in
/// its Ethernet addresses, IP addresses and whole ICMP message (IP id, TTL and IP checksum differ by host).
/// </summary>
public class SharedCaptureReplayTests
{
    [TestCase("zeek/testing/btest/Traces/icmp/5-pings.pcap", 5)]
    [TestCase("packetnet/Test/CaptureFiles/ICMPv4.pcap", 3)]
    public void Echo_replies_equal_the_recorded_ones(string relative, int replies)
    {
        string path = Path.Combine(TestPaths.RequireSharedCaptures(), relative);
        var frames = CaptureFile.ReadEthernet(path);
        var requests = frames.Where(f => Kind(f.Data) == IcmpType.EchoRequest).ToList();
        var recorded = frames.Where(f => Kind(f.Data) == IcmpType.EchoReply).Select(f => f.Data).ToList();
        Assert.That(recorded, Has.Count.EqualTo(replies));

        Ipv4Address responder = Ip(requests[0].Data, destination: true);
        MacAddress responderMac = MacAddress.Read(requests[0].Data), gatewayMac = MacAddress.Read(requests[0].Data.AsSpan(6));
        var gateway = new Ipv4Address((responder.Value & 0xFFFF_FF00) | 1);
        var arp = new byte[EthernetHeader.Size + ArpHeader.Size];
        new EthernetHeader(MacAddress.Broadcast, gatewayMac, EtherType.Arp).WriteTo(arp);
        new ArpHeader(ArpOperation.Request, gatewayMac, gateway, MacAddress.Zero, responder).WriteTo(arp.AsSpan(EthernetHeader.Size));
        var input = new List<CaptureFile.Frame> { new(requests[0].Time, arp) };
        input.AddRange(requests);

        var options = new NetworkStackOptions { Address = responder, PrefixLength = 24, Gateway = gateway, MacAddress = responderMac };
        var ours = ReplayCommand.Replay(input, options, []).Select(f => f.Data).Where(f => Kind(f) == IcmpType.EchoReply).ToList();

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
