using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>The fixed IPv6 header (RFC 8200 3).</summary>
/// <param name="Source">Source address.</param>
/// <param name="Destination">Destination address.</param>
/// <param name="NextHeader">The first extension header or the upper-layer protocol.</param>
/// <param name="PayloadLength">Bytes after this header, extension headers included.</param>
/// <param name="HopLimit">Hop limit (255 for Neighbour Discovery, RFC 4861 6.1; 1 for MLD, RFC 3810 5).</param>
/// <param name="TrafficClass">DSCP and ECN byte.</param>
/// <param name="FlowLabel">Flow label, 20 bits (RFC 6437); higher bits are dropped.</param>
public readonly record struct Ipv6Header(Ipv6Address Source, Ipv6Address Destination, IpProtocol NextHeader, ushort PayloadLength,
    byte HopLimit = 64, byte TrafficClass = 0, uint FlowLabel = 0)
{
    /// <summary>Size of the fixed header.</summary>
    public const int Size = 40;
    /// <summary>The smallest link MTU IPv6 allows (RFC 8200 5).</summary>
    public const int MinimumMtu = 1280;

    /// <summary>Reads the fields from a parsed packet.</summary>
    public static Ipv6Header From(Ipv6Packet packet) => new(packet.Source, packet.Destination, packet.NextHeader, packet.PayloadLength,
        packet.HopLimit, packet.TrafficClass, packet.FlowLabel);

    /// <summary>Writes the 40-byte header; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        BinaryPrimitives.WriteUInt32BigEndian(destination, 6u << 28 | (uint)TrafficClass << 20 | (FlowLabel & 0xF_FFFF));
        BinaryPrimitives.WriteUInt16BigEndian(destination[Ipv6Packet.Field.PayloadLength..], PayloadLength);
        destination[Ipv6Packet.Field.NextHeader] = (byte)NextHeader;
        destination[Ipv6Packet.Field.HopLimit] = HopLimit;
        Source.WriteTo(destination[Ipv6Packet.Field.Source..]);
        Destination.WriteTo(destination[Ipv6Packet.Field.Destination..]);
        return Size;
    }
}
