using TcpIpSharp.Wire;

namespace TcpIpSharp.Linux;

/// <summary>
/// The software check a link with checksum offload does for a frame the kernel did not vouch for: the TCP or UDP
/// checksum of an unfragmented IPv4 packet. Allocates nothing.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class TransportChecksum
{
    /// <summary>
    /// False only for an IPv4 TCP or UDP packet whose checksum is wrong. Anything else (ARP, ICMP, a fragment, a frame
    /// too malformed to tell) is true and left to the stack, which checks and counts what it parses.
    /// </summary>
    public static bool IsValidOrNotApplicable(ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var eth) != WireError.None || eth.EtherType != EtherType.Ipv4) return true;
        if (Ipv4Packet.TryParse(eth.Payload, out var ip) != WireError.None || ip.IsFragment) return true;
        return ip.Protocol switch
        {
            IpProtocol.Tcp => TcpSegment.TryParse(ip.Payload, out var tcp) != WireError.None || tcp.IsChecksumValid(ip.Source, ip.Destination),
            IpProtocol.Udp => UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None || udp.IsChecksumValid(ip.Source, ip.Destination),
            _ => true,
        };
    }
}
