using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>Finds the transport bytes inside a test frame through the stack's own Ethernet and IPv4 views.</summary>
internal static class FrameLayers
{
    /// <summary>Where the IPv4 payload of an Ethernet frame lies, and the addresses of its IPv4 header.</summary>
    public static (int Offset, int Length, Ipv4Address Source, Ipv4Address Destination) Transport(byte[] frame)
    {
        Assert.That(EthernetFrame.TryParse(frame, out var ethernet), Is.EqualTo(WireError.None));
        Assert.That(Ipv4Packet.TryParse(ethernet.Payload, out var ip), Is.EqualTo(WireError.None));
        return (ethernet.HeaderLength + ip.HeaderLength, ip.Payload.Length, ip.Source, ip.Destination);
    }

    /// <summary>The IPv4 payload (a TCP segment or UDP datagram) of an Ethernet frame.</summary>
    public static byte[] TransportBytes(byte[] frame)
    {
        var (offset, length, _, _) = Transport(frame);
        return frame.AsSpan(offset, length).ToArray();
    }

    /// <summary>The UDP payload (DNS or DHCP message) of an Ethernet frame; <paramref name="ignoreUdpLength"/> takes every byte after the UDP header.</summary>
    public static byte[] UdpPayload(byte[] frame, bool ignoreUdpLength = false)
    {
        var (offset, length, _, _) = Transport(frame);
        if (ignoreUdpLength) return frame.AsSpan(offset + UdpHeader.Size).ToArray();
        Assert.That(UdpDatagram.TryParse(frame.AsSpan(offset, length), out var udp), Is.EqualTo(WireError.None));
        return udp.Payload.ToArray();
    }
}
