using PacketDotNet;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench;

/// <summary>Ethernet header: addresses and EtherType.</summary>
public class EthernetParseBenchmark : ParseBenchmark
{
    /// <inheritdoc/>
    protected override FrameKind Kind => FrameKind.Ethernet;

    /// <inheritdoc/>
    protected override long ParseWithPacketDotNet(byte[] frame)
    {
        var ethernet = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, frame);
        return ethernet.DestinationHardwareAddress.GetHashCode() + ethernet.SourceHardwareAddress.GetHashCode() + (int)ethernet.Type;
    }

    /// <inheritdoc/>
    protected override long ParseWithStack(ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return 0;
        return (long)ethernet.Destination.Value + (long)ethernet.Source.Value + (int)ethernet.EtherType;
    }
}
