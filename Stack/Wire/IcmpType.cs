namespace TcpIpSharp.Wire;

/// <summary>ICMPv4 message types the stack handles (RFC 792).</summary>
public enum IcmpType : byte
{
    /// <summary>Echo reply.</summary>
    EchoReply = 0,
    /// <summary>Destination unreachable.</summary>
    DestinationUnreachable = 3,
    /// <summary>Echo request.</summary>
    EchoRequest = 8,
    /// <summary>Time exceeded.</summary>
    TimeExceeded = 11,
    /// <summary>Parameter problem.</summary>
    ParameterProblem = 12,
}
