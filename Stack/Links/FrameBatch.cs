namespace TcpIpSharp.Links;

/// <summary>
/// Received frames a link lends its caller in place (<see cref="ILink.Lend"/>): up to <see cref="Limit"/> frames left in
/// the memory the link received them into, read through <see cref="this[int]"/> until the caller hands the batch back
/// with <see cref="ILink.Return"/>. The caller (the stack) makes one batch and reuses it for every lend; nothing about a
/// lend allocates.
/// </summary>
/// <remarks>
/// <para>Who owns what, when: the batch object is the caller's. The bytes of each frame in it are the link's, lent: they
/// stay valid and unchanged from <see cref="ILink.Lend"/> until the caller calls <see cref="ILink.Return"/>, and the caller
/// must hold no reference to them afterwards (a span taken from <see cref="this[int]"/> may then see another frame's
/// bytes; anything kept is copied first). Frames are read-only. A link lends into an empty batch only, and a batch goes
/// back to the link that lent it, once: lending into a batch that still holds frames, or returning one that is empty or
/// was lent by another link, throws <see cref="InvalidOperationException"/>.</para>
/// <para>Links write into the batch with <see cref="Add"/> (a frame and a token of their own, read back with
/// <see cref="TokenAt"/> when the batch returns); a link that copies instead of lending uses <see cref="CopyBuffer"/>,
/// as <see cref="ILink.Lend"/>'s default implementation does.</para>
/// </remarks>
public sealed class FrameBatch
{
    private readonly ReadOnlyMemory<byte>[] _frames;
    private readonly int[] _tokens;
    private readonly byte[] _copyBuffer;
    private ILink? _lender;
    private int _count;
    private int _limit;
    private bool _drained;

    /// <summary>Makes a batch for up to <paramref name="capacity"/> frames, with a copy buffer of <paramref name="copyBufferSize"/> bytes (the link's largest frame).</summary>
    public FrameBatch(int capacity, int copyBufferSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(copyBufferSize);
        _frames = new ReadOnlyMemory<byte>[capacity];
        _tokens = new int[capacity];
        _copyBuffer = new byte[copyBufferSize];
        _limit = capacity;
    }

    /// <summary>The most frames the batch holds.</summary>
    public int Capacity => _frames.Length;

