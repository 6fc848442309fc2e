using System.Numerics;

namespace TcpIpSharp.Storage;

/// <summary>
/// Ring storage for TCP connections, in size classes and reused. A ring starts with no storage and, when a write needs
/// more room than its array has (and its configured capacity allows), rents the next class that holds its bytes
/// (<see cref="SizeFor"/>: powers of two from <see cref="MinimumClass"/>, the last one cut at the capacity), moves its
/// bytes over and returns the smaller array here; a closed connection returns what it holds (TIME-WAIT or CLOSED).
/// So a connection holds what it has used, not what it was configured for: a short request and response takes a 4 KB
/// array per ring in use where the default rings were 256 KB each (1 MB per connection pair, allocated and zeroed,
/// 99% of the cost of a short connection before rings came from here), and an idle connection holds none. Arrays are
/// never shrunk: a ring that has grown to its working size allocates nothing more. Single-threaded, like the rest of
/// the core. What the pool keeps is bounded by <see cref="MaximumBytes"/>: beyond it, returned arrays are left to the
/// garbage collector; when it has no array of a class, <see cref="Rent"/> allocates one (growth never fails).
/// </summary>
/// <remarks>A rented array holds whatever its last user left in it: the rings only ever read bytes written since
/// they rented it (or copied over from their previous array), so stale bytes are never exposed.</remarks>
internal sealed class BufferPool(long maximumBytes)
{
    /// <summary>The smallest array a ring rents (unless its capacity is smaller): one page.</summary>
    public const int MinimumClass = 4096;

    private readonly Dictionary<int, Stack<byte[]>> _free = [];

    /// <summary>Most bytes kept for reuse.</summary>
    public long MaximumBytes { get; } = maximumBytes;
    /// <summary>Bytes kept for reuse now.</summary>
    public long BytesHeld { get; private set; }
    /// <summary>Bytes rented and not yet returned (the ring storage connections hold now).</summary>
    public long BytesRented { get; private set; }
    /// <summary>Rentals served from the pool.</summary>
    public long Reused { get; private set; }
    /// <summary>Rentals that allocated a new array.</summary>
    public long Allocated { get; private set; }

    /// <summary>
    /// The array size for a ring of <paramref name="capacity"/> bytes that must hold <paramref name="needed"/>: the
    /// smallest power of two at least <paramref name="needed"/> and <see cref="MinimumClass"/>, but never more than
    /// <paramref name="capacity"/> (a capacity that is not a power of two is the last class).
    /// </summary>
    public static int SizeFor(int needed, int capacity)
    {
        if (needed <= MinimumClass) return Math.Min(MinimumClass, capacity);
        if (needed > 1 << 30) return capacity;
        return (int)Math.Min(BitOperations.RoundUpToPowerOf2((uint)needed), (uint)capacity);
    }

    /// <summary>An array of exactly <paramref name="size"/> bytes, reused when one is free, else new.</summary>
    public byte[] Rent(int size)
    {
        if (size <= 0) return [];
        BytesRented += size;
        if (_free.TryGetValue(size, out var stack) && stack.TryPop(out var array))
        {
            BytesHeld -= size;
            Reused++;
            return array;
        }
        Allocated++;
        return new byte[size];
    }

    /// <summary>Takes back an array from <see cref="Rent"/>; keeps it for the next rental of its size if the bound allows.</summary>
    public void Return(byte[] array)
    {
        if (array.Length == 0) return;
        BytesRented -= array.Length;
        if (BytesHeld + array.Length > MaximumBytes) return;
        if (!_free.TryGetValue(array.Length, out var stack)) _free[array.Length] = stack = new Stack<byte[]>();
        stack.Push(array);
        BytesHeld += array.Length;
    }
}
