namespace TcpIpSharp.Wire;

/// <summary>TCP option kinds the stack understands (RFC 9293 3.2, RFC 7323, RFC 2018).</summary>
public enum TcpOptionKind : byte
{
    /// <summary>End of option list; everything after it is padding.</summary>
    EndOfOptionList = 0,
    /// <summary>No-operation, used to align options.</summary>
    NoOperation = 1,
    /// <summary>Maximum segment size (length 4).</summary>
    MaximumSegmentSize = 2,
    /// <summary>Window scale shift count (length 3, RFC 7323 2).</summary>
    WindowScale = 3,
    /// <summary>SACK permitted (length 2, RFC 2018 2).</summary>
    SackPermitted = 4,
    /// <summary>Selective acknowledgment blocks (length 2 + 8n, RFC 2018 3).</summary>
    Sack = 5,
    /// <summary>Timestamps (length 10, RFC 7323 3).</summary>
    Timestamps = 8,
}
