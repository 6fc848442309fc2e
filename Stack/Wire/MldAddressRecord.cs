using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>One multicast address record of an MLDv2 report (RFC 3810 5.2.4), as <see cref="MldAddressRecordReader"/> returns it.</summary>
public readonly ref struct MldAddressRecord
{
    internal static class Field
    {
        public const int RecordType = 0;
        public const int AuxiliaryDataLength = 1;   // in 32-bit words
        public const int NumberOfSources = 2;       // 2..4
        public const int MulticastAddress = 4;      // 4..20
        public const int Sources = 20;
    }

    private readonly ReadOnlySpan<byte> _bytes;

    internal MldAddressRecord(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>The whole record.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Record type (may be a value with no name in <see cref="MldRecordType"/>).</summary>
    public MldRecordType RecordType => (MldRecordType)_bytes[Field.RecordType];
    /// <summary>The multicast address the record is about.</summary>
    public Ipv6Address MulticastAddress => Ipv6Address.Read(_bytes[Field.MulticastAddress..]);
    /// <summary>The source addresses.</summary>
    public Ipv6AddressList Sources => new(_bytes.Slice(Field.Sources, BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.NumberOfSources..]) * Ipv6Address.Size));
    /// <summary>The auxiliary data (none is defined; receivers ignore it).</summary>
    public ReadOnlySpan<byte> AuxiliaryData => _bytes[(Field.Sources + Sources.Count * Ipv6Address.Size)..];
}
