using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>Walks the multicast address records of an MLDv2 report without allocating; a record past the end stops it with <see cref="WireError.BadLength"/>.</summary>
public ref struct MldAddressRecordReader
{
    private readonly ReadOnlySpan<byte> _records;
    private int _remaining;
    private int _position;

    internal MldAddressRecordReader(ReadOnlySpan<byte> records, int count)
    {
        _records = records;
        _remaining = count;
        _position = 0;
        Current = default;
        Error = WireError.None;
    }

    /// <summary>The record last read.</summary>
    public MldAddressRecord Current { get; private set; }
    /// <summary><see cref="WireError.None"/>, or why a record stopped the walk.</summary>
    public WireError Error { get; private set; }

    /// <summary>Moves to the next record; false after the last one the report counts, or on a malformed one (see <see cref="Error"/>).</summary>
    public bool Read()
    {
        if (_remaining <= 0) return false;
        int left = _records.Length - _position;
        if (left < MldAddressRecordHeader.Size) return Fail();
        var record = _records[_position..];
        int length = MldAddressRecordHeader.Size + BinaryPrimitives.ReadUInt16BigEndian(record[MldAddressRecord.Field.NumberOfSources..]) * Ipv6Address.Size
            + record[MldAddressRecord.Field.AuxiliaryDataLength] * 4;
        if (length > left) return Fail();
        Current = new MldAddressRecord(record[..length]);
        _position += length;
        _remaining--;
        return true;
    }

    private bool Fail()
    {
        Error = WireError.BadLength;
        _remaining = 0;
        return false;
    }
}
