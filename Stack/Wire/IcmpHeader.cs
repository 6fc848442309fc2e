using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>An ICMPv4 header (RFC 792).</summary>
/// <param name="Type">Message type.</param>
/// <param name="Code">Message code.</param>
/// <param name="RestOfHeader">The four bytes after the checksum: identifier and sequence for echo, next-hop MTU for code 4 of unreachable.</param>
public readonly record struct IcmpHeader(IcmpType Type, byte Code, uint RestOfHeader = 0)
{
    /// <summary>Size of the header.</summary>
    public const int Size = 8;

    /// <summary>An echo request or reply header.</summary>
    public static IcmpHeader Echo(IcmpType type, ushort identifier, ushort sequence) => new(type, 0, (uint)identifier << 16 | sequence);

    /// <summary>Echo identifier (high half of <see cref="RestOfHeader"/>).</summary>
    public ushort Identifier => (ushort)(RestOfHeader >> 16);
    /// <summary>Echo sequence number (low half of <see cref="RestOfHeader"/>).</summary>
    public ushort SequenceNumber => (ushort)RestOfHeader;

    /// <summary>Reads the fields from a parsed message.</summary>
    public static IcmpHeader From(IcmpPacket packet) => new(packet.Type, packet.Code, packet.RestOfHeader);

    /// <summary>Writes the header with a zero checksum; returns the bytes written. Call <see cref="FillChecksum"/> once the data follows it.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination[IcmpPacket.Field.Type] = (byte)Type;
        destination[IcmpPacket.Field.Code] = Code;
        BinaryPrimitives.WriteUInt16BigEndian(destination[IcmpPacket.Field.Checksum..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[IcmpPacket.Field.Identifier..], RestOfHeader);
        return Size;
    }

    /// <summary>Computes and stores the checksum of a whole message (header and data) whose checksum field is zero.</summary>
    public static void FillChecksum(Span<byte> message)
        => BinaryPrimitives.WriteUInt16BigEndian(message[IcmpPacket.Field.Checksum..], InternetChecksum.Compute(message));
}
