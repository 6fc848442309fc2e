namespace TcpIpSharp.Transport.Tcp;

/// <summary>
/// A congestion-control algorithm: how the window grows on new acknowledgments and how far it falls on a loss. The
/// connection owns the rest (fast retransmit and recovery per RFC 5681/6582, the window of one segment after an RTO).
/// One instance per connection, used on the stack thread only.
/// </summary>
internal interface ICongestionControl
{
    /// <summary>The algorithm's name (for statistics and debug snapshots).</summary>
    string Name { get; }

    /// <summary>The congestion window after <paramref name="ackedBytes"/> newly acknowledged outside recovery.</summary>
    uint OnAck(uint congestionWindow, uint slowStartThreshold, uint ackedBytes, int segmentSize, TimeSpan now, TimeSpan roundTrip);

    /// <summary>The new slow-start threshold when a loss is detected (by duplicate ACKs or SACK, or by a timeout).</summary>
    uint OnLoss(uint congestionWindow, uint flightSize, int segmentSize, TimeSpan now, bool timeout);
}

/// <summary>Which congestion control new connections use.</summary>
public enum CongestionControlKind
{
    /// <summary>CUBIC (RFC 9438), the default, as in Linux.</summary>
    Cubic,
    /// <summary>NewReno (RFC 5681, RFC 6582).</summary>
    NewReno,
}
