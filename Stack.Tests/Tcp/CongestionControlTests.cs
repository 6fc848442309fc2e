using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Tcp;

public class CongestionControlTests
{
    private const int Mss = 1000;

    // Drives congestion avoidance for `seconds`, one window of ACKs per RTT; returns cwnd (segments) after each RTT.
    private static List<double> Drive(ICongestionControl cc, uint cwnd, uint ssthresh, double seconds, TimeSpan rtt, TimeSpan start)
    {
        var series = new List<double>();
        var now = start;
        for (double t = 0; t < seconds; t += rtt.TotalSeconds)
        {
            uint windowBytes = cwnd;
            for (uint acked = 0; acked < windowBytes; acked += Mss) cwnd = cc.OnAck(cwnd, ssthresh, Mss, Mss, now, rtt);
            now += rtt;
            series.Add(cwnd / (double)Mss);
        }
        return series;
    }

    [Test]
    public void Cubic_falls_to_beta_and_returns_to_w_max_at_k_concave_then_convex()
    {
        var cubic = new CubicCongestionControl();
        var rtt = TimeSpan.FromMilliseconds(100);
        uint ssthresh = cubic.OnLoss(100 * Mss, 100 * Mss, Mss, TimeSpan.Zero, timeout: false);
        Assert.That(ssthresh, Is.EqualTo(70 * Mss), "RFC 9438 4.6: beta 0.7");
        double k = Math.Cbrt((100 - 70) / 0.4);   // 4.22 s
        var series = Drive(cubic, ssthresh, ssthresh, 2 * k, rtt, TimeSpan.Zero);
        Assert.That(cubic.K, Is.EqualTo(k).Within(1e-9));
        int atK = (int)Math.Round(k / rtt.TotalSeconds) - 1;
        Assert.That(series[atK], Is.EqualTo(100).Within(3), "back at W_max after K seconds");
        double earlyGrowth = series[5] - series[0], lateGrowth = series[atK] - series[atK - 5];
        Assert.That(lateGrowth, Is.LessThan(earlyGrowth), "concave below W_max: growth slows near it");
        double beyond = series[^1] - series[^6];
        Assert.That(series[^1], Is.GreaterThan(105), "convex above W_max: probing for more");
        Assert.That(beyond, Is.GreaterThan(lateGrowth), "growth speeds up again beyond W_max");
    }

    [Test]
    public void Cubic_fast_convergence_lowers_w_max_when_losing_below_it()
    {
        var cubic = new CubicCongestionControl();
        cubic.OnLoss(100 * Mss, 100 * Mss, Mss, TimeSpan.Zero, false);
        cubic.OnLoss(80 * Mss, 80 * Mss, Mss, TimeSpan.FromSeconds(1), false);
        Assert.That(cubic.WindowMax, Is.EqualTo(80 * 1.7 / 2).Within(1e-9), "RFC 9438 4.7");
    }

    [Test]
    public void NewReno_halves_and_then_adds_one_segment_per_round_trip()
    {
        var reno = new NewRenoCongestionControl();
        uint ssthresh = reno.OnLoss(100 * Mss, 100 * Mss, Mss, TimeSpan.Zero, false);
        Assert.That(ssthresh, Is.EqualTo(50 * Mss));
        var series = Drive(reno, ssthresh, ssthresh, 1, TimeSpan.FromMilliseconds(100), TimeSpan.Zero);
        Assert.That(series[^1] - series[0], Is.EqualTo(9).Within(1.0), "about one segment per RTT over 9 RTTs (a partial segment in a window rounds up to one more ACK)");
    }

    [Test]
    public void Both_grow_exponentially_in_slow_start()
    {
        foreach (ICongestionControl cc in new ICongestionControl[] { new CubicCongestionControl(), new NewRenoCongestionControl() })
        {
            uint cwnd = 10 * Mss;
            for (int i = 0; i < 10; i++) cwnd = cc.OnAck(cwnd, uint.MaxValue, Mss, Mss, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
            Assert.That(cwnd, Is.EqualTo(20 * Mss), cc.Name);
        }
    }

    /// <summary>RFC 3465's L = 2 (the default) caps what one stretch ACK adds in slow start; SlowStartAckLimit 0 adds every
    /// segment the ACK covers, a short one as a whole, as Linux's tcp_slow_start does (which a replay of a Linux sender needs).</summary>
    [Test]
    public void Slow_start_per_ack_limit_is_rfc3465s_two_segments_or_none_as_linux()
    {
        foreach (var (limited, linux) in new (ICongestionControl, ICongestionControl)[]
                 { (new CubicCongestionControl(), new CubicCongestionControl(0)), (new NewRenoCongestionControl(), new NewRenoCongestionControl(0)) })
        {
            uint cwnd = 10 * Mss;
            Assert.That(limited.OnAck(cwnd, uint.MaxValue, 26 * Mss, Mss, TimeSpan.Zero, TimeSpan.FromMilliseconds(1)), Is.EqualTo(12 * Mss), limited.Name);
            Assert.That(linux.OnAck(cwnd, uint.MaxValue, 26 * Mss, Mss, TimeSpan.Zero, TimeSpan.FromMilliseconds(1)), Is.EqualTo(36 * Mss), linux.Name);
            Assert.That(linux.OnAck(cwnd, uint.MaxValue, 154, Mss, TimeSpan.Zero, TimeSpan.FromMilliseconds(1)), Is.EqualTo(11 * Mss), "a short segment counts whole");
            Assert.That(linux.OnAck(cwnd, uint.MaxValue, 3 * Mss + 376, Mss, TimeSpan.Zero, TimeSpan.FromMilliseconds(1)), Is.EqualTo(14 * Mss));
        }
    }
}
