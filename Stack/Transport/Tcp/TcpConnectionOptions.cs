namespace TcpIpSharp.Transport.Tcp;

/// <summary>Per-connection TCP settings with their defaults (the spirit of lwIP's opt.h, as code).</summary>
public sealed record TcpConnectionOptions
{
    /// <summary>Send ring size: the most unacknowledged plus unsent data held.</summary>
    public int SendBufferSize { get; init; } = 256 * 1024;
    /// <summary>Receive ring size: the largest window advertised.</summary>
    public int ReceiveBufferSize { get; init; } = 256 * 1024;
    /// <summary>Out-of-order ranges held beyond a gap; a segment that would need more is dropped.</summary>
    public int MaxOutOfOrderRanges { get; init; } = 32;
    /// <summary>Disables Nagle's algorithm (RFC 896) when true.</summary>
    public bool NoDelay { get; init; }
    /// <summary>How long an ACK may be delayed (RFC 9293 3.8.6.3: under 0.5 s; Linux uses 40 ms at least).</summary>
    public TimeSpan DelayedAckTimeout { get; init; } = TimeSpan.FromMilliseconds(40);
    /// <summary>RTO before any RTT sample (RFC 6298 2.1).</summary>
    public TimeSpan InitialRetransmissionTimeout { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Lowest RTO. RFC 6298 says 1 s; Linux uses 200 ms, which we follow for loss recovery on fast links.</summary>
    public TimeSpan MinRetransmissionTimeout { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Highest RTO after backoff (RFC 6298 2.5: at least 60 s; Linux TCP_RTO_MAX is 120 s, which gives its 127 s SYN timeout).</summary>
    public TimeSpan MaxRetransmissionTimeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>Retransmissions of data before the connection fails with ETIMEDOUT (Linux tcp_retries2).</summary>
    public int MaxRetransmissions { get; init; } = 15;
    /// <summary>Retransmissions of a SYN or SYN-ACK before giving up (Linux tcp_syn_retries).</summary>
    public int MaxSynRetransmissions { get; init; } = 6;
    /// <summary>Time in TIME-WAIT (2 MSL; Linux uses 60 s).</summary>
    public TimeSpan TimeWaitTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Time in FIN-WAIT-2 after the user closed (Linux tcp_fin_timeout).</summary>
    public TimeSpan FinWait2Timeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Fails the connection when data stays unacknowledged this long (RFC 5482), or null.</summary>
    public TimeSpan? UserTimeout { get; init; }
    /// <summary>Offer timestamps (RFC 7323).</summary>
    public bool Timestamps { get; init; } = true;
    /// <summary>Offer SACK (RFC 2018).</summary>
    public bool SelectiveAcknowledgments { get; init; } = true;
    /// <summary>
    /// RACK-TLP loss detection (RFC 8985) when SACK is in use: a segment is lost when one sent after it was delivered
    /// a reordering window ago, instead of after three duplicate ACKs (RFC 6675 IsLost). On by default, as Linux's
    /// <c>net.ipv4.tcp_recovery</c> 1; connections without SACK keep NewReno's duplicate-ACK rules either way.
    /// </summary>
    public bool RackLossDetection { get; init; } = true;
    /// <summary>Offer window scaling (RFC 7323).</summary>
    public bool WindowScaling { get; init; } = true;
    /// <summary>The window scale shift to offer (0-14), or null (the default): the smallest that lets the window cover
    /// <see cref="ReceiveBufferSize"/>. A replay takes the recorded host's, as it takes its TTL.</summary>
    public int? WindowScale { get; init; }
    /// <summary>Congestion control for new connections (CUBIC by default, as in Linux).</summary>
    public CongestionControlKind CongestionControl { get; init; } = CongestionControlKind.Cubic;
    /// <summary>
    /// Explicit Congestion Notification (RFC 3168). <see cref="TcpEcnMode.Accept"/> by default, as Linux's
    /// <c>tcp_ecn = 2</c>: a peer that asks gets ECN, our own opens do not ask; <see cref="TcpEcnMode.Request"/> asks too.
    /// On a connection that negotiated it, new data goes out ECT(0), a CE mark is echoed with ECE until the peer's CWR,
    /// and an ECE halves the window once per round trip (through the congestion control's loss response) without a
    /// retransmission.
    /// </summary>
    public TcpEcnMode Ecn { get; init; } = TcpEcnMode.Accept;
    /// <summary>How many segments one ACK may grow the congestion window by in slow start (RFC 3465's L: 2, the default).
    /// 0: no limit, as Linux's <c>tcp_slow_start</c>, which grows by every segment an ACK covers; a replay of a Linux
    /// sender facing stretch ACKs needs it to keep Linux's window (docs/replay.md).</summary>
    public int SlowStartAckLimit { get; init; } = 2;
    /// <summary>Initial congestion window in segments (RFC 6928: 10).</summary>
    public int InitialWindowSegments { get; init; } = 10;
    /// <summary>F-RTO (RFC 5682): after a retransmission timeout, send new data on the first ACK and undo the timeout's
    /// reduction when the second ACK shows the original segments were only delayed. On by default, as Linux's
    /// <c>tcp_frto</c>.</summary>
    public bool ForwardRtoRecovery { get; init; } = true;
    /// <summary>Send keepalive probes on an idle connection.</summary>
    public bool KeepAlive { get; init; }
    /// <summary>Idle time before the first keepalive probe.</summary>
    public TimeSpan KeepAliveIdle { get; init; } = TimeSpan.FromHours(2);
    /// <summary>Time between keepalive probes.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(75);
    /// <summary>Unanswered probes before the connection fails.</summary>
    public int KeepAliveCount { get; init; } = 9;
}
