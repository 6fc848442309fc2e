namespace TcpIpSharp.Links;

/// <summary>
/// A link carries whole Ethernet frames (without FCS) to and from one interface. Links never block in
/// <see cref="TryReceive"/> or <see cref="TrySend"/>; the thread that drives the stack waits on
/// <see cref="WaitReadable"/> when it has nothing else to do.
/// </summary>
public interface ILink : IDisposable
{
    /// <summary>What the link carries and what it does for the stack.</summary>
    LinkCapabilities Capabilities { get; }

    /// <summary>Copies one received frame into <paramref name="buffer"/> and returns its length, or 0 when no frame is ready. A frame longer than the buffer is dropped and counted by the link.</summary>
    int TryReceive(Span<byte> buffer);

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
