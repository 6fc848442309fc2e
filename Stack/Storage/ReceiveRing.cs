using TcpIpSharp.Wire;

namespace TcpIpSharp.Storage;

/// <summary>
/// The receive side of a connection: one ring of up to <see cref="Capacity"/> bytes where offset 0 is the next byte
/// the user reads. In-order bytes are readable; bytes that arrive beyond a gap are stored in place and their ranges
/// kept (a bounded number of them) until the gap fills. Data is copied once into the ring and once out of it.
/// The storage grows on demand: it starts empty, and a write that reaches past the array (but within the window,
/// which is always what <see cref="Capacity"/> allows) moves the bytes into the next size class from the pool
/// (<see cref="BufferPool.SizeFor"/>) first, so data inside the window is never refused for lack of room. It never
/// shrinks. The out-of-order ranges are offsets from the read position, so they stay valid across a move.
/// </summary>
internal sealed class ReceiveRing
{
    private readonly BufferPool _pool;
    private byte[] _ring = [];
    private int _capacity;
    // Out-of-order ranges, as offsets from the read position, sorted; allocated at the first gap (an idle or in-order
    // connection does not carry 2 x maxRanges ints: about 300 bytes of the per-connection footprint).
    private int[] _rangeStart = [], _rangeEnd = [];
    private readonly int _maxRanges;
    private int _start;                   // ring index of offset 0

    public ReceiveRing(BufferPool pool, int capacity, int maxRanges)
    {
        _pool = pool;
        _capacity = capacity;
        _maxRanges = maxRanges;
    }

    /// <summary>The most bytes the ring holds (the configured receive buffer size; 0 once released).</summary>
    public int Capacity => _capacity;
    /// <summary>The size of the array in use now (at most <see cref="Capacity"/>).</summary>
    public int StorageLength => _ring.Length;
    /// <summary>In-order bytes ready to read.</summary>
    public int Readable { get; private set; }
    /// <summary>Out-of-order ranges held.</summary>
    public int Ranges { get; private set; }
    /// <summary>Room after the in-order data (the receive window).</summary>
    public int Window => _capacity - Readable;

    public (int Start, int End) Range(int i) => (_rangeStart[i], _rangeEnd[i]);

    /// <summary>
    /// Stores <paramref name="data"/> at <paramref name="offset"/> bytes past the in-order data (0: in order).
    /// Returns the number of bytes by which the in-order data grew (0 for out-of-order data), or -1 when the data
    /// was not stored because it would need more ranges than the bound (the caller drops the segment).
    /// Bytes beyond the ring are cut off.
    /// </summary>
    public int Write(int offset, ReadOnlySpan<byte> data)
    {
        if (offset < 0) { if (-offset >= data.Length) return 0; data = data[-offset..]; offset = 0; }
        int room = Window - offset;
        if (room <= 0) return 0;
        if (data.Length > room) data = data[..room];
        if (data.IsEmpty) return 0;
        int start = offset, end = offset + data.Length;
        if (Readable + end > _ring.Length) Grow(Readable + end);
        if (start > 0 && !TryAddRange(start, end)) return -1;
        int at = (_start + Readable + offset) % _ring.Length;
        int first = Math.Min(data.Length, _ring.Length - at);
        data[..first].CopyTo(_ring.AsSpan(at));
        data[first..].CopyTo(_ring);
        if (start > 0) return 0;
        // In order: take it and any ranges it now reaches.
        int grow = end;
        while (Ranges > 0 && _rangeStart[0] <= grow)
        {
            grow = Math.Max(grow, _rangeEnd[0]);
            RemoveRange(0);
        }
        for (int i = 0; i < Ranges; i++) { _rangeStart[i] -= grow; _rangeEnd[i] -= grow; }
        Readable += grow;
        return grow;
    }

    /// <summary>
    /// True when <paramref name="length"/> in-order bytes can be staged as they are: no out-of-order ranges, within the
    /// window, and room in the array without growing it (so that a staged write that is then abandoned changes nothing).
    /// </summary>
    public bool CanStage(int length) => Ranges == 0 && length <= Window && Readable + length <= _ring.Length;

