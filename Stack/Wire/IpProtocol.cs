namespace TcpIpSharp.Wire;

/// <summary>IP protocol numbers the stack handles (IANA).</summary>
public enum IpProtocol : byte
{
    /// <summary>IPv6 Hop-by-Hop Options header (RFC 8200 4.3); only ever directly after the IPv6 header.</summary>
    HopByHopOptions = 0,
    /// <summary>ICMP for IPv4.</summary>
    Icmp = 1,
    /// <summary>IGMP (RFC 3376).</summary>
    Igmp = 2,
    /// <summary>TCP.</summary>
    Tcp = 6,
    /// <summary>UDP.</summary>
    Udp = 17,
    /// <summary>IPv6 Routing header (RFC 8200 4.4).</summary>
    Ipv6Routing = 43,
    /// <summary>IPv6 Fragment header (RFC 8200 4.5).</summary>
    Ipv6Fragment = 44,
    /// <summary>Encapsulating Security Payload (RFC 4303): the end of the readable header chain.</summary>
    EncapsulatingSecurityPayload = 50,
    /// <summary>Authentication Header (RFC 4302): an extension header whose length counts 4-byte units.</summary>
    AuthenticationHeader = 51,
    /// <summary>ICMP for IPv6 (RFC 4443).</summary>
    Icmpv6 = 58,
    /// <summary>No Next Header (RFC 8200 4.7): nothing follows.</summary>
    Ipv6NoNextHeader = 59,
    /// <summary>IPv6 Destination Options header (RFC 8200 4.6).</summary>
    Ipv6DestinationOptions = 60,
}
