using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>smoltcp's four habits on a real IPv6 packet (kernel-ipv6.pcap frame 17: an echo request with a flow label), and the extension-header walk on real chains.</summary>
public class Ipv6PacketTests
{
    private static readonly Ipv6Header Expected = new(Ipv6Address.Parse("2001:db8::1"), Ipv6Address.Parse("2001:db8::2"), IpProtocol.Icmpv6, 64,
        HopLimit: 64, TrafficClass: 0, FlowLabel: 0x44102);

    private static byte[] PacketBytes => Ipv6Frames.Packet(Ipv6Frames.Kernel(17));

    [Test]
    public void Deconstruct()
    {
        Assert.That(Ipv6Packet.TryParse(PacketBytes, out var ip), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ip.Version, Is.EqualTo(6));
            Assert.That(ip.TrafficClass, Is.Zero);
            Assert.That(ip.FlowLabel, Is.EqualTo(0x44102u));
            Assert.That(ip.PayloadLength, Is.EqualTo((ushort)64));
            Assert.That(ip.NextHeader, Is.EqualTo(IpProtocol.Icmpv6));
            Assert.That(ip.HopLimit, Is.EqualTo((byte)64));
            Assert.That(ip.Source.ToString(), Is.EqualTo("2001:db8::1"));
            Assert.That(ip.Destination.ToString(), Is.EqualTo("2001:db8::2"));
            Assert.That(ip.Payload.Length, Is.EqualTo(64));
        }
    }

    [Test]
    public void Deconstruct_traffic_class()
    {
        // crafted-ipv6.pcap frame 13: traffic class 0xb8 (EF), flow label 0x12345.
        Assert.That(Ipv6Packet.TryParse(Ipv6Frames.Packet(Ipv6Frames.Crafted(13)), out var ip), Is.EqualTo(WireError.None));
        Assert.That(ip.TrafficClass, Is.EqualTo((byte)0xb8));
        Assert.That(ip.FlowLabel, Is.EqualTo(0x12345u));
    }

    [Test]
    public void Construct_frame_from_its_layers()
    {
        byte[] expected = Ipv6Frames.Kernel(17);
        var buffer = new byte[expected.Length];
        int n = new EthernetHeader(MacAddress.Parse("02:00:00:00:00:02"), MacAddress.Parse("02:00:00:00:00:01"), EtherType.Ipv6).WriteTo(buffer);
        n += Expected.WriteTo(buffer.AsSpan(n));
        var icmp = buffer.AsSpan(n);
        n += Icmpv6Header.Echo(Icmpv6Type.EchoRequest, 0x1578, 1).WriteTo(icmp);
        expected.AsSpan(n).CopyTo(buffer.AsSpan(n));
        Icmpv6Header.FillChecksum(icmp, Expected.Source, Expected.Destination);
        Assert.That(buffer, Is.EqualTo(expected), "the ICMPv6 checksum over the pseudo-header equals the kernel's");
    }

    [Test]
    public void Parse_to_header_record()
    {
        Assert.That(Ipv6Packet.TryParse(PacketBytes, out var ip), Is.EqualTo(WireError.None));
        Assert.That(Ipv6Header.From(ip), Is.EqualTo(Expected));
    }

    [Test]
    public void Emit_header_record()
    {
        var buffer = new byte[Ipv6Header.Size];
        Assert.That(Expected.WriteTo(buffer), Is.EqualTo(Ipv6Header.Size));
        Assert.That(buffer, Is.EqualTo(PacketBytes[..40]));
    }

    [Test]
    public void Link_padding_after_payload_length_is_excluded()
    {
        byte[] padded = [.. PacketBytes, 0, 0, 0, 0];
        Assert.That(Ipv6Packet.TryParse(padded, out var ip), Is.EqualTo(WireError.None));
        Assert.That(ip.Bytes.Length, Is.EqualTo(104));
    }

    [Test]
    public void Walk_of_a_plain_packet_finds_the_upper_layer_after_the_fixed_header()
    {
        Assert.That(Ipv6Packet.TryParse(PacketBytes, out var ip), Is.EqualTo(WireError.None));
        Assert.That(ip.TryWalkHeaders(out var chain), Is.EqualTo(WireError.None));
        Assert.That(chain, Is.EqualTo(new Ipv6HeaderChain
        {
            UpperLayerProtocol = IpProtocol.Icmpv6, UpperLayerOffset = 40, FragmentHeaderOffset = -1, ProblemPointer = -1, Action = Ipv6OptionAction.Skip,
        }));
    }

    [Test]
    public void Walk_reads_the_router_alert_of_a_real_mld_report()
    {
        Assert.That(Ipv6HeaderChain.TryWalk(Ipv6Frames.Packet(Ipv6Frames.Kernel(1)), out var chain), Is.EqualTo(WireError.None));
        Assert.That(chain.UpperLayerProtocol, Is.EqualTo(IpProtocol.Icmpv6));
        Assert.That(chain.UpperLayerOffset, Is.EqualTo(48));
        Assert.That(chain.ExtensionHeaderCount, Is.EqualTo(1));
        Assert.That(chain.RouterAlert, Is.EqualTo((ushort)0), "RFC 3810 5: MLD carries a router alert with value 0");
    }

    [Test]
    public void Walk_skips_padn_in_destination_options_and_a_routing_header_with_no_segments_left()
    {
        Assert.That(Ipv6HeaderChain.TryWalk(Ipv6Frames.Packet(Ipv6Frames.Kernel(35)), out var dstopt), Is.EqualTo(WireError.None));
        Assert.That((dstopt.UpperLayerProtocol, dstopt.UpperLayerOffset), Is.EqualTo((IpProtocol.Udp, 48)));
        Assert.That(Ipv6HeaderChain.TryWalk(Ipv6Frames.Packet(Ipv6Frames.Crafted(11)), out var routed), Is.EqualTo(WireError.None));
        Assert.That((routed.UpperLayerProtocol, routed.UpperLayerOffset, routed.ExtensionHeaderCount), Is.EqualTo((IpProtocol.Udp, 40 + 24 + 8, 2)));
    }

    [Test]
    public void Walk_reports_the_fragment_header_of_real_fragments()
    {
        var first = Ipv6Frames.Packet(Ipv6Frames.Kernel(21));
        Assert.That(Ipv6HeaderChain.TryWalk(first, out var chain), Is.EqualTo(WireError.None));
        Assert.That(chain.Fragment, Is.EqualTo(new Ipv6FragmentHeader(IpProtocol.Icmpv6, 0, true, 0x76da05e3)));
        Assert.That((chain.UpperLayerProtocol, chain.UpperLayerOffset, chain.FragmentHeaderOffset, chain.NeedsReassembly), Is.EqualTo((IpProtocol.Icmpv6, 48, 40, true)));

        Assert.That(Ipv6HeaderChain.TryWalk(Ipv6Frames.Packet(Ipv6Frames.Kernel(23)), out var last), Is.EqualTo(WireError.None));
        Assert.That(last.Fragment, Is.EqualTo(new Ipv6FragmentHeader(IpProtocol.Icmpv6, 2896, false, 0x76da05e3)));
        Assert.That(last.IsLaterFragment, Is.True, "the bytes after a later fragment's header are data, not headers");

        Assert.That(Ipv6HeaderChain.TryWalk(Ipv6Frames.Packet(Ipv6Frames.Crafted(12)), out var atomic), Is.EqualTo(WireError.None));
        Assert.That(atomic.Fragment!.Value.IsAtomic, Is.True, "RFC 6946: offset 0 and M clear");
        Assert.That(atomic.NeedsReassembly, Is.False);
    }

    [Test]
    public void Fragment_header_four_habits()
    {
        byte[] bytes = Ipv6Frames.Packet(Ipv6Frames.Kernel(22))[40..48];
        Assert.That(Ipv6FragmentHeader.TryParse(bytes, out var header), Is.EqualTo(WireError.None));
        Assert.That(header, Is.EqualTo(new Ipv6FragmentHeader(IpProtocol.Icmpv6, 1448, true, 0x76da05e3)));
        var buffer = new byte[Ipv6FragmentHeader.Size];
        Assert.That(header.WriteTo(buffer), Is.EqualTo(8));
        Assert.That(buffer, Is.EqualTo(bytes));
    }

    [Test]
    public void Router_alert_header_is_the_one_linux_sends()
    {
        var buffer = new byte[Ipv6RouterAlertHeader.Size];
        new Ipv6RouterAlertHeader(IpProtocol.Icmpv6).WriteTo(buffer);
        Assert.That(buffer, Is.EqualTo(Ipv6Frames.Packet(Ipv6Frames.Kernel(1))[40..48]));
    }
}
