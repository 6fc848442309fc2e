using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

// FsCheck supplies the parameters of a [FsCheck.NUnit.Property] method; NUnit's analyzer only knows NUnit's own attributes.
#pragma warning disable NUnit1027

/// <summary>Emit then parse gives back the record, for every header record of L2-L4 (FsCheck properties).</summary>
public class HeaderRoundTripProperties
{
    [FsCheck.NUnit.Property(Arbitrary = new[] { typeof(WireArbitraries) }, MaxTest = 300)]
    public bool Ethernet_header_round_trips(EthernetHeader header)
    {
        var buffer = new byte[EthernetHeader.TaggedSize];
        int written = header.WriteTo(buffer);
        return written == header.Length
            && EthernetFrame.TryParse(buffer.AsSpan(0, written), out var frame) == WireError.None
            && frame.HeaderLength == written
            && EthernetHeader.From(frame) == header;
    }

    [FsCheck.NUnit.Property(Arbitrary = new[] { typeof(WireArbitraries) }, MaxTest = 300)]
    public bool Arp_header_round_trips(ArpHeader header)
    {
        var buffer = new byte[ArpHeader.Size];
        return header.WriteTo(buffer) == ArpHeader.Size
            && ArpPacket.TryParse(buffer, out var packet) == WireError.None
            && ArpHeader.From(packet) == header;
    }

    [FsCheck.NUnit.Property(Arbitrary = new[] { typeof(WireArbitraries) }, MaxTest = 300)]
    public bool Ipv4_header_round_trips_with_a_valid_checksum(Ipv4Header header)
    {
        var buffer = new byte[header.TotalLength];
        return header.WriteTo(buffer) == Ipv4Header.MinimumSize
            && Ipv4Packet.TryParse(buffer, out var packet) == WireError.None
            && packet.IsChecksumValid
            && packet.Payload.Length == header.TotalLength - Ipv4Header.MinimumSize
            && Ipv4Header.From(packet) == header;
    }

    [FsCheck.NUnit.Property(Arbitrary = new[] { typeof(WireArbitraries) }, MaxTest = 300)]
    public bool Icmp_header_round_trips_with_a_valid_checksum(IcmpHeader header, byte[] data)
    {
        var buffer = new byte[IcmpHeader.Size + data.Length];
        data.CopyTo(buffer, IcmpHeader.Size);
        int written = header.WriteTo(buffer);
        IcmpHeader.FillChecksum(buffer);
        return written == IcmpHeader.Size
            && IcmpPacket.TryParse(buffer, out var packet) == WireError.None
            && packet.IsChecksumValid
            && packet.Data.SequenceEqual(data)
            && IcmpHeader.From(packet) == header;
    }

    [FsCheck.NUnit.Property(Arbitrary = new[] { typeof(WireArbitraries) }, MaxTest = 300)]
    public bool Udp_header_round_trips_with_a_valid_checksum(UdpHeader header, Ipv4Header addresses, byte seed)
    {
        var buffer = new byte[header.Length];
        new Random(seed).NextBytes(buffer);
        int written = header.WriteTo(buffer);
        UdpHeader.FillChecksum(buffer, addresses.Source, addresses.Destination);
        return written == UdpHeader.Size
            && UdpDatagram.TryParse(buffer, out var datagram) == WireError.None
            && datagram.Checksum != 0
            && datagram.IsChecksumValid(addresses.Source, addresses.Destination)
            && datagram.Payload.Length == header.Length - UdpHeader.Size
            && UdpHeader.From(datagram) == header;
    }
}
