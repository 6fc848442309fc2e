using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A UDP header (RFC 768).</summary>
/// <param name="SourcePort">Source port.</param>
/// <param name="DestinationPort">Destination port.</param>
/// <param name="Length">Header plus payload length.</param>
public readonly record struct UdpHeader(ushort SourcePort, ushort DestinationPort, ushort Length)
{
    /// <summary>Size of the header.</summary>
    public const int Size = 8;

    /// <summary>Reads the fields from a parsed datagram.</summary>
    public static UdpHeader From(UdpDatagram datagram) => new(datagram.SourcePort, datagram.DestinationPort, datagram.Length);

    /// <summary>Writes the header with a zero checksum; returns the bytes written. Call <see cref="FillChecksum(Span{byte}, Ipv4Address, Ipv4Address)"/> (or its IPv6 twin) once the payload follows it.</summary>
    public int WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination[UdpDatagram.Field.SourcePort..], SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[UdpDatagram.Field.DestinationPort..], DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[UdpDatagram.Field.Length..], Length);
        BinaryPrimitives.WriteUInt16BigEndian(destination[UdpDatagram.Field.Checksum..], 0);
        return Size;
    }

    /// <summary>Computes and stores the checksum of a whole datagram whose checksum field is zero; a computed 0 is sent as 0xFFFF (RFC 768).</summary>
    public static void FillChecksum(Span<byte> datagram, Ipv4Address source, Ipv4Address destination)
    {
        ushort sum = InternetChecksum.ComputeTransport(source, destination, IpProtocol.Udp, datagram);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[UdpDatagram.Field.Checksum..], sum == 0 ? (ushort)0xFFFF : sum);
    }

    /// <summary>Computes and stores the checksum over the IPv6 pseudo-header (RFC 8200 8.1: mandatory, a computed 0 is sent as 0xFFFF).</summary>
    public static void FillChecksum(Span<byte> datagram, Ipv6Address source, Ipv6Address destination)
    {
        ushort sum = InternetChecksum.ComputeTransport(source, destination, IpProtocol.Udp, datagram);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[UdpDatagram.Field.Checksum..], sum == 0 ? (ushort)0xFFFF : sum);
    }
}
