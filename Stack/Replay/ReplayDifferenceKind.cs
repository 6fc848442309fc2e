namespace TcpIpSharp.Replay;

/// <summary>What kind of difference a replay found.</summary>
public enum ReplayDifferenceKind
{
    /// <summary>The recorded host sent a frame the stack did not send (or not in that order).</summary>
    Missing,
    /// <summary>The stack sent a frame the recorded host did not send.</summary>
    Extra,
    /// <summary>The stack had not sent, within <see cref="ReplayOptions.ResponseTimeout"/>, what the host had sent before
    /// a peer's next TCP segment.</summary>
    Timeout,
}
