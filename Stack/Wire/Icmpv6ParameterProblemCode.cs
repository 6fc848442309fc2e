namespace TcpIpSharp.Wire;

/// <summary>Codes of the ICMPv6 Parameter Problem message (RFC 4443 3.4, RFC 7112 5).</summary>
public enum Icmpv6ParameterProblemCode : byte
{
    /// <summary>Erroneous header field encountered.</summary>
    ErroneousHeaderField = 0,
    /// <summary>Unrecognised Next Header type encountered.</summary>
    UnrecognizedNextHeader = 1,
    /// <summary>Unrecognised IPv6 option encountered.</summary>
    UnrecognizedOption = 2,
    /// <summary>The first fragment has an incomplete IPv6 header chain (RFC 7112).</summary>
    IncompleteHeaderChain = 3,
}
