namespace TcpIpSharp.Transport.Tcp;

/// <summary>The connection states of RFC 9293 3.3.2.</summary>
public enum TcpState
{
    /// <summary>No connection.</summary>
    Closed,
    /// <summary>Waiting for a SYN.</summary>
    Listen,
    /// <summary>SYN sent, waiting for the peer's SYN.</summary>
    SynSent,
    /// <summary>SYN received and answered, waiting for the ACK of ours.</summary>
    SynReceived,
    /// <summary>Open: data flows both ways.</summary>
    Established,
    /// <summary>We sent FIN, not yet acknowledged.</summary>
    FinWait1,
    /// <summary>Our FIN acknowledged, waiting for the peer's.</summary>
    FinWait2,
    /// <summary>The peer sent FIN; we may still send.</summary>
    CloseWait,
    /// <summary>Both sent FIN at once; waiting for the ACK of ours.</summary>
    Closing,
    /// <summary>We sent FIN after the peer's; waiting for its ACK.</summary>
    LastAck,
    /// <summary>Both FINs acknowledged; waiting out 2 MSL.</summary>
    TimeWait,
}
