using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>An IPv4 header without options (the stack never sends options).</summary>
/// <param name="Source">Source address.</param>
/// <param name="Destination">Destination address.</param>
/// <param name="Protocol">Payload protocol.</param>
/// <param name="TotalLength">Header plus payload length.</param>
/// <param name="Identification">Identification (for fragment reassembly).</param>
/// <param name="TimeToLive">Time to live.</param>
/// <param name="DontFragment">Don't Fragment flag.</param>
/// <param name="MoreFragments">More Fragments flag.</param>
/// <param name="FragmentOffset">Fragment offset in bytes (a multiple of 8).</param>
/// <param name="TypeOfService">DSCP and ECN byte.</param>
public readonly record struct Ipv4Header(Ipv4Address Source, Ipv4Address Destination, IpProtocol Protocol, ushort TotalLength,
    ushort Identification = 0, byte TimeToLive = 64, bool DontFragment = false, bool MoreFragments = false, int FragmentOffset = 0,
    byte TypeOfService = 0)
{
    /// <summary>Size of a header without options.</summary>
    public const int MinimumSize = 20;
    /// <summary>Largest IPv4 packet.</summary>
    public const int MaximumPacketSize = 65535;

    /// <summary>Reads the fields from a parsed packet (options are not carried over).</summary>
    public static Ipv4Header From(Ipv4Packet packet) => new(packet.Source, packet.Destination, packet.Protocol, packet.TotalLength,
        packet.Identification, packet.TimeToLive, packet.DontFragment, packet.MoreFragments, packet.FragmentOffset, packet.TypeOfService);

    /// <summary>Writes a 20-byte header with its checksum; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..MinimumSize];
        destination[Ipv4Packet.Field.VersionIhl] = 0x45;
        destination[Ipv4Packet.Field.Tos] = TypeOfService;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Ipv4Packet.Field.TotalLength..], TotalLength);
        BinaryPrimitives.WriteUInt16BigEndian(destination[Ipv4Packet.Field.Identification..], Identification);
        ushort flagsFragment = (ushort)((DontFragment ? 0x4000 : 0) | (MoreFragments ? 0x2000 : 0) | ((FragmentOffset >> 3) & 0x1FFF));
        BinaryPrimitives.WriteUInt16BigEndian(destination[Ipv4Packet.Field.FlagsFragment..], flagsFragment);
        destination[Ipv4Packet.Field.Ttl] = TimeToLive;
        destination[Ipv4Packet.Field.Protocol] = (byte)Protocol;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Ipv4Packet.Field.Checksum..], 0);
        Source.WriteTo(destination[Ipv4Packet.Field.Source..]);
        Destination.WriteTo(destination[Ipv4Packet.Field.Destination..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[Ipv4Packet.Field.Checksum..], InternetChecksum.Compute(destination));
        return MinimumSize;
    }
}
