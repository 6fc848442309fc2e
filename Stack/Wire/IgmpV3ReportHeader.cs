using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// The fixed part of an IGMPv3 Membership Report (RFC 3376 4.2): type 0x22, reserved, checksum (zero here), reserved,
/// the number of group records. Each record (<see cref="IgmpV3GroupRecordHeader"/>) follows; then
/// <see cref="IgmpHeader.FillChecksum"/> over the whole report.
/// </summary>
/// <param name="NumberOfRecords">Number of group records written after it.</param>
public readonly record struct IgmpV3ReportHeader(ushort NumberOfRecords)
{
    /// <summary>Size of the fixed part.</summary>
    public const int Size = 8;

    /// <summary>Writes the fixed part with a zero checksum; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        destination.Clear();
        destination[IgmpMessage.Field.Type] = (byte)IgmpType.V3MembershipReport;
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], NumberOfRecords);
        return Size;
    }
}
