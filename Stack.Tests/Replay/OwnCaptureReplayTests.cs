using TcpIpSharp.Capture;
using TcpIpSharp.Replay;
using TcpIpSharp.Tap.Commands;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Replay;

/// <summary>
/// Replays the project's own captures (Stack.Tests/Captures, recorded from Linux hosts) into a stack configured as
/// the responder b (192.0.2.2, 02:00:00:00:00:02) and compares its replies, field by field, with the ones the Linux
/// host sent: IP identification and IP checksum aside (they differ by design), every other field and byte equal.
/// ARP requests are left out on both sides: when Linux sends its own neighbour probes is a timing choice.
/// One documented difference: Linux sets DF on unfragmented UDP (its path MTU discovery, IP_PMTUDISC_WANT); the
/// stack does no path MTU discovery for UDP and so leaves DF clear, as lwIP does. DF is masked for UDP only.
/// </summary>
public class OwnCaptureReplayTests
{
    private static readonly MacAddress Responder = MacAddress.Parse("02:00:00:00:00:02");

    [TestCase("arp.pcap", 3)]
    [TestCase("ping.pcap", 6)]
    [TestCase("ping-frag.pcap", 10)]
    [TestCase("udp-echo.pcap", 10)]
    [TestCase("udp-closed.pcap", 2)]
    public void Stack_replies_equal_the_Linux_hosts_replies(string file, int expectedReplies)
    {
        var frames = CaptureFile.ReadEthernet(Path.Combine(TestPaths.OwnCaptures, file)).Frames;
        var linux = frames.Where(f => MacAddress.Read(f.Data.AsSpan(6)) == Responder).Select(f => f.Data).Where(IsNotArpRequest).ToList();
        var result = CaptureReplay.Run(frames, new ReplayOptions
        {
            Host = Ipv4Address.Parse("192.0.2.2"), PrefixLength = 24, Services = ReplayCommand.Services(["echo"]),
        });
        var ours = result.Sent.Select(f => f.Data).Where(IsNotArpRequest).ToList();

        Assert.That(linux, Has.Count.EqualTo(expectedReplies), "frames Linux sent in the capture");
        Assert.That(ours.Select(Describe), Is.EqualTo(linux.Select(Describe)), "the same replies in the same order");
        for (int i = 0; i < linux.Count; i++)
            Assert.That(Normalise(ours[i]), Is.EqualTo(Normalise(linux[i])), $"reply {i} ({Describe(linux[i])}) differs beyond IP id and checksum");
        Assert.That(result.Differences, Is.Empty, result.ToString());
    }

    private static bool IsNotArpRequest(byte[] frame)
    {
        EthernetFrame.TryParse(frame, out var eth);
        return !(eth.EtherType == EtherType.Arp && ArpPacket.TryParse(eth.Payload, out var arp) == WireError.None && arp.Operation == ArpOperation.Request);
    }

    private static string Describe(byte[] frame)
    {
        EthernetFrame.TryParse(frame, out var eth);
        if (eth.EtherType == EtherType.Arp) return "arp";
        if (Ipv4Packet.TryParse(eth.Payload, out var ip) != WireError.None) return "bad";
        return $"{ip.Protocol} {ip.Source}->{ip.Destination} len {ip.TotalLength} off {ip.FragmentOffset}{(ip.MoreFragments ? " MF" : "")}";
    }

    // Zeroes the IP identification and header checksum; Linux pads short frames to 60 bytes on a veth, so padding goes too.
    private static byte[] Normalise(byte[] frame)
    {
        EthernetFrame.TryParse(frame, out var eth);
        int length = frame.Length;
        if (eth.EtherType == EtherType.Arp) length = EthernetHeader.Size + ArpHeader.Size;
        else if (Ipv4Packet.TryParse(eth.Payload, out var ip) == WireError.None) length = EthernetHeader.Size + ip.TotalLength;
        var copy = frame[..length];
        if (eth.EtherType == EtherType.Ipv4)
        {
            copy[EthernetHeader.Size + 4] = copy[EthernetHeader.Size + 5] = 0;     // identification
            copy[EthernetHeader.Size + 10] = copy[EthernetHeader.Size + 11] = 0;   // header checksum
            if (copy[EthernetHeader.Size + 9] == (byte)IpProtocol.Udp) copy[EthernetHeader.Size + 6] &= 0xBF;   // DF, UDP only
        }
        return copy;
    }
}
