namespace TcpIpSharp.Wire;

/// <summary>Values of the DHCP Message Type option, 53 (RFC 2132 9.6).</summary>
public enum DhcpMessageType : byte
{
    /// <summary>Client broadcast to locate servers.</summary>
    Discover = 1,
    /// <summary>Server offer of parameters.</summary>
    Offer = 2,
    /// <summary>Client request for offered parameters, or renewal.</summary>
    Request = 3,
    /// <summary>Client report that the address is already in use.</summary>
    Decline = 4,
    /// <summary>Server acknowledgment with the parameters and lease.</summary>
    Ack = 5,
    /// <summary>Server refusal.</summary>
    Nak = 6,
    /// <summary>Client release of its address.</summary>
    Release = 7,
    /// <summary>Client request for local parameters only.</summary>
    Inform = 8,
}
