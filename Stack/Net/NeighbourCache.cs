using TcpIpSharp.Storage;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net;

/// <summary>
/// A neighbour table, one shape for both families (ARP's for IPv4, RFC 826; Neighbour Discovery's for IPv6, RFC 4861):
/// a bounded set of entries keyed by the neighbour's address, each either resolving (with a bounded queue of frames
/// waiting for it) or resolved until it expires. Pure state: the family's neighbour protocol does the sending.
/// </summary>
internal sealed class NeighbourCache
{
    // Incomplete and Reachable serve both families; Stale, Delay and Probe are RFC 4861 7.3.2's other NUD states (IPv6).
    internal enum State : byte { Free, Incomplete, Reachable, Stale, Delay, Probe }

    internal struct Entry
    {
        public State State;
        public IpAddress Address;
        public MacAddress Mac;
        public TimeSpan Expires;        // Reachable: when the entry dies
        public TimeSpan LastRequest;    // when a request for it was last sent
        public int Attempts;            // requests sent while incomplete
        public int QueueHead, QueueTail, QueueCount;
        public TimeSpan LastUsed;
    }

    private readonly Entry[] _entries;
    private readonly Dictionary<UInt128, int> _index;
    private readonly FramePool _pool;
    private readonly int[] _next;
    private readonly NetworkStackOptions _options;
    private int _used;

    public NeighbourCache(NetworkStackOptions options, int frameSlotSize, Diagnostics.ProtocolCounters counters, Diagnostics.DropReason queueFull)
    {
        Counters = counters;
        QueueFull = queueFull;
        _options = options;
        _entries = new Entry[options.ArpCacheSize];
        _index = new Dictionary<UInt128, int>(options.ArpCacheSize, FoldedComparer.Instance);
        _pool = new FramePool(options.ArpQueueTotal, frameSlotSize);
        _next = new int[options.ArpQueueTotal];
    }

    /// <summary>Where the family's neighbour drops are counted, and the reason for a frame that found the queue full.</summary>
    public Diagnostics.ProtocolCounters Counters { get; }
    public Diagnostics.DropReason QueueFull { get; }
    public int Count => _used;
    /// <summary>Entries still resolving.</summary>
    public int IncompleteCount { get; private set; }
    /// <summary>No resolved entry expires before this (a lower bound; the timer scan refreshes it).</summary>
    public TimeSpan EarliestExpiry { get; set; } = TimeSpan.MaxValue;
    public int QueuedFrames => _pool.InUse;

    public ref Entry this[int slot] => ref _entries[slot];

    // UInt128's own hash runs HashCode.Combine over both halves; a fold of the halves is enough for a table that only
    // holds neighbours we asked about (or that asked for us), and keeps a lookup on the send path at the cost the
    // 32-bit key had before the split.
    private sealed class FoldedComparer : IEqualityComparer<UInt128>
    {
        public static readonly FoldedComparer Instance = new();
        public bool Equals(UInt128 x, UInt128 y) => x == y;
        public int GetHashCode(UInt128 value)
        {
            ulong folded = (ulong)value ^ (ulong)(value >> 64) * 0x9E37_79B9_7F4A_7C15;
            return (int)(folded ^ folded >> 32);
        }
    }

    /// <summary>The slot of the entry for <paramref name="address"/>, or -1.</summary>
    /// <remarks>The slot found last is tried first: a host sending a stream asks for the same neighbour packet after
    /// packet, and the check (state and address of one entry) costs less than hashing a 128-bit key.</remarks>
    public int Find(IpAddress address)
    {
        var entries = _entries;
        int hint = _hint;
        if ((uint)hint < (uint)entries.Length && entries[hint].State != State.Free && entries[hint].Address.Value == address.Value) return hint;
        if (!_index.TryGetValue(address.Value, out int slot)) return -1;
        _hint = slot;
        return slot;
    }

    private int _hint;

    /// <summary>True (with the MAC) when the address is resolved and not expired.</summary>
    public bool TryLookup(IpAddress address, TimeSpan now, out MacAddress mac) => TryLookup(address, now, out mac, out _);

