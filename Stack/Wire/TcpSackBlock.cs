namespace TcpIpSharp.Wire;

/// <summary>One block of a SACK option: sequence numbers of the first byte received and of the byte after the last (RFC 2018 3).</summary>
/// <param name="Left">Left edge: first sequence number of the block.</param>
/// <param name="Right">Right edge: sequence number just after the block.</param>
public readonly record struct TcpSackBlock(uint Left, uint Right);
