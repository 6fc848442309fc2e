using TcpIpSharp.Wire;

namespace TcpIpSharp.Linux;

/// <summary>
/// The software check a link with checksum offload does for a frame the kernel did not vouch for: the TCP or UDP
/// checksum of an unfragmented IPv4 or IPv6 packet. Allocates nothing.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class TransportChecksum
{
    /// <summary>
    /// False only for a TCP or UDP packet of either family whose checksum is wrong. Anything else (ARP, ICMP, ICMPv6, a
    /// fragment, a frame too malformed to tell) is true and left to the stack, which checks and counts what it parses.
    /// </summary>
    public static bool IsValidOrNotApplicable(ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var eth) != WireError.None) return true;
        if (eth.EtherType == EtherType.Ipv6) return IsValidOrNotApplicableIpv6(eth.Payload);
        if (eth.EtherType != EtherType.Ipv4) return true;
        return IsValidOrNotApplicableIpv4(eth.Payload);
    }

    /// <summary>As <see cref="IsValidOrNotApplicable"/> for a bare IP packet (a TUN's frame), its family from its version.</summary>
    public static bool IsValidOrNotApplicablePacket(ReadOnlySpan<byte> packet)
        => packet.IsEmpty || (packet[0] >> 4) switch { 4 => IsValidOrNotApplicableIpv4(packet), 6 => IsValidOrNotApplicableIpv6(packet), _ => true };

    private static bool IsValidOrNotApplicableIpv4(ReadOnlySpan<byte> packet)
    {
        if (Ipv4Packet.TryParse(packet, out var ip) != WireError.None || ip.IsFragment) return true;
        return ip.Protocol switch
        {
            IpProtocol.Tcp => TcpSegment.TryParse(ip.Payload, out var tcp) != WireError.None || tcp.IsChecksumValid(ip.Source, ip.Destination),
            IpProtocol.Udp => UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None || udp.IsChecksumValid(ip.Source, ip.Destination),
            _ => true,
        };
    }

    private static bool IsValidOrNotApplicableIpv6(ReadOnlySpan<byte> packet)
    {
        if (Ipv6Packet.TryParse(packet, out var ip) != WireError.None || ip.TryWalkHeaders(out var chain) != WireError.None || chain.Fragment is not null) return true;
        var upper = ip.Bytes[chain.UpperLayerOffset..];
        return chain.UpperLayerProtocol switch
        {
            IpProtocol.Tcp => TcpSegment.TryParse(upper, out var tcp) != WireError.None || tcp.IsChecksumValid(ip.Source, ip.Destination),
            IpProtocol.Udp => UdpDatagram.TryParse(upper, out var udp) != WireError.None || udp.IsChecksumValid(ip.Source, ip.Destination),
            _ => true,
        };
    }
}