    /// <summary>As <see cref="TryLookup(IpAddress, TimeSpan, out MacAddress)"/>, also giving the entry's slot (-1 when there is none), so a caller needs one lookup.</summary>
    public bool TryLookup(IpAddress address, TimeSpan now, out MacAddress mac, out int slot)
    {
        slot = Find(address);
        if (slot >= 0 && _entries[slot].State == State.Reachable && now < _entries[slot].Expires)
        {
            _entries[slot].LastUsed = now;
            mac = _entries[slot].Mac;
            return true;
        }
        mac = default;
        return false;
    }

    /// <summary>Finds or creates an entry; -1 when the table is full of entries still resolving.</summary>
    public int GetOrAdd(IpAddress address, TimeSpan now)
    {
        int slot = Find(address);
        if (slot >= 0) return slot;
        slot = FreeSlot(now);
        if (slot < 0) return -1;
        _entries[slot] = new Entry { State = State.Incomplete, Address = address, LastRequest = TimeSpan.MinValue, QueueHead = -1, QueueTail = -1, LastUsed = now };
        _index[address.Value] = slot;
        _used++;
        IncompleteCount++;
        return slot;
    }

    private int FreeSlot(TimeSpan now)
    {
        int oldest = -1;
        for (int i = 0; i < _entries.Length; i++)
        {
            ref var e = ref _entries[i];
            if (e.State == State.Free) return i;
            // Evict a resolved entry, the least recently used first; never one still resolving (its queue matters).
            if (e.State != State.Incomplete && (oldest < 0 || e.LastUsed < _entries[oldest].LastUsed)) oldest = i;
        }
        if (oldest >= 0) Remove(oldest);
        return oldest;
    }

    /// <summary>Records a resolution: the entry becomes reachable until now plus the lifetime.</summary>
    public void Resolve(int slot, MacAddress mac, TimeSpan now)
    {
        ref var e = ref _entries[slot];
        if (e.State == State.Incomplete) IncompleteCount--;
        e.State = State.Reachable;
        e.Mac = mac;
        e.Expires = now + _options.ArpEntryLifetime;
        e.Attempts = 0;
        if (e.Expires < EarliestExpiry) EarliestExpiry = e.Expires;
    }

    /// <summary>Turns an expired resolved entry back into a resolving one, keeping its slot.</summary>
    public void Restart(int slot)
    {
        ref var e = ref _entries[slot];
        if (e.State != State.Reachable) return;
        for (int f = Dequeue(slot); f >= 0; f = Dequeue(slot)) _pool.Release(f);
        e.State = State.Incomplete;
        e.Attempts = 0;
        e.QueueHead = e.QueueTail = -1;
        e.QueueCount = 0;
        IncompleteCount++;
    }

    /// <summary>Queues a frame for an unresolved entry; false when a bound is reached.</summary>
    public bool Enqueue(int slot, ReadOnlySpan<byte> frame)
    {
        ref var e = ref _entries[slot];
        if (e.QueueCount >= _options.ArpQueuePerAddress) return false;
        int frameSlot = _pool.TryStore(frame);
        if (frameSlot < 0) return false;
        _next[frameSlot] = -1;
        if (e.QueueTail >= 0) _next[e.QueueTail] = frameSlot; else e.QueueHead = frameSlot;
        e.QueueTail = frameSlot;
        e.QueueCount++;
        return true;
    }

    /// <summary>Takes the oldest queued frame of an entry; -1 when none. Call <see cref="ReleaseFrame"/> after use.</summary>
    public int Dequeue(int slot)
    {
        ref var e = ref _entries[slot];
        int frameSlot = e.QueueHead;
        if (frameSlot < 0) return -1;
        e.QueueHead = _next[frameSlot];
        if (e.QueueHead < 0) e.QueueTail = -1;
        e.QueueCount--;
        return frameSlot;
    }

    public Span<byte> Frame(int frameSlot) => _pool[frameSlot];
    public void ReleaseFrame(int frameSlot) => _pool.Release(frameSlot);

    /// <summary>Removes an entry and frees its queued frames; returns how many frames were dropped.</summary>
    public int Remove(int slot)
    {
        ref var e = ref _entries[slot];
        if (e.State == State.Free) return 0;
        int dropped = 0;
        for (int f = Dequeue(slot); f >= 0; f = Dequeue(slot)) { _pool.Release(f); dropped++; }
        _index.Remove(e.Address.Value);
        if (e.State == State.Incomplete) IncompleteCount--;
        e = default;
        _used--;
        return dropped;
    }

    public int Capacity => _entries.Length;
}
