using TcpIpSharp.Diagnostics;
using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>
/// A link with checksum offload vouches for each frame's TCP or UDP checksum (a TAP with the virtio-net header: partial
/// checksums the kernel trusts), so the stack does not check them; a datagram reassembled from fragments is checked all the same.
/// </summary>
public class ChecksumOffloadTests
{
    private static readonly LinkCapabilities Offload = new(1500, 14 + 65535, ChecksumOffload: true);

    private static byte[] UdpWithWrongChecksum(int length)
    {
        var datagram = Frames.UdpMessage(Frames.PeerIp, Frames.StackIp, 4000, 5000, new byte[length]);
        datagram[6] ^= 0x5A;   // the checksum field: a partial sum, or damage the link would have caught
        return datagram;
    }

    [Test]
    public void A_whole_datagram_is_trusted_as_the_link_vouched_for_it()
    {
        using var h = new StackHarness(caps: Offload);
        var endpoint = h.Stack.OpenUdp(5000);
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, UdpWithWrongChecksum(100)));
        Assert.That(endpoint.QueuedDatagrams, Is.EqualTo(1));
    }

    [Test]
    public void A_reassembled_datagram_is_checked_even_on_an_offloading_link()
    {
        using var h = new StackHarness(caps: Offload);
        var endpoint = h.Stack.OpenUdp(5000);
        foreach (var fragment in Frames.Fragments(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, UdpWithWrongChecksum(3000), 1480, 77))
            h.Inject(fragment);
        Assert.Multiple(() =>
        {
            Assert.That(endpoint.QueuedDatagrams, Is.Zero);
            Assert.That(h.Stack.Statistics.Drops(DropReason.UdpBadChecksum), Is.EqualTo(1));
        });
        foreach (var fragment in Frames.Fragments(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Frames.StackIp, 4000, 5000, new byte[3000]), 1480, 78))
            h.Inject(fragment);
        Assert.That(endpoint.QueuedDatagrams, Is.EqualTo(1), "an intact reassembled datagram is delivered");
    }
}
