namespace TcpIpSharp.Transport.Tcp;

/// <summary>
/// Whether a connection uses Explicit Congestion Notification (RFC 3168): the same three choices as Linux's
/// <c>net.ipv4.tcp_ecn</c> (0, 2 and 1).
/// </summary>
public enum TcpEcnMode
{
    /// <summary>Never: SYNs do not ask, and a peer's ECN-setup SYN is answered with a plain SYN-ACK (Linux's 0).</summary>
    Off,
    /// <summary>The default: answer a peer's ECN-setup SYN with an ECN-setup SYN-ACK, but do not ask on our own opens (Linux's 2, its default).</summary>
    Accept,
    /// <summary>Ask on our own opens (an ECN-setup SYN, ECE and CWR) and answer peers that ask (Linux's 1).</summary>
    Request,
}
