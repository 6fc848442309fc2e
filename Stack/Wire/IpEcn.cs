namespace TcpIpSharp.Wire;

/// <summary>
/// The ECN field (RFC 3168 5): the low two bits of IPv4's TOS byte and of IPv6's traffic class. Either ECT codepoint
/// says the transport is ECN-capable; a router that would drop such a packet may set CE instead.
/// </summary>
internal enum IpEcn : byte
{
    /// <summary>Not-ECT (00): the transport does not take ECN.</summary>
    NotEct = 0,
    /// <summary>ECT(1) (01).</summary>
    Ect1 = 1,
    /// <summary>ECT(0) (10): what an RFC 3168 sender sets on data.</summary>
    Ect0 = 2,
    /// <summary>CE (11): congestion experienced.</summary>
    Ce = 3,
}
