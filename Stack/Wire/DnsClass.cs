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
    /// <summary>None: in a DNS UPDATE (RFC 2136 2.4, 2.5), an RRset that must not exist, or an RR to delete.</summary>
    None = 254,
    /// <summary>Any class: a QCLASS, and in a DNS UPDATE (RFC 2136 2.4, 2.5) an RRset that must exist or is deleted.</summary>
    Any = 255,
}
