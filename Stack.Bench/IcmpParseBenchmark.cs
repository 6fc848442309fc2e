using PacketDotNet;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench;

/// <summary>ICMP: IPv4 addresses, type and code, identifier and sequence, and the ICMP checksum verified.</summary>
public class IcmpParseBenchmark : ParseBenchmark
{
    /// <inheritdoc/>
    protected override FrameKind Kind => FrameKind.Icmp;

    /// <inheritdoc/>
    protected override long ParseWithPacketDotNet(byte[] frame)
    {
        var packet = Packet.ParsePacket(LinkLayers.Ethernet, frame);
        var ip = packet.Extract<IPv4Packet>();
        var icmp = packet.Extract<IcmpV4Packet>();
        return ip.SourceAddress.GetHashCode() + ip.DestinationAddress.GetHashCode() + (int)icmp.TypeCode + icmp.Id + icmp.Sequence
            + (icmp.ValidIcmpChecksum ? 1 : 0);
    }

    /// <inheritdoc/>
    protected override long ParseWithStack(ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return 0;
        if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None) return 0;
        if (IcmpPacket.TryParse(ip.Payload, out var icmp) != WireError.None) return 0;
        return ip.Source.Value + ip.Destination.Value + ((int)icmp.Type << 8 | icmp.Code) + icmp.Identifier + icmp.SequenceNumber
            + (InternetChecksum.IsValid(icmp.Bytes) ? 1 : 0);
    }
}
