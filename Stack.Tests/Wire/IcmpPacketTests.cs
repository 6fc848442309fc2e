using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>smoltcp's four habits on a real echo request (zeek icmp/5-pings.pcap frame 1) and a real port unreachable with its quote (zeek icmp/icmp-destunreach-udp.pcap).</summary>
public class IcmpPacketTests
{
    private static byte[] EchoBytes => RealFrames.IcmpEchoRequest[34..];
    private static byte[] UnreachableBytes => RealFrames.IcmpPortUnreachable[34..190];   // the 4 bytes after Total Length are link trailer

    [Test]
    public void Deconstruct_echo()
    {
        Assert.That(IcmpPacket.TryParse(EchoBytes, out var icmp), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(icmp.Type, Is.EqualTo(IcmpType.EchoRequest));
            Assert.That(icmp.Code, Is.Zero);
            Assert.That(icmp.Checksum, Is.EqualTo((ushort)0xef24));
            Assert.That(icmp.IsChecksumValid, Is.True);
            Assert.That(icmp.Identifier, Is.EqualTo((ushort)1226));
            Assert.That(icmp.SequenceNumber, Is.EqualTo((ushort)1));
            Assert.That(icmp.RestOfHeader, Is.EqualTo(1226u << 16 | 1));
            Assert.That(icmp.Data.Length, Is.EqualTo(56));
            Assert.That(icmp.IsError, Is.False);
        }
    }

    [Test]
    public void Deconstruct_unreachable_and_its_quote()
    {
        Assert.That(IcmpPacket.TryParse(UnreachableBytes, out var icmp), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(icmp.Type, Is.EqualTo(IcmpType.DestinationUnreachable));
            Assert.That(icmp.Code, Is.EqualTo((byte)3), "port unreachable");
            Assert.That(icmp.IsError, Is.True);
            Assert.That(icmp.IsChecksumValid, Is.True);
            Assert.That(icmp.NextHopMtu, Is.Zero);
        }
        Assert.That(icmp.TryGetQuote(out var quote), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(quote.Source.ToString(), Is.EqualTo("192.168.1.1"));
            Assert.That(quote.Destination.ToString(), Is.EqualTo("192.168.1.102"));
            Assert.That(quote.Protocol, Is.EqualTo(IpProtocol.Udp));
            Assert.That(quote.SourcePort, Is.EqualTo((ushort)53));
            Assert.That(quote.DestinationPort, Is.EqualTo((ushort)59207));
            Assert.That(quote.Transport.Length, Is.EqualTo(148 - 20), "the quote holds less than its Total Length (163)");
        }
    }

    [Test]
    public void Construct_unreachable_from_its_layers()
    {
        byte[] expected = RealFrames.IcmpPortUnreachable;
        var buffer = new byte[expected.Length];
        int n = new EthernetHeader(MacAddress.Parse("00:19:e3:e7:5d:23"), MacAddress.Parse("00:0b:db:63:58:a6"), EtherType.Ipv4).WriteTo(buffer);
        n += new Ipv4Header(Ipv4Address.Parse("192.168.1.102"), Ipv4Address.Parse("192.168.1.1"), IpProtocol.Icmp, 176,
            Identification: 10270, TimeToLive: 128).WriteTo(buffer.AsSpan(n));
        var icmp = buffer.AsSpan(n, 176 - 20);
        n += new IcmpHeader(IcmpType.DestinationUnreachable, 3).WriteTo(icmp);
        expected.AsSpan(n).CopyTo(buffer.AsSpan(n));   // the quoted datagram and the 4-byte link trailer
        IcmpHeader.FillChecksum(icmp);
        Assert.That(buffer, Is.EqualTo(expected));
    }

    [Test]
    public void Parse_to_header_record()
    {
        Assert.That(IcmpPacket.TryParse(EchoBytes, out var echo), Is.EqualTo(WireError.None));
        Assert.That(IcmpHeader.From(echo), Is.EqualTo(IcmpHeader.Echo(IcmpType.EchoRequest, 1226, 1)));
        Assert.That(IcmpHeader.From(echo).Identifier, Is.EqualTo((ushort)1226));
        Assert.That(IcmpHeader.From(echo).SequenceNumber, Is.EqualTo((ushort)1));
        Assert.That(IcmpPacket.TryParse(UnreachableBytes, out var unreachable), Is.EqualTo(WireError.None));
        Assert.That(IcmpHeader.From(unreachable), Is.EqualTo(new IcmpHeader(IcmpType.DestinationUnreachable, 3)));
    }

    [Test]
    public void Emit_header_record()
    {
        var message = EchoBytes;
        var buffer = (byte[])message.Clone();
        buffer.AsSpan(0, IcmpHeader.Size).Clear();
        Assert.That(IcmpHeader.Echo(IcmpType.EchoRequest, 1226, 1).WriteTo(buffer), Is.EqualTo(IcmpHeader.Size));
        Assert.That(buffer[2..4], Is.EqualTo(new byte[2]), "WriteTo leaves the checksum zero");
        IcmpHeader.FillChecksum(buffer);
        Assert.That(buffer, Is.EqualTo(message));
    }
}
