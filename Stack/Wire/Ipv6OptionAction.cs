namespace TcpIpSharp.Wire;

/// <summary>
/// What to do with a packet: for an unrecognised IPv6 option, the two high bits of its type (RFC 8200 4.2); for any other
/// fault in the header chain, <see cref="Discard"/> or one of the parameter-problem actions.
/// </summary>
public enum Ipv6OptionAction : byte
{
    /// <summary>00: skip over the option and go on processing the header (also: the walk succeeded).</summary>
    Skip = 0,
    /// <summary>01: discard the packet silently.</summary>
    Discard = 1,
    /// <summary>10: discard the packet and send an ICMPv6 Parameter Problem to its source, whatever its destination.</summary>
    DiscardSendParameterProblem = 2,
    /// <summary>11: discard the packet and send a Parameter Problem only when its destination was not a multicast address.</summary>
    DiscardSendParameterProblemUnlessMulticast = 3,
}
