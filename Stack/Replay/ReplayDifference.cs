namespace TcpIpSharp.Replay;

/// <summary>One difference between what the recorded host sent and what the stack sent.</summary>
/// <param name="Kind">Missing, extra, or a timeout.</param>
/// <param name="RecordedNumber">The recorded frame's number in the capture (Missing, Timeout: the peer's segment that waited), or 0.</param>
/// <param name="SentIndex">The index in <see cref="ReplayResult.Sent"/> of the stack's frame (Extra), or -1.</param>
/// <param name="Description">The frame, summarised as <c>tcpipsharp decode</c> does.</param>
public sealed record ReplayDifference(ReplayDifferenceKind Kind, long RecordedNumber, int SentIndex, string Description)
{
    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        ReplayDifferenceKind.Missing => $"missing: recorded frame {RecordedNumber}: {Description}",
        ReplayDifferenceKind.Extra => $"extra: the stack's frame {SentIndex + 1}: {Description}",
        _ => $"timeout: before recorded frame {RecordedNumber}: {Description}",
    };
}
