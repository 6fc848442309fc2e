using PacketDotNet;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench;

/// <summary>DHCP: message type, xid, yiaddr, chaddr, and every option's code, length and first byte.</summary>
public class DhcpParseBenchmark : ParseBenchmark
{
    /// <inheritdoc/>
    protected override FrameKind Kind => FrameKind.Dhcp;

    /// <inheritdoc/>
    protected override long ParseWithPacketDotNet(byte[] frame)
    {
        var dhcp = Packet.ParsePacket(LinkLayers.Ethernet, frame).Extract<DhcpV4Packet>();
        long sum = (int)dhcp.MessageType + dhcp.TransactionId + dhcp.YourAddress.GetHashCode() + dhcp.ClientHardwareAddress.GetHashCode();
        foreach (var option in dhcp.GetOptions())
            sum += (int)option.OptionType + option.Length + (option.Data.Length > 0 ? option.Data[0] : 0);
        return sum;
    }

    /// <inheritdoc/>
    protected override long ParseWithStack(ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return 0;
        if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None) return 0;
        if (UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None) return 0;
        if (DhcpMessage.TryParse(udp.Payload, out var dhcp) != WireError.None) return 0;
        long sum = dhcp.TransactionId + dhcp.YourAddress.Value + (long)(dhcp.ClientMacAddress?.Value ?? 0);
        var reader = dhcp.GetOptionReader();
        while (reader.Read())
        {
            sum += (int)reader.Option + reader.Data.Length + (reader.Data.Length > 0 ? reader.Data[0] : 0);
            if (reader.Option == DhcpOption.MessageType) sum += reader.Data[0];
        }
        return sum;
    }
}
