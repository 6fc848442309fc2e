using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>The 8-byte header of an ICMPv6 error or echo message (RFC 4443 2.1).</summary>
/// <param name="Type">Message type.</param>
/// <param name="Code">Message code.</param>
/// <param name="RestOfHeader">The four bytes after the checksum: identifier and sequence for echo, the MTU for Packet Too Big, the pointer for Parameter Problem, 0 otherwise.</param>
public readonly record struct Icmpv6Header(Icmpv6Type Type, byte Code, uint RestOfHeader = 0)
{
    /// <summary>Size of the header.</summary>
    public const int Size = 8;
    /// <summary>Largest error message: an error quotes as much of the invoking packet as fits in the minimum MTU (RFC 4443 2.4 c).</summary>
    public const int MaximumErrorSize = Ipv6Header.MinimumMtu - Ipv6Header.Size;

    /// <summary>An echo request or reply header.</summary>
    public static Icmpv6Header Echo(Icmpv6Type type, ushort identifier, ushort sequence) => new(type, 0, (uint)identifier << 16 | sequence);
    /// <summary>A Packet Too Big header with the next-hop MTU (RFC 4443 3.2).</summary>
    public static Icmpv6Header PacketTooBig(uint mtu) => new(Icmpv6Type.PacketTooBig, 0, mtu);
    /// <summary>A Parameter Problem header with its code and pointer (RFC 4443 3.4).</summary>
    public static Icmpv6Header ParameterProblem(Icmpv6ParameterProblemCode code, uint pointer) => new(Icmpv6Type.ParameterProblem, (byte)code, pointer);

    /// <summary>Echo identifier (high half of <see cref="RestOfHeader"/>).</summary>
    public ushort Identifier => (ushort)(RestOfHeader >> 16);
    /// <summary>Echo sequence number (low half of <see cref="RestOfHeader"/>).</summary>
    public ushort SequenceNumber => (ushort)RestOfHeader;

    /// <summary>Reads the fields from a parsed message.</summary>
    public static Icmpv6Header From(Icmpv6Packet packet) => new(packet.Type, packet.Code, packet.RestOfHeader);

    /// <summary>Writes the header with a zero checksum; returns the bytes written. Call <see cref="FillChecksum"/> once the data follows it.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        destination[Icmpv6Packet.Field.Type] = (byte)Type;
        destination[Icmpv6Packet.Field.Code] = Code;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Icmpv6Packet.Field.Checksum..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[Icmpv6Packet.Field.Body..], RestOfHeader);
        return Size;
    }

    /// <summary>Computes and stores the checksum of a whole ICMPv6 message (any type) over the IPv6 pseudo-header (RFC 4443 2.3).</summary>
    public static void FillChecksum(Span<byte> message, Ipv6Address source, Ipv6Address destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(message[Icmpv6Packet.Field.Checksum..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(message[Icmpv6Packet.Field.Checksum..],
            InternetChecksum.ComputeTransport(source, destination, IpProtocol.Icmpv6, message));
    }
}
