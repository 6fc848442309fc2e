using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// A view over an MLDv1 message (RFC 2710 3): query, report or done, 24 bytes with a maximum response delay and a multicast
/// address. The first 24 bytes of an MLDv2 query read the same way (RFC 3810 8.1).
/// </summary>
public readonly ref struct MldV1Message
{
    internal static class Field
    {
        public const int MaximumResponseDelay = 4;   // 4..6, milliseconds (queries only)
        public const int Reserved = 6;               // 6..8
        public const int MulticastAddress = 8;       // 8..24
    }

    /// <summary>Size of an MLDv1 message.</summary>
    public const int Size = 24;

    private readonly ReadOnlySpan<byte> _bytes;
    private MldV1Message(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks the type (query, report or done) and that 24 bytes are present (RFC 2710 5: longer messages are read too).</summary>
    public static WireError TryParse(ReadOnlySpan<byte> message, out MldV1Message mld)
    {
        mld = default;
        if (message.Length < Icmpv6Packet.MinimumSize) return WireError.Truncated;
        if (message[Icmpv6Packet.Field.Type] is not ((byte)Icmpv6Type.MulticastListenerQuery or (byte)Icmpv6Type.MulticastListenerReport
            or (byte)Icmpv6Type.MulticastListenerDone)) return WireError.BadMessage;
        if (message.Length < Size) return WireError.Truncated;
        mld = new MldV1Message(message);
        return WireError.None;
    }

    /// <summary>The whole ICMPv6 message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Query, report or done.</summary>
    public Icmpv6Type Type => (Icmpv6Type)_bytes[Icmpv6Packet.Field.Type];
    /// <summary>Maximum response delay of a query in milliseconds (0 in reports and dones).</summary>
    public ushort MaximumResponseDelay => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.MaximumResponseDelay..]);
    /// <summary>The group: the one reported or left, or the one queried (:: for a general query).</summary>
    public Ipv6Address MulticastAddress => Ipv6Address.Read(_bytes[Field.MulticastAddress..]);
}
