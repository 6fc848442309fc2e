namespace TcpIpSharp.Wire;

/// <summary>EtherType values the stack handles (IEEE 802 numbers).</summary>
public enum EtherType : ushort
{
    /// <summary>IPv4.</summary>
    Ipv4 = 0x0800,
    /// <summary>ARP.</summary>
    Arp = 0x0806,
    /// <summary>An IEEE 802.1Q VLAN tag.</summary>
    Vlan = 0x8100,
    /// <summary>An IEEE 802.1ad service tag (QinQ).</summary>
    ServiceVlan = 0x88A8,
    /// <summary>IPv6 (recognised, not handled).</summary>
    Ipv6 = 0x86DD,
}
