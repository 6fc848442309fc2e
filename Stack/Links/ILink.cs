namespace TcpIpSharp.Links;

/// <summary>
/// A link carries whole Ethernet frames (without FCS) to and from one interface. Links never block in
/// <see cref="TryReceive"/>, <see cref="Lend"/> or <see cref="TrySend"/>; the thread that drives the stack waits on
/// <see cref="WaitReadable"/> when it has nothing else to do.
/// </summary>
/// <remarks>
/// <para>Two ways to receive. <see cref="TryReceive"/> copies one frame into the caller's buffer, which is the caller's
/// before and after. <see cref="Lend"/> (what the stack uses) lends a batch of frames in place: the link adds frames
/// that stay in its own receive buffers to the caller's <see cref="FrameBatch"/>; from then until the caller calls
/// <see cref="Return"/> those bytes are the caller's to read and no one's to change (the link neither reuses nor
/// rewrites them), and after it they are the link's again, so the caller keeps no reference to them: whatever it keeps
/// (a fragment for reassembly, out-of-order TCP data, a frame queued for a neighbour) it has copied. One batch is out
/// per link at a time; a link lends at most <see cref="FrameBatch.Limit"/> frames per call and may lend fewer (libpcap
/// lends one: its frame is valid only until the next read). A link that knows it has no further frame ready says so with
/// <see cref="FrameBatch.MarkDrained"/>, and the stack then does not lend again in the same poll. Lending into a batch still lent, lending a second batch
/// before the first is returned (a lending link; the copying default has nothing to protect and does not check it),
/// and returning a batch twice or to a link that did not lend it all throw <see cref="InvalidOperationException"/>.</para>
/// <para>A link that implements only <see cref="TryReceive"/> still works: the default <see cref="Lend"/> copies one
/// frame into the batch's <see cref="FrameBatch.CopyBuffer"/> and lends that, the one copy every frame cost before.
/// As with <see cref="TryReceive"/>, one thread (the stack's) calls <see cref="Lend"/> and <see cref="Return"/>.</para>
/// </remarks>
public interface ILink : IDisposable
{
    /// <summary>What the link carries and what it does for the stack.</summary>
    LinkCapabilities Capabilities { get; }

    /// <summary>Copies one received frame into <paramref name="buffer"/> and returns its length, or 0 when no frame is ready. A frame longer than the buffer is dropped and counted by the link.</summary>
    int TryReceive(Span<byte> buffer);

    /// <summary>
    /// Lends up to <see cref="FrameBatch.Limit"/> received frames in place by adding them to <paramref name="batch"/>
    /// (which must be empty), and returns how many; 0 when none is ready (the batch is then not lent). The frames stay
    /// valid and unchanged until <see cref="Return"/>; see the remarks on <see cref="ILink"/> for who owns what when.
    /// </summary>
    /// <remarks>The default copies one frame through <see cref="TryReceive"/> into <see cref="FrameBatch.CopyBuffer"/> (for
    /// links that have no buffers of their own to lend).</remarks>
    /// <exception cref="InvalidOperationException">The batch still holds frames, or (a lending link) another batch is out.</exception>
    int Lend(FrameBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.CheckEmpty();
        int length = TryReceive(batch.CopyBuffer);
        if (length <= 0) return 0;
        batch.Add(this, batch.CopiedFrame(length), 0);
        return 1;
    }

    /// <summary>Takes back the frames lent in <paramref name="batch"/> and empties it; the caller holds no reference to them from now on.</summary>
    /// <exception cref="InvalidOperationException">The batch is empty (returned twice, or never lent) or was lent by another link.</exception>
    void Return(FrameBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.CheckLentBy(this);
        batch.Clear();
    }

    /// <summary>Transmits one frame; false when the link cannot take it now (the caller counts the drop).</summary>
    bool TrySend(ReadOnlySpan<byte> frame);

    /// <summary>
    /// Transmits one TCP/IPv4 frame of up to 64 KB that the link cuts into segments carrying <paramref name="segmentSize"/>
    /// payload bytes each (TSO), filling each one's checksum. The caller stores the folded pseudo-header sum (over the
    /// whole frame's TCP length, not complemented) in the TCP checksum field, as Linux does for a partial checksum.
    /// Only links whose <see cref="LinkCapabilities.TcpSegmentationOffload"/> is true take it; the others return false.
    /// </summary>
    bool TrySendTcpSegments(ReadOnlySpan<byte> frame, int segmentSize) => false;

    /// <summary>Blocks until a frame may be ready, <paramref name="timeout"/> passes, or <see cref="Interrupt"/> is called. Returns true when a frame may be ready.</summary>
    bool WaitReadable(TimeSpan timeout);

    /// <summary>Wakes a thread blocked in <see cref="WaitReadable"/> (thread-safe).</summary>
    void Interrupt();
}
