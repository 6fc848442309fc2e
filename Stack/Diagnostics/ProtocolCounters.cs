namespace TcpIpSharp.Diagnostics;

/// <summary>Packets received, sent, dropped and in error for one protocol (the shape of lwIP's <c>stats_proto</c>).</summary>
public sealed class ProtocolCounters
{
    internal long ReceivedCount;
    internal long SentCount;
    internal long DroppedCount;
    internal long ErrorCount;

    /// <summary>Packets received and accepted for processing.</summary>
    public long Received => Volatile.Read(ref ReceivedCount);
    /// <summary>Packets sent.</summary>
    public long Sent => Volatile.Read(ref SentCount);
    /// <summary>Packets dropped (see the drop reasons).</summary>
    public long Dropped => Volatile.Read(ref DroppedCount);
    /// <summary>Packets malformed or failing a checksum (also counted as dropped).</summary>
    public long Errors => Volatile.Read(ref ErrorCount);
}
