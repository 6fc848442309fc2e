namespace TcpIpSharp.Wire;

/// <summary>The response code in a DNS header (RFC 1035 4.1.1).</summary>
public enum DnsResponseCode : byte
{
    /// <summary>No error.</summary>
    NoError = 0,
    /// <summary>The server could not interpret the query.</summary>
    FormatError = 1,
    /// <summary>The server failed to process the query.</summary>
    ServerFailure = 2,
    /// <summary>The name does not exist (NXDOMAIN).</summary>
    NameError = 3,
    /// <summary>The server does not support this kind of query.</summary>
    NotImplemented = 4,
    /// <summary>The server refuses to answer.</summary>
    Refused = 5,
}
