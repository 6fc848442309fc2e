namespace TcpIpSharp.Wire;

/// <summary>DNS classes (RFC 1035 3.2.4). In an OPT record the class field holds the UDP payload size instead (RFC 6891 6.1.2).</summary>
public enum DnsClass : ushort
{
    /// <summary>The Internet (IN).</summary>
    Internet = 1,
    /// <summary>Chaos (CH).</summary>
    Chaos = 3,
    /// <summary>Hesiod (HS).</summary>
    Hesiod = 4,
    /// <summary>Any class (QCLASS only).</summary>
    Any = 255,
}
