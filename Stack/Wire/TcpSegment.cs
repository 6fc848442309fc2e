using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A view over a TCP segment (RFC 9293 3.1): header with options, and the data after it up to the end of the span.</summary>
/// <remarks>TCP has no length field: pass exactly the IPv4 payload (<see cref="Ipv4Packet.Payload"/>).</remarks>
public readonly ref struct TcpSegment
{
    internal static class Field
    {
        public const int SourcePort = 0;           // 0..2
        public const int DestinationPort = 2;      // 2..4
        public const int SequenceNumber = 4;       // 4..8
        public const int AcknowledgmentNumber = 8; // 8..12
        public const int DataOffset = 12;          // high nibble; low bit is NS (RFC 3540)
        public const int Flags = 13;
        public const int WindowSize = 14;          // 14..16
        public const int Checksum = 16;            // 16..18
        public const int UrgentPointer = 18;       // 18..20
        public const int Options = 20;
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private TcpSegment(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks the fixed header and that Data Offset lies between 20 bytes and the bytes present. Options are not checked here: see <see cref="TcpOptionReader"/>.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out TcpSegment segment)
    {
        segment = Parse(bytes, out var error);
        return error;
    }

    /// <summary><see cref="TryParse"/> for the receive path, the view returned rather than written through an <c>out</c> (see <see cref="Ipv4Packet.Parse"/>).</summary>
    internal static TcpSegment Parse(ReadOnlySpan<byte> bytes, out WireError error)
    {
        error = WireError.Truncated;
        if (bytes.Length < TcpHeader.MinimumSize) return default;
        int headerLength = (bytes[Field.DataOffset] >> 4) * 4;
        error = headerLength < TcpHeader.MinimumSize || headerLength > bytes.Length ? WireError.BadHeaderLength : WireError.None;
        return error == WireError.None ? new TcpSegment(bytes) : default;
    }

    /// <summary>Header and data.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Source port.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.SourcePort..]);
    /// <summary>Destination port.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.DestinationPort..]);
    /// <summary>Sequence number (SEG.SEQ).</summary>
    public uint SequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.SequenceNumber..]);
    /// <summary>Acknowledgment number (SEG.ACK), meaningful when <see cref="TcpFlags.Ack"/> is set.</summary>
    public uint AcknowledgmentNumber => BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.AcknowledgmentNumber..]);
    /// <summary>Header length in bytes: Data Offset times 4 (20..60).</summary>
    public int HeaderLength => (_bytes[Field.DataOffset] >> 4) * 4;
    /// <summary>Control bits, NS included.</summary>
    public TcpFlags Flags => (TcpFlags)((_bytes[Field.DataOffset] & 1) << 8 | _bytes[Field.Flags]);
    /// <summary>Window field as sent (SEG.WND before scaling).</summary>
    public ushort WindowSize => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.WindowSize..]);
    /// <summary>Checksum field as stored.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Checksum..]);
    /// <summary>Urgent pointer field.</summary>
    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.UrgentPointer..]);
    /// <summary>Option bytes between the fixed header and the data (0..40 bytes).</summary>
    public ReadOnlySpan<byte> Options => _bytes[Field.Options..HeaderLength];
    /// <summary>The data after the header.</summary>
    public ReadOnlySpan<byte> Payload => _bytes[HeaderLength..];
    /// <summary>SEG.LEN (RFC 9293 3.3.1): data length plus one for SYN and one for FIN.</summary>
    public int SequenceLength => _bytes.Length - HeaderLength + (_bytes[Field.Flags] >> 1 & 1) + (_bytes[Field.Flags] & 1);

    /// <summary>True when the checksum verifies with the pseudo-header (RFC 9293 3.1).</summary>
    public bool IsChecksumValid(IpAddress source, IpAddress destination)
        => InternetChecksum.ComputeTransport(source, destination, IpProtocol.Tcp, _bytes) == 0;
}
