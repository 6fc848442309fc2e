using TcpIpSharp.Storage;

namespace TcpIpSharp.Links;

/// <summary>
/// One end of an in-memory link pair: what one end sends, the other receives, in order, through a bounded
/// queue of preallocated frame slots (a full queue drops, as a NIC ring does). Thread-safe, so two stacks may
/// run on two threads; in virtual-time tests both run on one.
/// </summary>
/// <remarks>
/// <see cref="Lend"/> lends the queued frames themselves: the slots the peer's send copied each frame into (the one copy a
/// frame costs on this link), held out of the pool until <see cref="Return"/>, so a lent frame still counts against the
/// queue's bound while the stack reads it.
/// </remarks>
public sealed class InMemoryLink : ILink
{
    private readonly object _gate = new();
    private readonly FramePool _pool;
    private readonly int[] _ring;
    private int _head, _count;
    private InMemoryLink? _peer;
    private readonly SemaphoreSlim _signal = new(0, 1);
    private LendLedger _lent;

    private InMemoryLink(LinkCapabilities capabilities, int queueFrames)
    {
        Capabilities = capabilities;
        _pool = new FramePool(queueFrames, capabilities.MaxFrameSize);
        _ring = new int[queueFrames];
    }

    /// <summary>Creates two joined ends.</summary>
    /// <param name="capabilities">Both ends' capabilities (plain Ethernet when null).</param>
    /// <param name="queueFrames">Frames each direction holds before dropping.</param>
    public static (InMemoryLink A, InMemoryLink B) CreatePair(LinkCapabilities? capabilities = null, int queueFrames = 1024)
    {
        var caps = capabilities ?? LinkCapabilities.Ethernet;
        var a = new InMemoryLink(caps, queueFrames);
        var b = new InMemoryLink(caps, queueFrames);
        a._peer = b;
        b._peer = a;
        return (a, b);
    }

    /// <inheritdoc/>
    public LinkCapabilities Capabilities { get; }
    /// <summary>Frames dropped because this end's receive queue was full.</summary>
    public long Overflows { get; private set; }
    /// <summary>
    /// Tests: overwrite every frame as its batch is returned (<see cref="Return"/>), so that a stack that kept a reference
    /// to a lent frame reads garbage and its checks fail, instead of reading a frame that happens to be intact still.
    /// </summary>
    internal bool PoisonReturnedFrames { get; set; }

    /// <summary>Frames waiting to be received at this end.</summary>
    public int Pending { get { lock (_gate) return _count; } }

    /// <inheritdoc/>
    public int TryReceive(Span<byte> buffer)
    {
        lock (_gate)
        {
            if (_count == 0) return 0;
            int slot = _ring[_head];
            _head = (_head + 1) % _ring.Length;
            _count--;
            var frame = _pool[slot];
            int length = frame.Length;
            bool fits = length <= buffer.Length;
            if (fits) frame.CopyTo(buffer);
            _pool.Release(slot);
            return fits ? length : 0;
        }
    }

    /// <inheritdoc/>
    public int Lend(FrameBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_gate)
        {
            _lent.BeginLend(batch);
            while (_count > 0 && !batch.IsFull)
            {
                int slot = _ring[_head];
                _head = (_head + 1) % _ring.Length;
                _count--;
                batch.Add(this, _pool.MemoryOf(slot), slot);
            }
            if (_count == 0) batch.MarkDrained();
            _lent.EndLend(batch);
            return batch.Count;
        }
    }

    /// <inheritdoc/>
    public void Return(FrameBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_gate)
        {
            _lent.Return(this, batch);
            for (int i = 0; i < batch.Count; i++)
            {
                int slot = batch.TokenAt(i);
                if (PoisonReturnedFrames) _pool[slot].Fill(0xA5);
                _pool.Release(slot);
            }
            batch.Clear();
        }
    }

    /// <inheritdoc/>
    public bool TrySend(ReadOnlySpan<byte> frame) => _peer!.Enqueue(frame);

    private bool Enqueue(ReadOnlySpan<byte> frame)
    {
        lock (_gate)
        {
            int slot = _count == _ring.Length ? -1 : _pool.TryStore(frame);
            if (slot < 0) { Overflows++; return false; }
            _ring[(_head + _count) % _ring.Length] = slot;
            _count++;
        }
        if (_signal.CurrentCount == 0) { try { _signal.Release(); } catch (SemaphoreFullException) { } }
        return true;
    }

    /// <inheritdoc/>
    public bool WaitReadable(TimeSpan timeout)
    {
        if (Pending > 0) return true;
        _signal.Wait(timeout);
        return Pending > 0;
    }

    /// <inheritdoc/>
    public void Interrupt()
    {
        if (_signal.CurrentCount == 0) { try { _signal.Release(); } catch (SemaphoreFullException) { } }
    }

    /// <inheritdoc/>
    public void Dispose() => _signal.Dispose();
}
