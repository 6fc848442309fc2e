using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// A view over an ICMPv6 message (RFC 4443 2.1): type, code and checksum, then the message body. Errors, echo and the
/// 8-byte header fields are read here; Neighbour Discovery and MLD messages have their own views over the same bytes.
/// </summary>
/// <remarks>ICMPv6 has no length field: pass exactly the upper-layer bytes of the IPv6 packet.</remarks>
public readonly ref struct Icmpv6Packet
{
    internal static class Field
    {
        public const int Type = 0;
        public const int Code = 1;
        public const int Checksum = 2;      // 2..4
        public const int Body = 4;          // the message body: for the messages below, 4 more header bytes
        public const int Identifier = 4;    // 4..6 (echo)
        public const int Sequence = 6;      // 6..8 (echo)
        public const int Mtu = 4;           // 4..8 (packet too big)
        public const int Pointer = 4;       // 4..8 (parameter problem)
        public const int Data = 8;
    }

    /// <summary>Smallest message: type, code, checksum.</summary>
    public const int MinimumSize = 4;

    private readonly ReadOnlySpan<byte> _bytes;
    private Icmpv6Packet(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks that type, code and checksum are present; errors and echo messages need the whole 8-byte header.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out Icmpv6Packet packet)
    {
        packet = default;
        if (bytes.Length < MinimumSize) return WireError.Truncated;
        var type = (Icmpv6Type)bytes[Field.Type];
        if (bytes.Length < Icmpv6Header.Size && (type < Icmpv6Type.EchoRequest || type is Icmpv6Type.EchoRequest or Icmpv6Type.EchoReply))
            return WireError.Truncated;
        packet = new Icmpv6Packet(bytes);
        return WireError.None;
    }

    /// <summary>The whole message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Message type.</summary>
    public Icmpv6Type Type => (Icmpv6Type)_bytes[Field.Type];
    /// <summary>Message code.</summary>
    public byte Code => _bytes[Field.Code];
    /// <summary>Checksum field as stored.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Checksum..]);
    /// <summary>True for error messages (types below 128, RFC 4443 2.1).</summary>
    public bool IsError => (byte)Type < 128;
    /// <summary>The four bytes after the checksum (0 when the message is shorter): identifier and sequence, MTU, or pointer.</summary>
    public uint RestOfHeader => _bytes.Length >= Icmpv6Header.Size ? BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.Body..]) : 0;
    /// <summary>Echo identifier.</summary>
    public ushort Identifier => (ushort)(RestOfHeader >> 16);
    /// <summary>Echo sequence number.</summary>
    public ushort SequenceNumber => (ushort)RestOfHeader;
    /// <summary>MTU of a Packet Too Big message (RFC 4443 3.2).</summary>
    public uint Mtu => RestOfHeader;
    /// <summary>Pointer of a Parameter Problem message: offset in the invoking packet of the faulty byte (RFC 4443 3.4).</summary>
    public uint Pointer => RestOfHeader;
    /// <summary>Everything after type, code and checksum.</summary>
    public ReadOnlySpan<byte> Body => _bytes[Field.Body..];
    /// <summary>The data after the 8-byte header: echo data, or the invoking packet quoted by an error (empty when shorter).</summary>
    public ReadOnlySpan<byte> Data => _bytes.Length >= Field.Data ? _bytes[Field.Data..] : default;

    /// <summary>True when the checksum over the IPv6 pseudo-header and the whole message verifies (RFC 4443 2.3).</summary>
    public bool IsChecksumValid(Ipv6Address source, Ipv6Address destination)
        => InternetChecksum.ComputeTransport(source, destination, IpProtocol.Icmpv6, _bytes) == 0;

    /// <summary>Parses the invoking packet quoted by an error message.</summary>
    public WireError TryGetQuote(out Icmpv6Quote quote)
    {
        quote = default;
        if (!IsError) return WireError.BadMessage;
        return Icmpv6Quote.TryParse(Data, out quote);
    }
}
