namespace TcpIpSharp.Transport.Tcp;

/// <summary>NewReno's window: slow start (RFC 3465 with L = 2), additive increase, halving on loss (RFC 5681 3.1).</summary>
internal sealed class NewRenoCongestionControl : ICongestionControl
{
    /// <inheritdoc/>
    public string Name => "newreno";

    /// <inheritdoc/>
    public uint OnAck(uint congestionWindow, uint slowStartThreshold, uint ackedBytes, int segmentSize, TimeSpan now, TimeSpan roundTrip)
    {
        uint mss = (uint)segmentSize;
        if (congestionWindow < slowStartThreshold) return congestionWindow + Math.Min(ackedBytes, 2 * mss);
        return congestionWindow + Math.Max(1u, (uint)((ulong)mss * mss / Math.Max(congestionWindow, 1u)));
    }

    /// <inheritdoc/>
    public uint OnLoss(uint congestionWindow, uint flightSize, int segmentSize, TimeSpan now, bool timeout)
        => Math.Max(flightSize / 2, 2 * (uint)segmentSize);   // RFC 5681 equation (4)
}
