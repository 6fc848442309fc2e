using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A view over an ICMPv4 message (RFC 792): 8-byte header and the data after it.</summary>
public readonly ref struct IcmpPacket
{
    internal static class Field
    {
        public const int Type = 0;
        public const int Code = 1;
        public const int Checksum = 2;      // 2..4
        public const int Identifier = 4;    // 4..6 (echo)
        public const int Sequence = 6;      // 6..8 (echo)
        public const int NextHopMtu = 6;    // 6..8 (fragmentation needed, RFC 1191)
        public const int Data = 8;
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private IcmpPacket(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks that the 8-byte header is present.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out IcmpPacket packet)
    {
        packet = default;
        if (bytes.Length < IcmpHeader.Size) return WireError.Truncated;
        packet = new IcmpPacket(bytes);
        return WireError.None;
    }

    /// <summary>The whole message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Message type.</summary>
    public IcmpType Type => (IcmpType)_bytes[Field.Type];
    /// <summary>Message code.</summary>
    public byte Code => _bytes[Field.Code];
    /// <summary>Checksum field as stored.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Checksum..]);
    /// <summary>The four bytes after the checksum (identifier and sequence for echo; unused or MTU for errors).</summary>
    public uint RestOfHeader => BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.Identifier..]);
    /// <summary>Echo identifier.</summary>
    public ushort Identifier => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Identifier..]);
    /// <summary>Echo sequence number.</summary>
    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Sequence..]);
    /// <summary>Next-hop MTU of a "fragmentation needed" message (RFC 1191), 0 when absent.</summary>
    public ushort NextHopMtu => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.NextHopMtu..]);
    /// <summary>The data after the header: echo payload, or the quoted datagram of an error.</summary>
    public ReadOnlySpan<byte> Data => _bytes[Field.Data..];
    /// <summary>True when the checksum over the whole message verifies.</summary>
    public bool IsChecksumValid => InternetChecksum.IsValid(_bytes);
    /// <summary>True for the error types that quote a datagram (unreachable, time exceeded, parameter problem).</summary>
    public bool IsError => Type is IcmpType.DestinationUnreachable or IcmpType.TimeExceeded or IcmpType.ParameterProblem;

    /// <summary>Parses the quoted IP header and first transport bytes of an error message.</summary>
    public WireError TryGetQuote(out IcmpQuote quote) => IcmpQuote.TryParse(Data, out quote);
}
