namespace TcpIpSharp.Wire;

/// <summary>IP protocol numbers the stack handles (IANA).</summary>
public enum IpProtocol : byte
{
    /// <summary>ICMP for IPv4.</summary>
    Icmp = 1,
    /// <summary>TCP.</summary>
    Tcp = 6,
    /// <summary>UDP.</summary>
    Udp = 17,
}
