namespace TcpIpSharp.Storage;

/// <summary>
/// The send side of a connection: bytes written by the user and not yet acknowledged, in one preallocated ring.
/// Offset 0 is the oldest unacknowledged byte (SND.UNA); data is read at any offset for (re)transmission.
/// </summary>
internal sealed class SendRing(byte[] storage)
{
    private byte[] _ring = storage;
    private int _start;   // ring index of offset 0

    public int Capacity => _ring.Length;
    public int Count { get; private set; }
    public int Free => _ring.Length - Count;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns the bytes taken.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Free);
        if (n == 0) return 0;
        int at = (_start + Count) % _ring.Length;
        int first = Math.Min(n, _ring.Length - at);
        data[..first].CopyTo(_ring.AsSpan(at));
        data[first..n].CopyTo(_ring);
        Count += n;
        return n;
    }

    /// <summary>Copies <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/> from the oldest byte.</summary>
    public void CopyTo(int offset, Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        int at = (_start + offset) % _ring.Length;
        int first = Math.Min(destination.Length, _ring.Length - at);
        _ring.AsSpan(at, first).CopyTo(destination);
        _ring.AsSpan(0, destination.Length - first).CopyTo(destination[first..]);
    }

    /// <summary>Frees the oldest <paramref name="count"/> bytes (they were acknowledged).</summary>
    public void Consume(int count)
    {
        count = Math.Min(count, Count);
        if (count <= 0) return;
        _start = (_start + count) % _ring.Length;
        Count -= count;
        if (Count == 0) _start = 0;
    }

    public void Clear() { _start = 0; Count = 0; }

    /// <summary>Gives the storage up (to a pool): the ring is empty with no capacity from now on.</summary>
    public byte[] Release()
    {
        var storage = _ring;
        _ring = [];
        Clear();
        return storage;
    }
}
