namespace TcpIpSharp.Links;

/// <summary>
/// A lending link's record of the one batch it has out (<see cref="ILink.Lend"/>): a second lend before the first batch
/// is returned, or a return of a batch that is not the one out, is a clear error rather than a frame overwritten while
/// the stack still reads it.
/// </summary>
internal struct LendLedger
{
    private FrameBatch? _out;

    /// <summary>True while a batch of this link's frames is out.</summary>
    public readonly bool HasBatchOut => _out is not null;

    /// <summary>Before lending into <paramref name="batch"/>: it must be empty and no other batch out.</summary>
    public readonly void BeginLend(FrameBatch batch)
    {
        batch.CheckEmpty();
        if (_out is not null) throw new InvalidOperationException("the link has a batch out already: return it before lending another (one batch at a time)");
    }

    /// <summary>After lending: records the batch as out when it holds frames.</summary>
    public void EndLend(FrameBatch batch)
    {
        if (batch.Count > 0) _out = batch;
    }

    /// <summary>In <see cref="ILink.Return"/>: checks that <paramref name="batch"/> is the one <paramref name="lender"/> has out, and marks none out.</summary>
    public void Return(ILink lender, FrameBatch batch)
    {
        batch.CheckLentBy(lender);
        if (!ReferenceEquals(_out, batch)) throw new InvalidOperationException("the batch is not the one this link has out");
        _out = null;
    }
}
