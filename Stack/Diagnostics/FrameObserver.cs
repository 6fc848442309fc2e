namespace TcpIpSharp.Diagnostics;

/// <summary>Sees every frame the stack receives or sends (a tracer); called on the stack thread, must not keep the span.</summary>
/// <param name="frame">The Ethernet frame.</param>
/// <param name="outgoing">True for frames the stack sends.</param>
/// <param name="now">The stack's time.</param>
public delegate void FrameObserver(ReadOnlySpan<byte> frame, bool outgoing, TimeSpan now);
