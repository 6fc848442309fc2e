using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>What the Neighbour Discovery views share: the checks of RFC 4861 6.1 and 7.1 that a message can make alone, and the start of a message to write.</summary>
internal static class NdMessage
{
    /// <summary>Type, code 0, the fixed length, and every option's length. Hop limit 255 is the IPv6 layer's to check.</summary>
    public static WireError Check(ReadOnlySpan<byte> message, Icmpv6Type type, int fixedLength)
    {
        if (message.Length < Icmpv6Packet.MinimumSize) return WireError.Truncated;
        if (message[Icmpv6Packet.Field.Type] != (byte)type || message[Icmpv6Packet.Field.Code] != 0) return WireError.BadMessage;
        if (message.Length < fixedLength) return WireError.Truncated;
        return NdOptionReader.Validate(message[fixedLength..]);
    }

    /// <summary>Writes type, code 0, a zero checksum, and zeroes the rest of the fixed part.</summary>
    public static void WriteStart(Span<byte> destination, Icmpv6Type type, int fixedLength)
    {
        destination[..fixedLength].Clear();
        destination[Icmpv6Packet.Field.Type] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Icmpv6Packet.Field.Checksum..], 0);
    }
}
