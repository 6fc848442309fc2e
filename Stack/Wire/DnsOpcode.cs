namespace TcpIpSharp.Wire;

/// <summary>The kind of query in a DNS header (RFC 1035 4.1.1).</summary>
public enum DnsOpcode : byte
{
    /// <summary>A standard query.</summary>
    Query = 0,
    /// <summary>An inverse query (obsolete, RFC 3425).</summary>
    InverseQuery = 1,
    /// <summary>A server status request.</summary>
    Status = 2,
    /// <summary>A zone change notification (RFC 1996).</summary>
    Notify = 4,
    /// <summary>A dynamic update (RFC 2136).</summary>
    Update = 5,
}
