using TcpIpSharp.Wire;

namespace TcpIpSharp.Storage;

/// <summary>
/// The send side of a connection: bytes written by the user and not yet acknowledged, in one ring of up to
/// <see cref="Capacity"/> bytes. Offset 0 is the oldest unacknowledged byte (SND.UNA); data is read at any offset for
/// (re)transmission. The storage grows on demand: it starts empty and a write that needs more room than the array has
/// moves the bytes into the next size class from the pool (<see cref="BufferPool.SizeFor"/>); it never shrinks.
/// </summary>
internal sealed class SendRing(BufferPool pool, int capacity)
{
    private byte[] _ring = [];
    private int _capacity = capacity;
    private int _start;   // ring index of offset 0

    /// <summary>The most bytes the ring holds (the configured send buffer size; 0 once released).</summary>
    public int Capacity => _capacity;
    /// <summary>The size of the array in use now (at most <see cref="Capacity"/>).</summary>
    public int StorageLength => _ring.Length;
    public int Count { get; private set; }
    public int Free => _capacity - Count;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns the bytes taken.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Free);
        if (n <= 0) return 0;
        if (Count + n > _ring.Length) Grow(Count + n);
        int at = (_start + Count) % _ring.Length;
        int first = Math.Min(n, _ring.Length - at);
        data[..first].CopyTo(_ring.AsSpan(at));
        data[first..n].CopyTo(_ring);
        Count += n;
        return n;
    }

    /// <summary>
    /// Room to write into in place (a reader that fills the ring without a buffer of its own, the gateway's receive from
    /// a host socket): at most <paramref name="want"/> bytes, contiguous (up to the wrap, so possibly fewer), the
    /// storage grown first to hold them. <see cref="Commit"/> appends what was written; nothing else may come between.
    /// </summary>
    public Span<byte> GetWriteSpan(int want)
    {
        int n = Math.Min(want, Free);
        if (n <= 0) return default;
        if (Count + n > _ring.Length) Grow(Count + n);
        int at = (_start + Count) % _ring.Length;
        return _ring.AsSpan(at, Math.Min(n, _ring.Length - at));
    }

    /// <summary>Appends <paramref name="count"/> bytes written into the span <see cref="GetWriteSpan"/> gave.</summary>
    public void Commit(int count) => Count += count;

    /// <summary>Bytes the storage holds without growing.</summary>
    public int StorageFree => _ring.Length - Count;

    // Moves the bytes held, unwrapped, to the start of a larger array; the old one goes back to the pool.
    private void Grow(int needed)
    {
        var larger = pool.Rent(BufferPool.SizeFor(needed, _capacity));
        CopyTo(0, larger.AsSpan(0, Count));
        pool.Return(_ring);
        _ring = larger;
        _start = 0;
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

    /// <summary>
    /// As <see cref="CopyTo"/>, and returns the internet checksum sum of the bytes copied (<see cref="InternetChecksum.Add"/>
    /// from 0), taken in the same pass (issue 18 item 2): a segment's payload is read once, not copied then summed.
    /// </summary>
    public uint CopyAndSum(int offset, Span<byte> destination)
    {
        if (destination.IsEmpty) return 0;
        int at = (_start + offset) % _ring.Length;
        int first = Math.Min(destination.Length, _ring.Length - at);
        uint sum = InternetChecksum.CopyAndSum(_ring.AsSpan(at, first), destination, 0);
        if (first == destination.Length) return sum;
        // Wrapped: after an odd first part the rest's words straddle the seam (byte-swapped sum).
        uint rest = InternetChecksum.CopyAndSum(_ring.AsSpan(0, destination.Length - first), destination[first..], 0);
        return (first & 1) == 0 ? InternetChecksum.Combine(sum, rest) : InternetChecksum.AddAtOddOffset(sum, rest);
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

    /// <summary>Gives the storage back to the pool: the ring is empty with no capacity from now on.</summary>
    public void Release()
    {
        pool.Return(_ring);
        _ring = [];
        _capacity = 0;
        Clear();
    }
}
