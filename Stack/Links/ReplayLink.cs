namespace TcpIpSharp.Links;

/// <summary>
/// Feeds a capture's frames into a stack, one per <see cref="TryReceive"/>, and records every frame the stack
/// sends back (with the index of the input frame that was last delivered before it). A test and replay tool:
/// recording allocates.
/// </summary>
public sealed class ReplayLink : ILink
{
    private readonly IReadOnlyList<ReadOnlyMemory<byte>> _input;
    private readonly List<(int AfterInput, byte[] Frame)> _sent = [];
    private int _next;

    /// <summary>Creates a link that will deliver <paramref name="input"/> in order.</summary>
    public ReplayLink(IReadOnlyList<ReadOnlyMemory<byte>> input, LinkCapabilities? capabilities = null)
    {
        _input = input;
        Capabilities = capabilities ?? new LinkCapabilities(1500, 65535 + 18, false);
    }

    /// <inheritdoc/>
    public LinkCapabilities Capabilities { get; }
    /// <summary>Input frames delivered so far.</summary>
    public int Delivered => _next;
    /// <summary>True once every input frame was delivered.</summary>
    public bool Finished => _next >= _input.Count;
    /// <summary>
    /// How many more frames <see cref="TryReceive"/> may deliver; -1 (the default) for all. Set it to 1 before each
    /// poll to deliver one frame per poll, at that frame's time.
    /// </summary>
    public int Allowance { get; set; } = -1;
    /// <summary>Frames the stack sent, with the number of input frames delivered before each.</summary>
    public IReadOnlyList<(int AfterInput, byte[] Frame)> Sent => _sent;

    /// <inheritdoc/>
    public int TryReceive(Span<byte> buffer)
    {
        if (Allowance == 0 || _next >= _input.Count) return 0;
        if (Allowance > 0) Allowance--;
        var frame = _input[_next++].Span;
        if (frame.Length > buffer.Length) return 0;
        frame.CopyTo(buffer);
        return frame.Length;
    }

    /// <inheritdoc/>
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        _sent.Add((_next, frame.ToArray()));
        return true;
    }

    /// <inheritdoc/>
    public bool WaitReadable(TimeSpan timeout) => !Finished;
    /// <inheritdoc/>
    public void Interrupt() { }
    /// <inheritdoc/>
    public void Dispose() { }
}
