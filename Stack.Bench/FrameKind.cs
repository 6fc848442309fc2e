namespace TcpIpSharp.Bench;

/// <summary>What a parse benchmark parses.</summary>
public enum FrameKind
{
    /// <summary>Any Ethernet frame: header only.</summary>
    Ethernet,
    /// <summary>ARP over Ethernet.</summary>
    Arp,
    /// <summary>IPv4 header with checksum.</summary>
    Ipv4,
    /// <summary>ICMP echo and errors.</summary>
    Icmp,
    /// <summary>UDP header with checksum.</summary>
    Udp,
    /// <summary>TCP segments carrying options.</summary>
    TcpWithOptions,
    /// <summary>DNS messages, every record walked.</summary>
    Dns,
    /// <summary>DHCP messages, every option walked.</summary>
    Dhcp,
}
