using System.Buffers.Binary;

namespace TcpIpSharp.Storage;

/// <summary>
/// A bounded FIFO of datagrams with their sender, stored back to back in one preallocated ring of bytes.
/// Each record is [length u16][port u16][address u128][payload] (the address of either family, IPv4 mapped); a record never wraps (the tail skips to the start instead).
/// </summary>
internal sealed class DatagramQueue
{
    private const int RecordHeader = 20;
    private readonly byte[] _ring;
    private readonly int _maxCount;
    private int _head;      // offset of the oldest record
    private int _tail;      // offset where the next record goes
    private int _wrapAt;    // when the tail has wrapped: where the readable data before the wrap ends; else -1
    private int _count;

    public DatagramQueue(int capacityBytes, int maxCount)
    {
        _ring = new byte[capacityBytes];
        _maxCount = maxCount;
        _wrapAt = -1;
    }

    public int Count => _count;
    public int CapacityBytes => _ring.Length;

    /// <summary>Appends a datagram; false (and nothing stored) when it would exceed the bounds.</summary>
    public bool TryEnqueue(UInt128 address, ushort port, ReadOnlySpan<byte> payload)
    {
        int need = RecordHeader + payload.Length;
        if (_count == _maxCount || need > _ring.Length || payload.Length > ushort.MaxValue) return false;
        int at;
        if (_count == 0)
        {
            _head = _tail = 0;
            _wrapAt = -1;
            at = 0;
        }
        else if (_wrapAt < 0)
        {
            // Free space is [tail, end) and [0, head).
            if (_ring.Length - _tail >= need) at = _tail;
            else if (_head >= need) { _wrapAt = _tail; at = 0; }
            else return false;
        }
        else
        {
            // Wrapped: free space is [tail, head).
            if (_head - _tail >= need) at = _tail;
            else return false;
        }
        var record = _ring.AsSpan(at, need);
        BinaryPrimitives.WriteUInt16LittleEndian(record, (ushort)payload.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(record[2..], port);
        BinaryPrimitives.WriteUInt128LittleEndian(record[4..], address);
        payload.CopyTo(record[RecordHeader..]);
        _tail = at + need;
        _count++;
        return true;
    }

    /// <summary>Length of the oldest datagram, or -1 when empty.</summary>
    public int PeekLength() => _count == 0 ? -1 : BinaryPrimitives.ReadUInt16LittleEndian(_ring.AsSpan(_head));

    /// <summary>Copies the oldest datagram into <paramref name="destination"/> (truncating, as recvfrom does) and returns the bytes copied; -1 when empty.</summary>
    public int TryDequeue(Span<byte> destination, out UInt128 address, out ushort port, bool peek = false)
    {
        address = UInt128.Zero;
        port = 0;
        if (_count == 0) return -1;
        var header = _ring.AsSpan(_head, RecordHeader);
        int length = BinaryPrimitives.ReadUInt16LittleEndian(header);
        port = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
        address = BinaryPrimitives.ReadUInt128LittleEndian(header[4..]);
        int copied = Math.Min(length, destination.Length);
        _ring.AsSpan(_head + RecordHeader, copied).CopyTo(destination);
        if (peek) return copied;
        _head += RecordHeader + length;
        _count--;
        if (_count == 0) { _head = _tail = 0; _wrapAt = -1; }
        else if (_wrapAt >= 0 && _head >= _wrapAt) { _head = 0; _wrapAt = -1; }
        return copied;
    }

    public void Clear()
    {
        _count = 0;
        _head = _tail = 0;
        _wrapAt = -1;
    }
}
