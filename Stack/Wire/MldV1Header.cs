using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>An MLDv1 message (RFC 2710 3): a report, a done, or a version-1 query.</summary>
/// <param name="Type">Query, report or done.</param>
/// <param name="MulticastAddress">The group (:: in a general query).</param>
/// <param name="MaximumResponseDelay">Milliseconds, for a query; 0 otherwise.</param>
public readonly record struct MldV1Header(Icmpv6Type Type, Ipv6Address MulticastAddress, ushort MaximumResponseDelay = 0)
{
    /// <summary>Size of the message.</summary>
    public const int Size = MldV1Message.Size;

    /// <summary>Reads the fields from a parsed message.</summary>
    public static MldV1Header From(MldV1Message message) => new(message.Type, message.MulticastAddress, message.MaximumResponseDelay);

    /// <summary>Writes the message with a zero checksum; returns the bytes written. Then <see cref="Icmpv6Header.FillChecksum"/>.</summary>
    public int WriteTo(Span<byte> destination)
    {
        NdMessage.WriteStart(destination, Type, Size);
        BinaryPrimitives.WriteUInt16BigEndian(destination[MldV1Message.Field.MaximumResponseDelay..], MaximumResponseDelay);
        MulticastAddress.WriteTo(destination[MldV1Message.Field.MulticastAddress..]);
        return Size;
    }
}
