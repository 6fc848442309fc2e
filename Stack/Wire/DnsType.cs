namespace TcpIpSharp.Wire;

/// <summary>DNS record types (RFC 1035 3.2.2 and later IANA assignments); any other value is kept as raw data.</summary>
public enum DnsType : ushort
{
    /// <summary>IPv4 host address (RFC 1035 3.4.1).</summary>
    A = 1,
    /// <summary>Authoritative name server (RFC 1035 3.3.11).</summary>
    Ns = 2,
    /// <summary>Canonical name of an alias (RFC 1035 3.3.1).</summary>
    Cname = 5,
    /// <summary>Start of a zone of authority (RFC 1035 3.3.13).</summary>
    Soa = 6,
    /// <summary>Domain name pointer (RFC 1035 3.3.12).</summary>
    Ptr = 12,
    /// <summary>Mail exchange (RFC 1035 3.3.9).</summary>
    Mx = 15,
    /// <summary>Text strings (RFC 1035 3.3.14).</summary>
    Txt = 16,
    /// <summary>IPv6 host address (RFC 3596).</summary>
    Aaaa = 28,
    /// <summary>Service location (RFC 2782).</summary>
    Srv = 33,
    /// <summary>EDNS(0) pseudo-record (RFC 6891).</summary>
    Opt = 41,
    /// <summary>A request for all records (RFC 1035 3.2.3, QTYPE only).</summary>
    Any = 255,
}
