namespace TcpIpSharp.Wire;

/// <summary>TCP control bits (RFC 9293 3.1, RFC 3168 for ECE/CWR, RFC 3540 for NS).</summary>
[Flags]
public enum TcpFlags : ushort
{
    /// <summary>No control bit set.</summary>
    None = 0,
    /// <summary>No more data from sender.</summary>
    Fin = 0x001,
    /// <summary>Synchronize sequence numbers.</summary>
    Syn = 0x002,
    /// <summary>Reset the connection.</summary>
    Rst = 0x004,
    /// <summary>Push function.</summary>
    Psh = 0x008,
    /// <summary>Acknowledgment field is significant.</summary>
    Ack = 0x010,
    /// <summary>Urgent pointer field is significant.</summary>
    Urg = 0x020,
    /// <summary>ECN-Echo (RFC 3168).</summary>
    Ece = 0x040,
    /// <summary>Congestion Window Reduced (RFC 3168).</summary>
    Cwr = 0x080,
    /// <summary>ECN nonce sum (RFC 3540, historic since RFC 8311): the lowest bit of the reserved nibble.</summary>
    Ns = 0x100,
}
