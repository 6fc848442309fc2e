using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>smoltcp's four habits on a real IPv4 packet (zeek icmp/5-pings.pcap frame 1).</summary>
public class Ipv4PacketTests
{
    private static readonly Ipv4Header Expected = new(Ipv4Address.Parse("172.16.133.2"), Ipv4Address.Parse("172.217.11.78"),
        IpProtocol.Icmp, TotalLength: 84, Identification: 37994, TimeToLive: 64, DontFragment: true);

    private static byte[] PacketBytes => RealFrames.IcmpEchoRequest[14..];

    [Test]
    public void Deconstruct()
    {
        Assert.That(Ipv4Packet.TryParse(PacketBytes, out var ip), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ip.HeaderLength, Is.EqualTo(20));
            Assert.That(ip.TypeOfService, Is.Zero);
            Assert.That(ip.TotalLength, Is.EqualTo((ushort)84));
            Assert.That(ip.Identification, Is.EqualTo((ushort)37994));
            Assert.That(ip.DontFragment, Is.True);
            Assert.That(ip.MoreFragments, Is.False);
            Assert.That(ip.FragmentOffset, Is.Zero);
            Assert.That(ip.IsFragment, Is.False);
            Assert.That(ip.TimeToLive, Is.EqualTo((byte)64));
            Assert.That(ip.Protocol, Is.EqualTo(IpProtocol.Icmp));
            Assert.That(ip.Checksum, Is.EqualTo((ushort)0xbd04));
            Assert.That(ip.IsChecksumValid, Is.True);
            Assert.That(ip.Source.ToString(), Is.EqualTo("172.16.133.2"));
            Assert.That(ip.Destination.ToString(), Is.EqualTo("172.217.11.78"));
            Assert.That(ip.Options.Length, Is.Zero);
            Assert.That(ip.Payload.Length, Is.EqualTo(64));
        }
    }

    [Test]
    public void Deconstruct_fragment_fields()
    {
        // zeek ipv4/fragmented-1.pcap frame 2 header: id 242, offset field 6 (48 bytes), no MF, total length 136.
        byte[] header = RealFrames.Bytes("4500008800f2000640113a8aa4017ba3a4017b3d");
        var packet = new byte[136];
        header.CopyTo(packet, 0);
        Assert.That(Ipv4Packet.TryParse(packet, out var ip), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ip.FragmentOffset, Is.EqualTo(48));
            Assert.That(ip.MoreFragments, Is.False);
            Assert.That(ip.IsFragment, Is.True);
            Assert.That(ip.IsChecksumValid, Is.True);
        }
    }

    [Test]
    public void Options_are_honoured()
    {
        // IHL 6 with one 4-byte option (NOP NOP NOP EOL): the payload starts after it.
        byte[] packet = RealFrames.Bytes("4600001c000100004011000001020304050607080101010011112222");
        Assert.That(Ipv4Packet.TryParse(packet, out var ip), Is.EqualTo(WireError.None));
        Assert.That(ip.HeaderLength, Is.EqualTo(24));
        Assert.That(ip.Options.ToArray(), Is.EqualTo(new byte[] { 1, 1, 1, 0 }));
        Assert.That(ip.Payload.ToArray(), Is.EqualTo(new byte[] { 0x11, 0x11, 0x22, 0x22 }));
    }

    [Test]
    public void Link_padding_after_total_length_is_excluded()
    {
        Assert.That(Ipv4Packet.TryParse(RealFrames.ArpRequest.AsSpan(14), out _), Is.EqualTo(WireError.BadVersion), "ARP bytes are not IPv4");
        byte[] padded = [.. RealFrames.Udp[14..], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.That(Ipv4Packet.TryParse(padded, out var ip), Is.EqualTo(WireError.None));
        Assert.That(ip.Bytes.Length, Is.EqualTo(32));
        Assert.That(ip.Payload.Length, Is.EqualTo(12));
    }

    [Test]
    public void Construct_frame_from_its_layers()
    {
        byte[] expected = RealFrames.IcmpEchoRequest;
        var buffer = new byte[expected.Length];
        int n = new EthernetHeader(MacAddress.Parse("a6:83:e7:0c:90:64"), MacAddress.Parse("00:0c:29:cf:30:15"), EtherType.Ipv4).WriteTo(buffer);
        n += Expected.WriteTo(buffer.AsSpan(n));
        var icmp = buffer.AsSpan(n);
        n += IcmpHeader.Echo(IcmpType.EchoRequest, 1226, 1).WriteTo(icmp);
        expected.AsSpan(n).CopyTo(buffer.AsSpan(n));
        IcmpHeader.FillChecksum(icmp);
        Assert.That(buffer, Is.EqualTo(expected), "the IPv4 and ICMP checksums computed here equal the captured ones");
    }

    [Test]
    public void Parse_to_header_record()
    {
        Assert.That(Ipv4Packet.TryParse(PacketBytes, out var ip), Is.EqualTo(WireError.None));
        Assert.That(Ipv4Header.From(ip), Is.EqualTo(Expected));
    }

    [Test]
    public void Emit_header_record()
    {
        var buffer = new byte[Ipv4Header.MinimumSize];
        Assert.That(Expected.WriteTo(buffer), Is.EqualTo(Ipv4Header.MinimumSize));
        Assert.That(buffer, Is.EqualTo(PacketBytes[..20]), "checksum 0xbd04 included");
    }
}
