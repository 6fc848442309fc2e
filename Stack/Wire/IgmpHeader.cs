using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// The 8-byte IGMP message of versions 1 and 2 (RFC 2236 2): a report, a Leave Group, or a v1/v2 query; also the
/// first 8 bytes of a v3 query. <see cref="WriteTo"/> fills the checksum.
/// </summary>
/// <param name="Type">Message type.</param>
/// <param name="MaximumResponseCode">Max Resp Code (tenths of a second in a v2 query; 0 otherwise).</param>
/// <param name="Group">The group (0.0.0.0 for a general query).</param>
public readonly record struct IgmpHeader(IgmpType Type, byte MaximumResponseCode, Ipv4Address Group)
{
    /// <summary>Size of the message.</summary>
    public const int Size = IgmpMessage.MinimumSize;

    /// <summary>Reads the common fields of a parsed message.</summary>
    public static IgmpHeader From(IgmpMessage message) => new(message.Type, message.MaximumResponseCode, message.Group);

    /// <summary>Writes the 8 bytes with their checksum; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        destination[IgmpMessage.Field.Type] = (byte)Type;
        destination[IgmpMessage.Field.MaximumResponseCode] = MaximumResponseCode;
        BinaryPrimitives.WriteUInt16BigEndian(destination[IgmpMessage.Field.Checksum..], 0);
        Group.WriteTo(destination[IgmpMessage.Field.Group..]);
        FillChecksum(destination);
        return Size;
    }

    /// <summary>Writes the checksum of a whole IGMP message (any version) whose checksum field is zero.</summary>
    public static void FillChecksum(Span<byte> message)
        => BinaryPrimitives.WriteUInt16BigEndian(message[IgmpMessage.Field.Checksum..], InternetChecksum.Compute(message));
}
