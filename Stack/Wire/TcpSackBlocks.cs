namespace TcpIpSharp.Wire;

/// <summary>Up to four SACK blocks held inline (no allocation), in the order they appear on the wire (RFC 2018 3).</summary>
/// <remarks>Forty option bytes hold at most four blocks (2 + 4 * 8 = 34), so four is the most a segment carries.</remarks>
public readonly record struct TcpSackBlocks
{
    /// <summary>Most blocks one SACK option can carry.</summary>
    public const int MaximumCount = 4;

    // Unused slots stay default so that record equality compares only what is present.
    private readonly TcpSackBlock _block0, _block1, _block2, _block3;

    /// <summary>Number of blocks, 0..4.</summary>
    public int Count { get; }

    /// <summary>Copies up to four blocks.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More than <see cref="MaximumCount"/> blocks.</exception>
    public TcpSackBlocks(ReadOnlySpan<TcpSackBlock> blocks)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blocks.Length, MaximumCount, nameof(blocks));
        Count = blocks.Length;
        if (blocks.Length > 0) _block0 = blocks[0];
        if (blocks.Length > 1) _block1 = blocks[1];
        if (blocks.Length > 2) _block2 = blocks[2];
        if (blocks.Length > 3) _block3 = blocks[3];
    }

    /// <summary>The block at <paramref name="index"/> (0 is the first on the wire).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Index not below <see cref="Count"/>.</exception>
    public TcpSackBlock this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) ThrowIndex(index);
            return index switch { 0 => _block0, 1 => _block1, 2 => _block2, _ => _block3 };
        }
    }

    /// <summary>The first <paramref name="count"/> blocks (fewer when there are fewer).</summary>
    public TcpSackBlocks Take(int count)
    {
        count = Math.Clamp(count, 0, Count);
        Span<TcpSackBlock> blocks = [_block0, _block1, _block2, _block3];
        return new TcpSackBlocks(blocks[..count]);
    }

    /// <summary>A copy with one more block at the end.</summary>
    /// <exception cref="InvalidOperationException">Already four blocks.</exception>
    public TcpSackBlocks Add(TcpSackBlock block)
    {
        if (Count == MaximumCount) ThrowFull();
        Span<TcpSackBlock> blocks = [_block0, _block1, _block2, _block3];
        blocks[Count] = block;
        return new TcpSackBlocks(blocks[..(Count + 1)]);
    }

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Count = ").Append(Count);
        for (int i = 0; i < Count; i++) builder.Append(", ").Append(this[i]);
        return true;
    }

    private static void ThrowIndex(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, "no such SACK block");
    private static void ThrowFull() => throw new InvalidOperationException("a SACK option holds at most four blocks");
}
