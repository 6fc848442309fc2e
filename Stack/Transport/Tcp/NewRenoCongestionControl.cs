namespace TcpIpSharp.Transport.Tcp;

/// <summary>NewReno's window: slow start (RFC 3465 with L = 2), additive increase, halving on loss (RFC 5681 3.1).</summary>
internal sealed class NewRenoCongestionControl(int slowStartAckLimit = 2) : ICongestionControl
{
    // RFC 3465 L, in segments; 0 is no limit (Linux).
    private readonly uint _slowStartAckLimit = (uint)Math.Max(0, slowStartAckLimit);

    /// <inheritdoc/>
    public string Name => "newreno";

    /// <inheritdoc/>
    public uint OnAck(uint congestionWindow, uint slowStartThreshold, uint ackedBytes, int segmentSize, TimeSpan now, TimeSpan roundTrip)
    {
        uint mss = (uint)segmentSize;
        if (congestionWindow < slowStartThreshold) return congestionWindow + (_slowStartAckLimit == 0 ? LinuxSlowStart(ackedBytes, (uint)segmentSize) : Math.Min(ackedBytes, _slowStartAckLimit * mss));
        return congestionWindow + Math.Max(1u, (uint)((ulong)mss * mss / Math.Max(congestionWindow, 1u)));
    }

    /// <inheritdoc/>
    public uint OnLoss(uint congestionWindow, uint flightSize, int segmentSize, TimeSpan now, bool timeout)
        => Math.Max(flightSize / 2, 2 * (uint)segmentSize);   // RFC 5681 equation (4)

    // Linux counts its window in segments (tcp_slow_start: cwnd += segments acknowledged), a short segment as a whole
    // one: an ACK grows the window by the segments it covers, rounded up (exact for one short segment among full ones).
    private static uint LinuxSlowStart(uint ackedBytes, uint segmentSize) => (ackedBytes + segmentSize - 1) / segmentSize * segmentSize;
}
