namespace TcpIpSharp.Links;

/// <summary>What a link carries: its IP MTU, the largest frame it takes, and whether it fills and checks checksums itself.</summary>
/// <param name="Mtu">Largest IP packet in one frame (1500 on Ethernet).</param>
/// <param name="MaxFrameSize">Largest frame, Ethernet header included (1514 on a plain TAP; 64 KB with segmentation offload).</param>
/// <param name="ChecksumOffload">True when the link verifies received and fills sent transport checksums.</param>
public readonly record struct LinkCapabilities(int Mtu = 1500, int MaxFrameSize = 1514, bool ChecksumOffload = false)
{
    /// <summary>Plain Ethernet: MTU 1500, frames up to 1514 bytes, checksums in software.</summary>
    public static LinkCapabilities Ethernet => new(1500, 1514, false);
}
