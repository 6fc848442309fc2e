using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// The fixed part of an IGMPv3 group record (RFC 3376 4.2.4): record type (the values of RFC 3376 4.2.12, the same as
/// MLDv2's, so <see cref="MldRecordType"/> serves both), auxiliary data length, number of sources, the group.
/// </summary>
/// <param name="RecordType">Record type (MODE_IS_EXCLUDE, CHANGE_TO_EXCLUDE_MODE, ...).</param>
/// <param name="Group">The multicast group.</param>
/// <param name="NumberOfSources">Number of sources written after the fixed part (0: a plain join or leave).</param>
public readonly record struct IgmpV3GroupRecordHeader(MldRecordType RecordType, Ipv4Address Group, ushort NumberOfSources = 0)
{
    /// <summary>Size of the fixed part.</summary>
    public const int Size = 8;

    /// <summary>Writes the fixed part; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        destination[0] = (byte)RecordType;
        destination[1] = 0;   // auxiliary data length: none is defined
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], NumberOfSources);
        Group.WriteTo(destination[4..]);
        return Size;
    }
}
