using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>The fixed part of an MLDv2 multicast address record (RFC 3810 5.2.4); the sources and auxiliary data follow it.</summary>
/// <param name="RecordType">Record type.</param>
/// <param name="MulticastAddress">The group.</param>
/// <param name="NumberOfSources">Number of sources written after the fixed part.</param>
/// <param name="AuxiliaryDataLength">Auxiliary data after the sources, in 32-bit words (0: none is defined).</param>
public readonly record struct MldAddressRecordHeader(MldRecordType RecordType, Ipv6Address MulticastAddress, ushort NumberOfSources = 0, byte AuxiliaryDataLength = 0)
{
    /// <summary>Size of the fixed part.</summary>
    public const int Size = MldAddressRecord.Field.Sources;

    /// <summary>Reads the fields of a record.</summary>
    public static MldAddressRecordHeader From(MldAddressRecord record) => new(record.RecordType, record.MulticastAddress,
        (ushort)record.Sources.Count, record.Bytes[MldAddressRecord.Field.AuxiliaryDataLength]);

    /// <summary>Writes the fixed part; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        destination[MldAddressRecord.Field.RecordType] = (byte)RecordType;
        destination[MldAddressRecord.Field.AuxiliaryDataLength] = AuxiliaryDataLength;
        BinaryPrimitives.WriteUInt16BigEndian(destination[MldAddressRecord.Field.NumberOfSources..], NumberOfSources);
        MulticastAddress.WriteTo(destination[MldAddressRecord.Field.MulticastAddress..]);
        return Size;
    }
}
