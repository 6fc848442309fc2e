using System.Buffers;

namespace TcpIpSharp.Linux;

/// <summary>
/// Memory over one frame in native memory a link does not own (libpcap's capture buffer), so that the frame can be lent
/// in a <see cref="Links.FrameBatch"/> without a copy. One instance per link, pointed at each frame in turn: nothing is
/// allocated per frame. The memory is valid only as long as its owner (libpcap) keeps the frame, which the link's lending
/// contract bounds (until the batch returns).
/// </summary>
internal sealed unsafe class NativeFrameMemory : MemoryManager<byte>
{
    private byte* _pointer;
    private int _length;

    /// <summary>Points at <paramref name="length"/> bytes at <paramref name="pointer"/> (0 and 0 for none).</summary>
    public void Reset(nint pointer, int length)
    {
        _pointer = (byte*)pointer;
        _length = length;
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    // Native memory does not move: pinning is a no-op.
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _length);
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin() { }

    protected override void Dispose(bool disposing) => Reset(0, 0);
}
