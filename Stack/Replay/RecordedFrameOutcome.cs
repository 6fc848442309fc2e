using TcpIpSharp.Diagnostics;

namespace TcpIpSharp.Replay;

/// <summary>A frame the recorded host sent, and whether the stack sent an equivalent one.</summary>
/// <param name="Number">The frame's number in the capture.</param>
/// <param name="Frame">The recorded frame.</param>
/// <param name="SentIndex">The index in <see cref="ReplayResult.Sent"/> of the stack's equivalent frame, or -1.</param>
/// <param name="NotCompared">Null, or why the frame is not compared (an ARP request: when a host asks is a timing choice;
/// IPv6: not supported by the stack yet).</param>
public sealed record RecordedFrameOutcome(long Number, byte[] Frame, int SentIndex, string? NotCompared)
{
    /// <summary>True when the stack sent an equivalent frame, in order.</summary>
    public bool Matched => SentIndex >= 0;
    /// <summary>The frame, summarised as <c>tcpipsharp decode</c> does.</summary>
    public string Description => FrameFormatter.FormatSummary(Frame, Number);
}
