using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>smoltcp's four habits on real frames: deconstruct, construct, parse, emit.</summary>
public class EthernetFrameTests
{
    private static readonly MacAddress ArpSender = MacAddress.Parse("00:b0:4a:2e:1c:38");
    private static readonly MacAddress VlanSender = MacAddress.Parse("ab:cd:ef:01:02:04");

    [Test]
    public void Deconstruct_untagged()
    {
        byte[] bytes = RealFrames.ArpRequest;
        Assert.That(EthernetFrame.TryParse(bytes, out var frame), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(frame.Destination, Is.EqualTo(MacAddress.Broadcast));
            Assert.That(frame.Source, Is.EqualTo(ArpSender));
            Assert.That(frame.EtherType, Is.EqualTo(EtherType.Arp));
            Assert.That(frame.IsTagged, Is.False);
            Assert.That(frame.TagProtocol, Is.Zero);
            Assert.That(frame.VlanTci, Is.Zero);
            Assert.That(frame.HeaderLength, Is.EqualTo(14));
            Assert.That(frame.Payload.Length, Is.EqualTo(46), "ARP and the link padding");
            Assert.That(frame.Bytes.Length, Is.EqualTo(60));
        }
    }

    [Test]
    public void Deconstruct_tagged()
    {
        byte[] bytes = RealFrames.VlanArpRequest;
        Assert.That(EthernetFrame.TryParse(bytes, out var frame), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(frame.Destination, Is.EqualTo(MacAddress.Broadcast));
            Assert.That(frame.Source, Is.EqualTo(VlanSender));
            Assert.That(frame.IsTagged, Is.True);
            Assert.That(frame.TagProtocol, Is.EqualTo((ushort)EtherType.Vlan));
            Assert.That(frame.VlanTci, Is.EqualTo((ushort)2));
            Assert.That(frame.VlanId, Is.EqualTo((ushort)2));
            Assert.That(frame.EtherType, Is.EqualTo(EtherType.Arp));
            Assert.That(frame.HeaderLength, Is.EqualTo(18));
            Assert.That(frame.Payload.ToArray(), Is.EqualTo(bytes[18..]));
        }
    }

    [Test]
    public void Construct_tagged_frame_from_its_layers()
    {
        byte[] expected = RealFrames.VlanArpRequest;
        var buffer = new byte[expected.Length];
        int n = new EthernetHeader(MacAddress.Broadcast, VlanSender, EtherType.Arp, VlanTci: 2).WriteTo(buffer);
        n += new ArpHeader(ArpOperation.Request, VlanSender, Ipv4Address.Parse("192.168.42.2"),
            MacAddress.Broadcast, Ipv4Address.Parse("192.168.42.1")).WriteTo(buffer.AsSpan(n));
        Assert.That(n, Is.EqualTo(expected.Length));
        Assert.That(buffer, Is.EqualTo(expected));
    }

    [Test]
    public void Parse_to_header_record()
    {
        Assert.That(EthernetFrame.TryParse(RealFrames.ArpRequest, out var untagged), Is.EqualTo(WireError.None));
        Assert.That(EthernetHeader.From(untagged), Is.EqualTo(new EthernetHeader(MacAddress.Broadcast, ArpSender, EtherType.Arp)));
        Assert.That(EthernetFrame.TryParse(RealFrames.VlanArpRequest, out var tagged), Is.EqualTo(WireError.None));
        Assert.That(EthernetHeader.From(tagged), Is.EqualTo(new EthernetHeader(MacAddress.Broadcast, VlanSender, EtherType.Arp, 2)));
    }

    [Test]
    public void Emit_header_record()
    {
        var buffer = new byte[EthernetHeader.TaggedSize];
        var untagged = new EthernetHeader(MacAddress.Broadcast, ArpSender, EtherType.Arp);
        Assert.That(untagged.WriteTo(buffer), Is.EqualTo(EthernetHeader.Size));
        Assert.That(untagged.Length, Is.EqualTo(EthernetHeader.Size));
        Assert.That(buffer[..14], Is.EqualTo(RealFrames.ArpRequest[..14]));

        var tagged = new EthernetHeader(MacAddress.Broadcast, VlanSender, EtherType.Arp, 2);
        Assert.That(tagged.WriteTo(buffer), Is.EqualTo(EthernetHeader.TaggedSize));
        Assert.That(tagged.Length, Is.EqualTo(EthernetHeader.TaggedSize));
        Assert.That(buffer, Is.EqualTo(RealFrames.VlanArpRequest[..18]));
    }

    [Test]
    public void Service_tag_is_written_back_as_it_came()
    {
        // tcpdump arp-too-long-tha.pcap: an 802.1ad (0x88a8) tag, VLAN 48 with priority 1 and DEI.
        byte[] header = RealFrames.Bytes("303030303030303030303030" + "88a83030" + "0806");
        Assert.That(EthernetFrame.TryParse(header, out var frame), Is.EqualTo(WireError.None));
        var record = EthernetHeader.From(frame);
        Assert.That(record.TagProtocol, Is.EqualTo((ushort)EtherType.ServiceVlan));
        Assert.That(record.VlanTci, Is.EqualTo((ushort)0x3030));
        var buffer = new byte[EthernetHeader.TaggedSize];
        Assert.That(record.WriteTo(buffer), Is.EqualTo(EthernetHeader.TaggedSize));
        Assert.That(buffer, Is.EqualTo(header));
    }
}
