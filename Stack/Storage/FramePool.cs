namespace TcpIpSharp.Storage;

/// <summary>
/// A fixed set of equal-sized frame slots allocated once, handed out by index. Used for frames that must wait
/// (ARP resolution, in-memory links) so that waiting never allocates.
/// </summary>
internal sealed class FramePool
{
    private readonly byte[] _memory;
    private readonly int[] _lengths;
    private readonly int[] _free;
    private int _freeCount;

    public FramePool(int slots, int slotSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slotSize);
        SlotSize = slotSize;
        _memory = new byte[checked(slots * slotSize)];
        _lengths = new int[slots];
        _free = new int[slots];
        for (int i = 0; i < slots; i++) _free[i] = slots - 1 - i;
        _freeCount = slots;
    }

    public int SlotSize { get; }
    public int Capacity => _lengths.Length;
    public int InUse => Capacity - _freeCount;

    /// <summary>Copies <paramref name="frame"/> into a free slot; -1 when the pool is exhausted or the frame does not fit.</summary>
    public int TryStore(ReadOnlySpan<byte> frame)
    {
        if (_freeCount == 0 || frame.Length > SlotSize) return -1;
        int slot = _free[--_freeCount];
        frame.CopyTo(_memory.AsSpan(slot * SlotSize, SlotSize));
        _lengths[slot] = frame.Length;
        return slot;
    }

    public Span<byte> this[int slot] => _memory.AsSpan(slot * SlotSize, _lengths[slot]);

    /// <summary>The frame in <paramref name="slot"/> as memory (to lend it: see <see cref="Links.FrameBatch"/>).</summary>
    public ReadOnlyMemory<byte> MemoryOf(int slot) => new(_memory, slot * SlotSize, _lengths[slot]);

    public void Release(int slot) => _free[_freeCount++] = slot;
}
