namespace TcpIpSharp.Storage;

/// <summary>
/// Ring storage for TCP connections, reused: a connection rents its send and receive arrays when it is made and
/// gives them back when the user has closed it and the stack no longer needs them (TIME-WAIT or CLOSED). Opening and
/// closing many connections then allocates and zeroes no ring memory (with the default 256 KB rings that was 1 MB per
/// connection pair, 99% of the cost of a short connection). Single-threaded, like the rest of the core. What it keeps
/// is bounded by <see cref="MaximumBytes"/>: beyond it, returned arrays are left to the garbage collector.
/// </summary>
/// <remarks>A rented array holds whatever the last connection left in it: the rings only ever read bytes written
/// since they were made, so stale bytes are never exposed.</remarks>
internal sealed class BufferPool(long maximumBytes)
{
    private readonly Dictionary<int, Stack<byte[]>> _free = [];

    /// <summary>Most bytes kept for reuse.</summary>
    public long MaximumBytes { get; } = maximumBytes;
    /// <summary>Bytes kept for reuse now.</summary>
    public long BytesHeld { get; private set; }
    /// <summary>Rentals served from the pool.</summary>
    public long Reused { get; private set; }

    /// <summary>An array of exactly <paramref name="size"/> bytes, reused when one is free.</summary>
    public byte[] Rent(int size)
    {
        if (size <= 0) return [];
        if (_free.TryGetValue(size, out var stack) && stack.TryPop(out var array))
        {
            BytesHeld -= size;
            Reused++;
            return array;
        }
        return new byte[size];
    }

    /// <summary>Keeps <paramref name="array"/> for the next rental of its size, if the bound allows.</summary>
    public void Return(byte[] array)
    {
        if (array.Length == 0 || BytesHeld + array.Length > MaximumBytes) return;
        if (!_free.TryGetValue(array.Length, out var stack)) _free[array.Length] = stack = new Stack<byte[]>();
        stack.Push(array);
        BytesHeld += array.Length;
    }
}
