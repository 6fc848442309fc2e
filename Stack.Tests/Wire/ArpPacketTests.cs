using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>smoltcp's four habits on a real ARP request (zeek communityid/arp.pcap frame 1).</summary>
public class ArpPacketTests
{
    private static readonly ArpHeader Expected = new(ArpOperation.Request,
        MacAddress.Parse("00:b0:4a:2e:1c:38"), Ipv4Address.Parse("192.150.187.1"),
        MacAddress.Zero, Ipv4Address.Parse("192.150.187.20"));

    private static byte[] ArpBytes => RealFrames.ArpRequest[14..42];

    [Test]
    public void Deconstruct()
    {
        Assert.That(ArpPacket.TryParse(RealFrames.ArpRequest.AsSpan(14), out var arp), Is.EqualTo(WireError.None), "padding after the packet is allowed");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(arp.Operation, Is.EqualTo(ArpOperation.Request));
            Assert.That(arp.SenderHardwareAddress.ToString(), Is.EqualTo("00:b0:4a:2e:1c:38"));
            Assert.That(arp.SenderProtocolAddress.ToString(), Is.EqualTo("192.150.187.1"));
            Assert.That(arp.TargetHardwareAddress, Is.EqualTo(MacAddress.Zero));
            Assert.That(arp.TargetProtocolAddress.ToString(), Is.EqualTo("192.150.187.20"));
        }
    }

    [Test]
    public void Construct_frame_from_its_layers()
    {
        byte[] expected = RealFrames.ArpRequest;
        var buffer = new byte[EthernetHeader.MinimumFrameSize];   // zero padding to the 60-byte minimum, as captured
        int n = new EthernetHeader(MacAddress.Broadcast, Expected.SenderHardwareAddress, EtherType.Arp).WriteTo(buffer);
        n += Expected.WriteTo(buffer.AsSpan(n));
        Assert.That(n, Is.EqualTo(42));
        Assert.That(buffer, Is.EqualTo(expected));
    }

    [Test]
    public void Parse_to_header_record()
    {
        Assert.That(ArpPacket.TryParse(ArpBytes, out var arp), Is.EqualTo(WireError.None));
        Assert.That(ArpHeader.From(arp), Is.EqualTo(Expected));
    }

    [Test]
    public void Emit_header_record()
    {
        var buffer = new byte[ArpHeader.Size];
        Assert.That(Expected.WriteTo(buffer), Is.EqualTo(ArpHeader.Size));
        Assert.That(buffer, Is.EqualTo(ArpBytes));
    }
}
