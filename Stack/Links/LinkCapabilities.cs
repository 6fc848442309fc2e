namespace TcpIpSharp.Links;

/// <summary>What a link carries: its IP MTU, the largest frame it takes, and what it does for the stack's checksums and segments.</summary>
/// <param name="Mtu">Largest IP packet in one frame on the wire (1500 on Ethernet); TCP's MSS follows it with or without offloads.</param>
/// <param name="MaxFrameSize">Largest frame, Ethernet header included (1514 on a plain TAP; 14 + 65535 with segmentation offload).</param>
/// <param name="ChecksumOffload">True when the link verifies received transport checksums, or vouches for them as the
/// kernel does for a frame that never left the machine (a partial checksum), so the stack does not check them.</param>
/// <param name="TcpSegmentationOffload">True when the link takes a TCP/IPv4 frame larger than <paramref name="Mtu"/> through
/// <see cref="ILink.TrySendTcpSegments"/> and cuts it into segments itself (TSO), and may hand up received TCP frames of
/// up to 64 KB that it coalesced.</param>
/// <param name="CarriesEthernet">False for an IP link (a Linux TUN): its frames are bare IPv4 and IPv6 packets, with no
/// Ethernet header and no neighbour protocol (no ARP, no Neighbour Discovery resolution); <paramref name="MaxFrameSize"/>
/// is then the largest IP packet.</param>
public readonly record struct LinkCapabilities(int Mtu = 1500, int MaxFrameSize = 1514, bool ChecksumOffload = false, bool TcpSegmentationOffload = false,
    bool CarriesEthernet = true)
{
    /// <summary>Plain Ethernet: MTU 1500, frames up to 1514 bytes, checksums in software, no offloads.</summary>
    public static LinkCapabilities Ethernet => new(1500, 1514, false);
}
