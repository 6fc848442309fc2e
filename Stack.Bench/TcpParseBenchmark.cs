using PacketDotNet;
using PacketDotNet.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench;

/// <summary>TCP with options: addresses, ports, numbers, flags, window, the checksum verified, and every option's values.</summary>
public class TcpParseBenchmark : ParseBenchmark
{
    /// <inheritdoc/>
    protected override FrameKind Kind => FrameKind.TcpWithOptions;

    /// <inheritdoc/>
    protected override long ParseWithPacketDotNet(byte[] frame)
    {
        var packet = Packet.ParsePacket(LinkLayers.Ethernet, frame);
        var ip = packet.Extract<IPv4Packet>();
        var tcp = packet.Extract<TcpPacket>();
        long sum = ip.SourceAddress.GetHashCode() + ip.DestinationAddress.GetHashCode() + tcp.SourcePort + tcp.DestinationPort
            + tcp.SequenceNumber + tcp.AcknowledgmentNumber + tcp.Flags + tcp.WindowSize + (tcp.ValidTcpChecksum ? 1 : 0);
        foreach (var option in tcp.OptionsCollection)
        {
            sum += option switch
            {
                MaximumSegmentSizeOption mss => mss.Value,
                WindowScaleFactorOption ws => ws.ScaleFactor,
                TimeStampOption ts => ts.Value + ts.EchoReply,
                SelectiveAcknowledgmentOption sack => sack.Blocks.Length,
                _ => (int)option.Kind,
            };
        }
        return sum;
    }

    /// <inheritdoc/>
    protected override long ParseWithStack(ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return 0;
        if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None) return 0;
        if (TcpSegment.TryParse(ip.Payload, out var tcp) != WireError.None) return 0;
        long sum = ip.Source.Value + ip.Destination.Value + tcp.SourcePort + tcp.DestinationPort + tcp.SequenceNumber + tcp.AcknowledgmentNumber
            + (int)tcp.Flags + tcp.WindowSize + (tcp.IsChecksumValid(ip.Source, ip.Destination) ? 1 : 0);
        if (TcpOptions.TryParse(tcp.Options, out var options) != WireError.None) return 0;
        sum += (options.MaximumSegmentSize ?? 0) + (options.WindowScale ?? 0) + (options.SackPermitted ? 1 : 0) + options.SackBlocks.Count;
        if (options.Timestamp is TcpTimestamp ts) sum += ts.Value + ts.EchoReply;
        return sum;
    }
}
