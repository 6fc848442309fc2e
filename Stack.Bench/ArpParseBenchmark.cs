using PacketDotNet;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench;

/// <summary>ARP: operation and the four addresses.</summary>
public class ArpParseBenchmark : ParseBenchmark
{
    /// <inheritdoc/>
    protected override FrameKind Kind => FrameKind.Arp;

    /// <inheritdoc/>
    protected override long ParseWithPacketDotNet(byte[] frame)
    {
        var arp = Packet.ParsePacket(LinkLayers.Ethernet, frame).Extract<global::PacketDotNet.ArpPacket>();
        return (int)arp.Operation + arp.SenderHardwareAddress.GetHashCode() + arp.SenderProtocolAddress.GetHashCode()
            + arp.TargetHardwareAddress.GetHashCode() + arp.TargetProtocolAddress.GetHashCode();
    }

    /// <inheritdoc/>
    protected override long ParseWithStack(ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return 0;
        if (Wire.ArpPacket.TryParse(ethernet.Payload, out var arp) != WireError.None) return 0;
        return (int)arp.Operation + (long)arp.SenderHardwareAddress.Value + arp.SenderProtocolAddress.Value
            + (long)arp.TargetHardwareAddress.Value + arp.TargetProtocolAddress.Value;
    }
}
