using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A TCP header with the options the stack sends (RFC 9293 3.1).</summary>
/// <param name="SourcePort">Source port.</param>
/// <param name="DestinationPort">Destination port.</param>
/// <param name="SequenceNumber">Sequence number.</param>
/// <param name="AcknowledgmentNumber">Acknowledgment number (send 0 without ACK).</param>
/// <param name="Flags">Control bits, NS included.</param>
/// <param name="WindowSize">Window field (already scaled down).</param>
/// <param name="UrgentPointer">Urgent pointer.</param>
/// <param name="Options">Options to write; see <see cref="TcpOptions.WriteTo"/> for the layout.</param>
public readonly record struct TcpHeader(ushort SourcePort, ushort DestinationPort, uint SequenceNumber, uint AcknowledgmentNumber,
    TcpFlags Flags, ushort WindowSize, ushort UrgentPointer = 0, TcpOptions Options = default)
{
    /// <summary>Size of a header without options.</summary>
    public const int MinimumSize = 20;
    /// <summary>Largest header: Data Offset 15.</summary>
    public const int MaximumSize = 60;

    /// <summary>Bytes <see cref="WriteTo"/> writes: 20 plus the options, a multiple of 4.</summary>
    public int Length => MinimumSize + Options.Length;

    /// <summary>Reads the fields and options from a parsed segment; fails with <see cref="WireError.BadOption"/> when the options are malformed.</summary>
    public static WireError TryFrom(TcpSegment segment, out TcpHeader header)
    {
        var error = TcpOptions.TryParse(segment.Options, out var options);
        header = error == WireError.None
            ? new(segment.SourcePort, segment.DestinationPort, segment.SequenceNumber, segment.AcknowledgmentNumber,
                segment.Flags, segment.WindowSize, segment.UrgentPointer, options)
            : default;
        return error;
    }

    /// <summary>Reads the fields from a parsed segment; malformed options give an empty <see cref="Options"/> (use <see cref="TryFrom"/> to see the error).</summary>
    public static TcpHeader From(TcpSegment segment)
    {
        TcpOptions.TryParse(segment.Options, out var options);
        return new(segment.SourcePort, segment.DestinationPort, segment.SequenceNumber, segment.AcknowledgmentNumber,
            segment.Flags, segment.WindowSize, segment.UrgentPointer, options);
    }

    /// <summary>Writes the header and options with a zero checksum and Data Offset set; returns <see cref="Length"/>. Call <see cref="FillChecksum"/> once the data follows it.</summary>
    public int WriteTo(Span<byte> destination)
    {
        int length = Length;
        destination = destination[..length];
        BinaryPrimitives.WriteUInt16BigEndian(destination[TcpSegment.Field.SourcePort..], SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[TcpSegment.Field.DestinationPort..], DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(destination[TcpSegment.Field.SequenceNumber..], SequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(destination[TcpSegment.Field.AcknowledgmentNumber..], AcknowledgmentNumber);
        destination[TcpSegment.Field.DataOffset] = (byte)(length / 4 << 4 | ((ushort)Flags >> 8 & 1));
        destination[TcpSegment.Field.Flags] = (byte)Flags;
        BinaryPrimitives.WriteUInt16BigEndian(destination[TcpSegment.Field.WindowSize..], WindowSize);
        BinaryPrimitives.WriteUInt16BigEndian(destination[TcpSegment.Field.Checksum..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[TcpSegment.Field.UrgentPointer..], UrgentPointer);
        Options.WriteTo(destination[TcpSegment.Field.Options..]);
        return length;
    }

    /// <summary>Computes and stores the checksum of a whole segment (header and data) whose checksum field is zero (RFC 9293 3.1).</summary>
    public static void FillChecksum(Span<byte> segment, IpAddress source, IpAddress destination)
        => BinaryPrimitives.WriteUInt16BigEndian(segment[TcpSegment.Field.Checksum..],
            InternetChecksum.ComputeTransport(source, destination, IpProtocol.Tcp, segment));

    /// <summary>
    /// As <see cref="FillChecksum"/> for a segment whose bytes from
    /// <paramref name="summedFrom"/> (even) on were already summed to <paramref name="payloadSum"/> (as
    /// <see cref="InternetChecksum.Add"/> from 0 gives it), as they were copied: only the header is read again.
    /// </summary>
    internal static void FillChecksumFromPayloadSum(Span<byte> segment, IpAddress source, IpAddress destination, int summedFrom, uint payloadSum)
    {
        uint sum = InternetChecksum.Combine(InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Tcp, segment.Length), payloadSum);
        BinaryPrimitives.WriteUInt16BigEndian(segment[TcpSegment.Field.Checksum..], InternetChecksum.Finish(InternetChecksum.Add(sum, segment[..summedFrom])));
    }
}
