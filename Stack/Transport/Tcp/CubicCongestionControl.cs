namespace TcpIpSharp.Transport.Tcp;

/// <summary>
/// CUBIC (RFC 9438): after a loss the window follows W(t) = C (t - K)^3 + W_max, concave up to the window at the loss
/// and convex beyond it, with β = 0.7, C = 0.4, fast convergence, and the Reno-friendly estimate as a floor.
/// Slow start is standard (RFC 3465, L = 2).
/// </summary>
internal sealed class CubicCongestionControl(int slowStartAckLimit = 2) : ICongestionControl
{
    // RFC 3465 L, in segments; 0 is no limit (Linux).
    private readonly uint _slowStartAckLimit = (uint)Math.Max(0, slowStartAckLimit);

    private const double Beta = 0.7;                                   // RFC 9438 4.6
    private const double C = 0.4;                                      // RFC 9438 5
    private const double AlphaCubic = 3 * (1 - Beta) / (1 + Beta);     // RFC 9438 4.3
    private double _windowMax;          // W_max, in segments
    private double _k;                  // seconds to reach W_max again
    private double _estimate;           // W_est, the Reno-friendly window, in segments
    private Deadline _epochStart = Deadline.None;   // when the epoch began (none: not begun), 8 bytes where TimeSpan? took 16

    /// <inheritdoc/>
    public string Name => "cubic";

    /// <summary>W_max in segments (for tests and debug snapshots).</summary>
    public double WindowMax => _windowMax;
    /// <summary>K in seconds.</summary>
    public double K => _k;

    /// <inheritdoc/>
    public uint OnAck(uint congestionWindow, uint slowStartThreshold, uint ackedBytes, int segmentSize, TimeSpan now, TimeSpan roundTrip)
    {
        double mss = segmentSize;
        if (congestionWindow < slowStartThreshold) return congestionWindow + (_slowStartAckLimit == 0 ? LinuxSlowStart(ackedBytes, (uint)segmentSize) : Math.Min(ackedBytes, _slowStartAckLimit * (uint)segmentSize));
        double cwnd = congestionWindow / mss;
        if (!_epochStart.HasValue)
        {
            // RFC 9438 4.2: a congestion-avoidance epoch starts; K from the window at the last loss.
            _epochStart = now;
            if (_windowMax < cwnd) { _windowMax = cwnd; _k = 0; }
            else _k = Math.Cbrt((_windowMax - cwnd) / C);
            _estimate = cwnd;
        }
        double t = (now - _epochStart.Value).TotalSeconds;
        double rtt = roundTrip > TimeSpan.Zero ? roundTrip.TotalSeconds : 0.001;
        double target = C * Math.Pow(t + rtt - _k, 3) + _windowMax;    // W_cubic(t + RTT), RFC 9438 4.2
        double acked = ackedBytes / mss;
        _estimate += AlphaCubic * acked / cwnd;                          // RFC 9438 4.3
        double next;
        if (target < _estimate) next = _estimate;                        // Reno-friendly region
        else
        {
            // RFC 9438 4.4/4.5: move toward the target by (target - cwnd) / cwnd per acknowledged segment,
            // but never by more than half the window per RTT.
            target = Math.Min(target, 1.5 * cwnd);
            next = cwnd + Math.Max(0, target - cwnd) / cwnd * acked;
        }
        return Math.Max(congestionWindow, (uint)Math.Min(next * mss, int.MaxValue));
    }

    /// <inheritdoc/>
    public uint OnLoss(uint congestionWindow, uint flightSize, int segmentSize, TimeSpan now, bool timeout)
    {
        double cwnd = congestionWindow / (double)segmentSize;
        // RFC 9438 4.7 (fast convergence): a flow losing below its last W_max lowers W_max further.
        _windowMax = cwnd < _windowMax ? cwnd * (1 + Beta) / 2 : cwnd;
        _epochStart = null;
        uint threshold = (uint)(congestionWindow * Beta);               // RFC 9438 4.6
        return Math.Max(threshold, 2 * (uint)segmentSize);
    }

    // Linux counts its window in segments (tcp_slow_start: cwnd += segments acknowledged), a short segment as a whole
    // one: an ACK grows the window by the segments it covers, rounded up (exact for one short segment among full ones).
    private static uint LinuxSlowStart(uint ackedBytes, uint segmentSize) => (ackedBytes + segmentSize - 1) / segmentSize * segmentSize;
}
