using PacketDotNet;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench;

/// <summary>IPv4 header: addresses, protocol, TTL, length, and the header checksum verified.</summary>
public class Ipv4ParseBenchmark : ParseBenchmark
{
    /// <inheritdoc/>
    protected override FrameKind Kind => FrameKind.Ipv4;

    /// <inheritdoc/>
    protected override long ParseWithPacketDotNet(byte[] frame)
    {
        var ip = Packet.ParsePacket(LinkLayers.Ethernet, frame).Extract<IPv4Packet>();
        return ip.SourceAddress.GetHashCode() + ip.DestinationAddress.GetHashCode() + (int)ip.Protocol + ip.TimeToLive + ip.TotalLength
            + (ip.ValidIPChecksum ? 1 : 0);
    }

    /// <inheritdoc/>
    protected override long ParseWithStack(ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return 0;
        if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None) return 0;
        return ip.Source.Value + ip.Destination.Value + (int)ip.Protocol + ip.TimeToLive + ip.TotalLength + (ip.IsChecksumValid ? 1 : 0);
    }
}