    /// <summary>
    /// Copies <paramref name="data"/> just past the in-order bytes and adds it to the running checksum
    /// <paramref name="sum"/> in the same pass (<see cref="InternetChecksum.CopyAndSum"/>); the bytes are not readable
    /// until <see cref="CommitStaged"/>, and without it the ring is as before (they lie in free space). Only after
    /// <see cref="CanStage"/> said yes.
    /// </summary>
    public uint StageAndSum(ReadOnlySpan<byte> data, uint sum)
    {
        int at = (_start + Readable) % _ring.Length;
        int first = Math.Min(data.Length, _ring.Length - at);
        sum = InternetChecksum.CopyAndSum(data[..first], _ring.AsSpan(at), sum);
        if (first < data.Length)
        {
            // Wrapped: the rest starts the array. After an odd first part its words straddle the seam (byte-swapped sum).
            uint rest = InternetChecksum.CopyAndSum(data[first..], _ring, 0);
            sum = (first & 1) == 0 ? InternetChecksum.Combine(sum, rest) : InternetChecksum.AddAtOddOffset(sum, rest);
        }
        return sum;
    }

    /// <summary>Makes the <paramref name="length"/> bytes staged by <see cref="StageAndSum"/> readable (as <see cref="Write"/> at offset 0 would).</summary>
    public void CommitStaged(int length) => Readable += length;

    // Moves the bytes held (in order and out of order, with the gaps between them), unwrapped, to the start of a
    // larger array; the old one goes back to the pool.
    private void Grow(int needed)
    {
        var larger = _pool.Rent(BufferPool.SizeFor(needed, _capacity));
        int held = Readable + (Ranges > 0 ? _rangeEnd[Ranges - 1] : 0);
        if (held > 0)
        {
            int first = Math.Min(held, _ring.Length - _start);
            _ring.AsSpan(_start, first).CopyTo(larger);
            _ring.AsSpan(0, held - first).CopyTo(larger.AsSpan(first));
        }
        _pool.Return(_ring);
        _ring = larger;
        _start = 0;
    }

    private bool TryAddRange(int start, int end)
    {
        // Merge with every overlapping or touching range.
        int i = 0;
        while (i < Ranges && _rangeEnd[i] < start) i++;
        int j = i;
        while (j < Ranges && _rangeStart[j] <= end) { start = Math.Min(start, _rangeStart[j]); end = Math.Max(end, _rangeEnd[j]); j++; }
        int merged = j - i;
        if (merged == 0 && Ranges == _maxRanges) return false;
        if (_rangeStart.Length < _maxRanges) { _rangeStart = new int[_maxRanges]; _rangeEnd = new int[_maxRanges]; }
        int newCount = Ranges - merged + 1;
        if (merged == 0)
        {
            Array.Copy(_rangeStart, i, _rangeStart, i + 1, Ranges - i);
            Array.Copy(_rangeEnd, i, _rangeEnd, i + 1, Ranges - i);
        }
        else if (merged > 1)
        {
            Array.Copy(_rangeStart, j, _rangeStart, i + 1, Ranges - j);
            Array.Copy(_rangeEnd, j, _rangeEnd, i + 1, Ranges - j);
        }
        _rangeStart[i] = start;
        _rangeEnd[i] = end;
        Ranges = newCount;
        return true;
    }

    private void RemoveRange(int i)
    {
        Array.Copy(_rangeStart, i + 1, _rangeStart, i, Ranges - i - 1);
        Array.Copy(_rangeEnd, i + 1, _rangeEnd, i, Ranges - i - 1);
        Ranges--;
    }

    /// <summary>Copies up to <paramref name="destination"/>.Length in-order bytes out; with <paramref name="peek"/> they stay.</summary>
    public int Read(Span<byte> destination, bool peek = false)
    {
        int n = Math.Min(destination.Length, Readable);
        if (n == 0) return 0;
        int first = Math.Min(n, _ring.Length - _start);
        _ring.AsSpan(_start, first).CopyTo(destination);
        _ring.AsSpan(0, n - first).CopyTo(destination[first..]);
        if (!peek)
        {
            _start = (_start + n) % _ring.Length;
            Readable -= n;
        }
        return n;
    }

    /// <summary>Reads a line (up to and including '\n') if one is complete or the buffer is full; else 0.</summary>
    public int IndexOf(byte value)
    {
        for (int i = 0; i < Readable; i++) if (_ring[(_start + i) % _ring.Length] == value) return i;
        return -1;
    }

    public void Clear() { _start = 0; Readable = 0; Ranges = 0; }

    /// <summary>Gives the storage back to the pool: the ring is empty with no capacity from now on.</summary>
    public void Release()
    {
        _pool.Return(_ring);
        _ring = [];
        _capacity = 0;
        Clear();
    }
}
