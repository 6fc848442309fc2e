using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>The fixed part of an MLDv2 report (RFC 3810 5.2); the records follow it.</summary>
/// <param name="NumberOfRecords">Number of multicast address records written after it.</param>
public readonly record struct MldReportHeader(ushort NumberOfRecords)
{
    /// <summary>Size of the fixed part.</summary>
    public const int Size = MldReport.Field.Records;

    /// <summary>Reads the fields from a parsed report.</summary>
    public static MldReportHeader From(MldReport report) => new(report.NumberOfRecords);

    /// <summary>Writes the fixed part with a zero checksum; returns the bytes written. Write the records, then <see cref="Icmpv6Header.FillChecksum"/>.</summary>
    public int WriteTo(Span<byte> destination)
    {
        NdMessage.WriteStart(destination, Icmpv6Type.MulticastListenerReportV2, Size);
        BinaryPrimitives.WriteUInt16BigEndian(destination[MldReport.Field.NumberOfRecords..], NumberOfRecords);
        return Size;
    }
}