    /// <summary>The most frames the next lend may add (1 to <see cref="Capacity"/>; a caller lowers it to what it has budget for). Set it only while the batch is empty.</summary>
    public int Limit
    {
        get => _limit;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, Capacity);
            if (_count > 0) ThrowStillLent();
            _limit = value;
            _drained = false;   // a lend that found nothing is not returned: its mark must not carry over to the next
        }
    }

    /// <summary>Before each lend of a poll: the limit set only when it changes (the setter's checks were per poll), the drained mark cleared always.</summary>
    internal void PrepareLend(int limit)
    {
        if (limit != _limit) Limit = limit;
        else if (_count > 0) ThrowStillLent();
        else _drained = false;
    }

    /// <summary>Frames lent and not yet returned (0 when the batch is not lent).</summary>
    public int Count => _count;

    /// <summary>True when a link may add no more frames.</summary>
    public bool IsFull => _count >= _limit;

    /// <summary>
    /// True when the link that lent this batch had no further frame ready when it stopped adding (<see cref="MarkDrained"/>),
    /// so that its caller need not ask again before it next waits or polls: a stack's poll then takes one lend, not a
    /// second that finds nothing (for the TAP without io_uring, a read() that fails with EAGAIN; for the in-memory link,
    /// its lock taken again). False when the link cannot tell (the copying default of <see cref="ILink.Lend"/>, libpcap),
    /// and from the start of each lend (<see cref="CheckEmpty"/>, setting <see cref="Limit"/>) and after <see cref="Clear"/>.
    /// </summary>
    public bool Drained => _drained;

    /// <summary>Says that the link had no further frame ready (see <see cref="Drained"/>); a link calls it during its lend.</summary>
    public void MarkDrained() => _drained = true;

    /// <summary>The link whose frames the batch holds, or null when it holds none.</summary>
    public ILink? Lender => _count > 0 ? _lender : null;

    /// <summary>Frame <paramref name="index"/> (0 to <see cref="Count"/> - 1): the link's bytes, valid until the batch is returned.</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            if ((uint)index >= (uint)_count) ThrowIndex(index);
            return _frames[index].Span;
        }
    }

    /// <summary>Frame <paramref name="index"/> as memory, for a link that wraps another and lends its frames on in a batch of its own (<see cref="FaultInjectorLink"/>).</summary>
    internal ReadOnlyMemory<byte> MemoryAt(int index)
    {
        if ((uint)index >= (uint)_count) ThrowIndex(index);
        return _frames[index];
    }

    /// <summary>For links that copy: a buffer of the size given at construction, into which one frame may be copied and then added.</summary>
    public Span<byte> CopyBuffer => _copyBuffer;

    /// <summary>For links: the first <paramref name="length"/> bytes of <see cref="CopyBuffer"/> as a frame to <see cref="Add"/>.</summary>
    public ReadOnlyMemory<byte> CopiedFrame(int length) => new(_copyBuffer, 0, length);

    /// <summary>For links: throws unless the batch is empty (a link lends into an empty batch only).</summary>
    public void CheckEmpty()
    {
        if (_count > 0) ThrowStillLent();
        _drained = false;   // every lend starts here: an empty lend's mark (never returned) does not carry over
    }

    /// <summary>For links: adds a frame lent by <paramref name="lender"/>, with a token the link reads back (<see cref="TokenAt"/>) when the batch returns.</summary>
    /// <exception cref="InvalidOperationException">The batch is full, or holds frames of another link.</exception>
    public void Add(ILink lender, ReadOnlyMemory<byte> frame, int token)
    {
        ArgumentNullException.ThrowIfNull(lender);
        if (_count >= _limit) throw new InvalidOperationException($"the batch is full ({_limit} frames): a link lends at most Limit frames");
        if (_count > 0 && !ReferenceEquals(_lender, lender)) throw new InvalidOperationException("the batch holds frames of another link");
        if (!ReferenceEquals(_lender, lender)) _lender = lender;   // mostly the same link: no store (and no GC write barrier) per frame
        _frames[_count] = frame;
        _tokens[_count] = token;
        _count++;
    }

    /// <summary>For links: the token given with frame <paramref name="index"/>.</summary>
    public int TokenAt(int index)
    {
        if ((uint)index >= (uint)_count) ThrowIndex(index);
        return _tokens[index];
    }

    /// <summary>
    /// For links, in <see cref="ILink.Return"/>: throws unless the batch holds frames that <paramref name="lender"/> lent
    /// (an empty batch was returned already, or never lent).
    /// </summary>
    public void CheckLentBy(ILink lender)
    {
        if (_count == 0) throw new InvalidOperationException("the batch holds no lent frames: returned twice, or never lent");
        if (!ReferenceEquals(_lender, lender)) throw new InvalidOperationException("the batch was lent by another link: return it to the link that lent it");
    }

    /// <summary>For links, at the end of <see cref="ILink.Return"/>: empties the batch (its frames are no longer the caller's).</summary>
    public void Clear()
    {
        // The memory references go too: a returned batch keeps no link buffer reachable.
        // A loop of null stores (no write barrier): one frame per poll is the common small batch, and the span clear was a
        // call into the runtime's helper for it (Array.Clear's type checks cost more still).
        var frames = _frames;
        for (int i = 0; i < _count && i < frames.Length; i++) frames[i] = default;
        _count = 0;
        _drained = false;
        // _lender stays (Lender reads null while the batch is empty): a stack lends from one link for its whole life.
    }

    private static void ThrowStillLent() => throw new InvalidOperationException("the batch still holds lent frames: return it before it is lent into again");
    private void ThrowIndex(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, $"the batch holds {_count} frames");
}
