using TcpIpSharp.Storage;

namespace TcpIpSharp.Links;

/// <summary>
/// Wraps a link and, with a seeded random source, drops, duplicates, reorders, corrupts, delays, size-limits and
/// rate-limits the frames sent through it. Held frames are released, in due order, whenever the link is used,
/// so a driver in virtual time must keep polling while frames are held (see <see cref="NextRelease"/>).
/// </summary>
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
    /// <summary>When the next held frame is due, or null when none is held.</summary>
    public TimeSpan? NextRelease
    {
        get
        {
            TimeSpan? next = null;
            for (int i = 0; i < _heldCount; i++) if (next is null || _heldList[i].Due < next) next = _heldList[i].Due;
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
        return _inner.TryReceive(buffer);
    }

    /// <inheritdoc/>
    /// <remarks>Lends the inner link's frames (faults apply on the way out, to frames sent).</remarks>
    public int Lend(FrameBatch batch)
    {
        if (_heldCount > 0) Release(_clock.Now);
        return _inner.Lend(batch);
    }

    /// <inheritdoc/>
    public void Return(FrameBatch batch) => _inner.Return(batch);

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
        return _inner.WaitReadable(timeout);
    }
    /// <inheritdoc/>
    public void Interrupt() => _inner.Interrupt();
    /// <inheritdoc/>
    public void Dispose() => _inner.Dispose();
}
