using TcpIpSharp.Storage;

namespace TcpIpSharp.Links;

/// <summary>
/// Wraps a link and, with a seeded random source, drops, duplicates, reorders, corrupts, delays, size-limits and
/// rate-limits the frames sent through it, and reorders the frames received through it. Held frames are released, in
/// due order, whenever the link is used, so a driver in virtual time must keep polling while frames are held (see
/// <see cref="NextRelease"/>).
/// </summary>
/// <remarks>
/// Without receive faults, <see cref="Lend"/> passes the wrapped link's batch through (its frames, lent in place). With
/// <see cref="FaultOptions.ReceiveReorderRate"/> above 0 the injector lends batches of its own: the wrapped link's frames
/// that pass, in place, and held frames, copied into the injector's pool when they were held; <see cref="Return"/> gives
/// the wrapped link its batch back and frees the held frames' slots.
/// </remarks>
public sealed class FaultInjectorLink : ILink
{
    private readonly ILink _inner;
    private readonly IClock _clock;
    private readonly Random _random;
    private readonly FramePool _held;
    private readonly (int Slot, TimeSpan Due, long Order, long After)[] _heldList;
    private int _heldCount;
    private long _order;
    // Frames that went out (for ReorderDisplacement: a held frame goes once After of them have, 0 for none).
    private long _passed;
    private TokenBucket _bucket;
    // Receive side (FaultOptions.ReceiveReorderRate > 0): frames held back, in the order they were held, and the frames
    // passed on so far (a frame held for K passes on once K more have); the wrapped link's batch while ours is out.
    private readonly FramePool? _rxHeld;
    private readonly (int Slot, TimeSpan Due, long After)[] _rxList = [];
    private int _rxCount;
    private long _rxPassed;
    private FrameBatch? _innerBatch;
    private LendLedger _ledger;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public FaultInjectorLink(ILink inner, FaultOptions options, int seed, IClock clock)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        _inner = inner;
        Options = options;
        _clock = clock;
#pragma warning disable CA5394 // deterministic by design
        _random = new Random(seed);
#pragma warning restore CA5394
        _held = new FramePool(options.MaxHeld, inner.Capabilities.MaxFrameSize);
        _heldList = new (int, TimeSpan, long, long)[options.MaxHeld];
        _bucket = new TokenBucket(options.RateBytesPerSecond, options.BurstBytes);
        if (options.ReceiveReorderRate > 0)
        {
            _rxHeld = new FramePool(options.MaxHeld, inner.Capabilities.MaxFrameSize);
            _rxList = new (int, TimeSpan, long)[options.MaxHeld];
        }
    }

    /// <summary>The faults in force (<see cref="FaultOptions.Cut"/> may be changed while running).</summary>
    public FaultOptions Options { get; }
    /// <summary>Frames dropped, duplicated, reordered, corrupted by the injector.</summary>
    public long Dropped { get; private set; }
    /// <summary>Frames duplicated.</summary>
    public long Duplicated { get; private set; }
    /// <summary>Frames held back to be overtaken.</summary>
    public long Reordered { get; private set; }
    /// <summary>Frames with a changed byte.</summary>
    public long Corrupted { get; private set; }
    /// <summary>Received frames held back to be overtaken (<see cref="FaultOptions.ReceiveReorderRate"/>).</summary>
    public long ReorderedReceived { get; private set; }
    /// <summary>When the next held frame (sent or received) is due, or null when none is held.</summary>
    public TimeSpan? NextRelease
    {
        get
        {
            TimeSpan? next = null;
            for (int i = 0; i < _heldCount; i++) if (next is null || _heldList[i].Due < next) next = _heldList[i].Due;
            for (int i = 0; i < _rxCount; i++) if (next is null || _rxList[i].Due < next) next = _rxList[i].Due;
            return next;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Without segmentation offload: faults apply to frames as they would be on the wire.</remarks>
    public LinkCapabilities Capabilities => _inner.Capabilities with { TcpSegmentationOffload = false };

    /// <inheritdoc/>
    public int TryReceive(Span<byte> buffer)
    {
        if (_heldCount > 0) Release(_clock.Now);
        if (_rxHeld is null) return _inner.TryReceive(buffer);
        var now = _clock.Now;
        while (true)
        {
            int due = DueReceived(now);
            if (due >= 0)
            {
                int slot = TakeReceived(due);
                var frame = _rxHeld[slot];
                int length = frame.Length <= buffer.Length ? frame.Length : 0;
                if (length > 0) frame.CopyTo(buffer);
                else Dropped++;   // longer than the caller's buffer: dropped and counted, as by any link
                _rxHeld.Release(slot);
                _rxPassed++;
                if (length > 0) return length;
                continue;
            }
            int n = _inner.TryReceive(buffer);
            if (n <= 0) return n;
            if (HoldReceived(buffer[..n], now)) continue;
            _rxPassed++;
            return n;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Without receive faults, lends the wrapped link's batch as it is (faults apply to frames sent); with
    /// them, a batch of the injector's own (see the remarks on <see cref="FaultInjectorLink"/>).</remarks>
    public int Lend(FrameBatch batch)
    {
        if (_heldCount > 0) Release(_clock.Now);
        return _rxHeld is null ? _inner.Lend(batch) : LendReordered(batch);
    }

    /// <inheritdoc/>
    public void Return(FrameBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (_rxHeld is null || !_ledger.HasBatchOut)
        {
            _inner.Return(batch);   // the wrapped link's batch, or a batch no one lent (the wrapped link says so)
            return;
        }
        _ledger.Return(this, batch);
        for (int i = 0; i < batch.Count; i++)
            if (batch.TokenAt(i) < 0) _rxHeld.Release(-batch.TokenAt(i) - 1);
        if (_innerBatch!.Count > 0) _inner.Return(_innerBatch);
        batch.Clear();
    }

#pragma warning disable CA5394 // deterministic by design
    // The wrapped link's frames, some held back; held frames passed on when due: by time before the new frames, by
    // count right after the frame that made them due. Tokens: a frame of the wrapped link's batch by its index, a held
    // frame by -(slot + 1).
    private int LendReordered(FrameBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _ledger.BeginLend(batch);
        var now = _clock.Now;
        int due;
        while (!batch.IsFull && (due = DueReceived(now)) >= 0) AddHeld(batch, TakeReceived(due));
        // A lend of the wrapped link's whose every frame was held lends nothing: the next one is asked, so that 0 still
        // means that no frame is ready.
        while (!batch.IsFull)
        {
            _innerBatch ??= new FrameBatch(batch.Capacity, _inner.Capabilities.MaxFrameSize);
            _innerBatch.PrepareLend(Math.Min(batch.Limit - batch.Count, _innerBatch.Capacity));
            int n = _inner.Lend(_innerBatch);
            for (int i = 0; i < n; i++)
            {
                // Held frames that went in before fill the batch: the rest of the wrapped link's batch waits, copied, due
                // at once and behind them (room for a whole batch is kept for this: HoldReceived).
                if (batch.IsFull) { CarryReceived(_innerBatch[i], now); continue; }
                if (HoldReceived(_innerBatch[i], now, reserve: _innerBatch.Capacity)) continue;
                batch.Add(this, _innerBatch.MemoryAt(i), i);
                _rxPassed++;
                // Held frames that this one made due follow it at once.
                while (!batch.IsFull && (due = DueReceived(now)) >= 0) AddHeld(batch, TakeReceived(due));
            }
            if (_innerBatch.Drained && DueReceived(now) < 0) batch.MarkDrained();
            if (batch.Count > 0 || n == 0) break;
            _inner.Return(_innerBatch);   // every frame held
            if (batch.Drained) break;
        }
        _ledger.EndLend(batch);
        return batch.Count;
    }

    private void AddHeld(FrameBatch batch, int slot)
    {
        batch.Add(this, _rxHeld!.MemoryOf(slot), -slot - 1);
        _rxPassed++;
    }

    // Holds a received frame back (a copy in the pool) with the receive reordering's probability, while more than
    // `reserve` slots stay free; false when it passes.
    private bool HoldReceived(ReadOnlySpan<byte> frame, TimeSpan now, int reserve = 0)
    {
        var o = Options;
        if (_random.NextDouble() >= o.ReceiveReorderRate || _rxList.Length - _rxCount <= reserve || _rxHeld!.Capacity - _rxHeld.InUse <= reserve) return false;
        int slot = _rxHeld.TryStore(frame);
        if (slot < 0) return false;   // too long for the pool: passed on in order
        var delay = o.ReceiveReorderDisplacement > 0 ? o.ReceiveReorderDelay : o.ReceiveReorderDelay * (0.5 + _random.NextDouble() / 2);
        _rxList[_rxCount++] = (slot, now + delay, o.ReceiveReorderDisplacement > 0 ? _rxPassed + o.ReceiveReorderDisplacement : 0);
        ReorderedReceived++;
        return true;
    }
#pragma warning restore CA5394

    // A frame of the wrapped link's batch that did not fit the caller's, copied to go first in the next lend.
    private void CarryReceived(ReadOnlySpan<byte> frame, TimeSpan now)
    {
        int slot = _rxCount < _rxList.Length ? _rxHeld!.TryStore(frame) : -1;
        if (slot < 0) { Dropped++; return; }   // not when HoldReceived kept its reserve
        _rxList[_rxCount++] = (slot, now, 0);
    }

    // The first held received frame that is due (by time, or by the frames passed on since it was held), or -1.
    private int DueReceived(TimeSpan now)
    {
        for (int i = 0; i < _rxCount; i++)
        {
            var h = _rxList[i];
            if (h.Due <= now || (h.After > 0 && h.After <= _rxPassed)) return i;
        }
        return -1;
    }

    // Removes entry i from the held list (keeping the order they were held in) and returns its slot.
    private int TakeReceived(int i)
    {
        int slot = _rxList[i].Slot;
        Array.Copy(_rxList, i + 1, _rxList, i, _rxCount - i - 1);
        _rxCount--;
        return slot;
    }

#pragma warning disable CA5394 // deterministic by design
    /// <inheritdoc/>
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        // One clock reading for the whole call: every frame still held after this Release is due later than now, so a
        // frame that is not delayed goes out at once, still in due order, without a copy into the pool. (Before, while
        // any frame was held, every frame was copied into the pool and released by a scan, and the clock was read
        // three times a frame: the injector's own cost grew with the reordering it was there to produce.)
        var now = _clock.Now;
        Release(now);
        var o = Options;
        if (o.Cut || _random.NextDouble() < o.DropRate || (o.MaxFrameSize > 0 && frame.Length > o.MaxFrameSize)
            || (o.RateBytesPerSecond > 0 && !_bucket.TryTake(now, frame.Length)))
        {
            Dropped++;
            return true;   // lost on the wire, not refused by the link
        }
        int copies = _random.NextDouble() < o.DuplicateRate ? 2 : 1;
        if (copies == 2) Duplicated++;
        bool stored = false;
        for (int c = 0; c < copies; c++)
        {
            var delay = o.Delay + (o.Jitter > TimeSpan.Zero ? o.Jitter * _random.NextDouble() : TimeSpan.Zero);
            long after = 0;
            if (_random.NextDouble() < o.ReorderRate)
            {
                Reordered++;
                if (o.ReorderDisplacement > 0) { delay += o.ReorderDelay; after = _passed + o.ReorderDisplacement; }
                else delay += o.ReorderDelay * (0.5 + _random.NextDouble() / 2);
            }
            bool corrupt = _random.NextDouble() < o.CorruptRate && frame.Length > 0;
            if (delay <= TimeSpan.Zero && !corrupt)
            {
                SendNow(frame);
                if (_heldCount > 0) Release(now);   // a frame held for K later frames may be due by count now
                continue;
            }
            int slot = _held.TryStore(frame);
            if (slot < 0 || _heldCount == _heldList.Length) { Dropped++; continue; }
            if (corrupt)
            {
                var held = _held[slot];
                held[_random.Next(held.Length)] ^= (byte)(1 + _random.Next(255));
                Corrupted++;
            }
            _heldList[_heldCount++] = (slot, now + delay, _order++, after);
            stored = true;
        }
        if (stored) Release(now);   // a corrupted frame without delay is due now
        return true;
    }
#pragma warning restore CA5394

    private void SendNow(ReadOnlySpan<byte> frame)
    {
        _inner.TrySend(frame);
        _passed++;
    }

    // Sends every held frame that is due (by time, or by the frames that overtook it), earliest first (ties in the
    // order they were sent).
    private void Release(TimeSpan now)
    {
        while (_heldCount > 0)
        {
            int best = -1;
            for (int i = 0; i < _heldCount; i++)
            {
                var h = _heldList[i];
                if (h.After > 0 && h.After <= _passed) h.Due = now;
                if (h.Due > now) continue;
                var b = best < 0 ? default : _heldList[best];
                if (best < 0) { best = i; continue; }
                var bDue = b.After > 0 && b.After <= _passed ? now : b.Due;
                if (h.Due < bDue || (h.Due == bDue && h.Order < b.Order)) best = i;
            }
            if (best < 0) return;
            int slot = _heldList[best].Slot;
            _heldList[best] = _heldList[--_heldCount];
            SendNow(_held[slot]);
            _held.Release(slot);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Waits no longer than until the next held frame is due, so a driver in real time that sleeps on the
    /// link releases it on time (the next <see cref="TryReceive"/> or <see cref="TrySend"/> sends it).</remarks>
    public bool WaitReadable(TimeSpan timeout)
    {
        if (NextRelease is TimeSpan due)
        {
            var left = due - _clock.Now;
            if (left < timeout) timeout = left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
        return _inner.WaitReadable(timeout) || (_rxCount > 0 && DueReceived(_clock.Now) >= 0);
    }
    /// <inheritdoc/>
    public void Interrupt() => _inner.Interrupt();
    /// <inheritdoc/>
    public void Dispose() => _inner.Dispose();
}
