using PacketDotNet;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench;

/// <summary>UDP: IPv4 addresses, ports, length, and the checksum verified with the pseudo-header.</summary>
public class UdpParseBenchmark : ParseBenchmark
{
    /// <inheritdoc/>
    protected override FrameKind Kind => FrameKind.Udp;

    /// <inheritdoc/>
    protected override long ParseWithPacketDotNet(byte[] frame)
    {
        var packet = Packet.ParsePacket(LinkLayers.Ethernet, frame);
        var ip = packet.Extract<IPv4Packet>();
        var udp = packet.Extract<UdpPacket>();
        return ip.SourceAddress.GetHashCode() + ip.DestinationAddress.GetHashCode() + udp.SourcePort + udp.DestinationPort + udp.Length
            + (udp.ValidUdpChecksum ? 1 : 0);
    }

    /// <inheritdoc/>
    protected override long ParseWithStack(ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return 0;
        if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None) return 0;
        if (UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None) return 0;
        return ip.Source.Value + ip.Destination.Value + udp.SourcePort + udp.DestinationPort + udp.Length
            + (udp.IsChecksumValid(ip.Source, ip.Destination) ? 1 : 0);
    }
}
