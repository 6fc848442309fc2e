namespace TcpIpSharp.Wire;

/// <summary>The values of a Timestamps option (RFC 7323 3).</summary>
/// <param name="Value">TSval: the sender's timestamp clock.</param>
/// <param name="EchoReply">TSecr: the most recent TSval received, valid when ACK is set.</param>
public readonly record struct TcpTimestamp(uint Value, uint EchoReply);
