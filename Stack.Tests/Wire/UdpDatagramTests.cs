using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>smoltcp's four habits on a real UDP datagram (zeek chksums/ip4-udp-good-chksum.pcap).</summary>
public class UdpDatagramTests
{
    private static readonly Ipv4Address Localhost = Ipv4Address.Loopback;
    private static readonly UdpHeader Expected = new(30000, 13000, 12);
    private static byte[] DatagramBytes => RealFrames.Udp[34..];

    [Test]
    public void Deconstruct()
    {
        Assert.That(UdpDatagram.TryParse(DatagramBytes, out var udp), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(udp.SourcePort, Is.EqualTo((ushort)30000));
            Assert.That(udp.DestinationPort, Is.EqualTo((ushort)13000));
            Assert.That(udp.Length, Is.EqualTo((ushort)12));
            Assert.That(udp.Checksum, Is.EqualTo((ushort)0xa92a));
            Assert.That(udp.Payload.ToArray(), Is.EqualTo("XXXX"u8.ToArray()));
            Assert.That(udp.IsChecksumValid(Localhost, Localhost), Is.True);
            Assert.That(udp.IsChecksumValid(Localhost, Ipv4Address.Broadcast), Is.False, "the pseudo-header is part of the sum");
        }
    }

    [Test]
    public void Zero_checksum_means_none()
    {
        byte[] bytes = DatagramBytes;
        bytes[6] = bytes[7] = 0;
        Assert.That(UdpDatagram.TryParse(bytes, out var udp), Is.EqualTo(WireError.None));
        Assert.That(udp.IsChecksumValid(Localhost, Localhost), Is.True);
    }

    [Test]
    public void Construct_frame_from_its_layers()
    {
        byte[] expected = RealFrames.Udp;
        var buffer = new byte[expected.Length];
        int n = new EthernetHeader(MacAddress.Broadcast, MacAddress.Zero, EtherType.Ipv4).WriteTo(buffer);
        n += new Ipv4Header(Localhost, Localhost, IpProtocol.Udp, 32, Identification: 1).WriteTo(buffer.AsSpan(n));
        var datagram = buffer.AsSpan(n);
        n += Expected.WriteTo(datagram);
        "XXXX"u8.CopyTo(buffer.AsSpan(n));
        UdpHeader.FillChecksum(datagram, Localhost, Localhost);
        Assert.That(buffer, Is.EqualTo(expected));
    }

    [Test]
    public void Parse_to_header_record()
    {
        Assert.That(UdpDatagram.TryParse(DatagramBytes, out var udp), Is.EqualTo(WireError.None));
        Assert.That(UdpHeader.From(udp), Is.EqualTo(Expected));
    }

    [Test]
    public void Emit_header_record()
    {
        var buffer = new byte[UdpHeader.Size];
        Assert.That(Expected.WriteTo(buffer), Is.EqualTo(UdpHeader.Size));
        Assert.That(buffer[..6], Is.EqualTo(DatagramBytes[..6]));
        Assert.That(buffer[6..], Is.EqualTo(new byte[2]), "checksum left for FillChecksum");
    }

    [Test]
    public void Computed_zero_checksum_is_sent_as_all_ones()
    {
        // RFC 768: a checksum that computes to 0 is transmitted as 0xFFFF. Find a payload whose sum is 0.
        var datagram = new byte[10];
        new UdpHeader(1, 2, 10).WriteTo(datagram);
        var a = new Ipv4Address(0);
        for (int w = 0; w <= 0xFFFF; w++)
        {
            datagram[8] = (byte)(w >> 8);
            datagram[9] = (byte)w;
            datagram[6] = datagram[7] = 0;
            if (InternetChecksum.ComputeTransport(a, a, IpProtocol.Udp, datagram) != 0) continue;
            UdpHeader.FillChecksum(datagram, a, a);
            Assert.That(datagram[6..8], Is.EqualTo(new byte[] { 0xFF, 0xFF }));
            Assert.That(UdpDatagram.TryParse(datagram, out var udp), Is.EqualTo(WireError.None));
            Assert.That(udp.IsChecksumValid(a, a), Is.True);
            return;
        }
        Assert.Fail("no payload word gives a zero checksum");
    }
}
