using PacketDotNet;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench;

/// <summary>
/// DNS: every question and record walked, every name decoded. PacketDotNet has no DNS decoder, so its baseline parses
/// the frame down to the UDP payload (its PayloadData array) and walks that with the stack's DnsReader: the ratio is
/// the cost of the lower layers plus the copy, not of DNS decoding.
/// </summary>
public class DnsParseBenchmark : ParseBenchmark
{
    /// <inheritdoc/>
    protected override FrameKind Kind => FrameKind.Dns;

    /// <inheritdoc/>
    protected override long ParseWithPacketDotNet(byte[] frame)
    {
        var udp = Packet.ParsePacket(LinkLayers.Ethernet, frame).Extract<UdpPacket>();
        return udp.SourcePort + udp.DestinationPort + Walk(udp.PayloadData);
    }

    /// <inheritdoc/>
    protected override long ParseWithStack(ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return 0;
        if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None) return 0;
        if (UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None) return 0;
        return udp.SourcePort + udp.DestinationPort + Walk(udp.Payload);
    }

    private static long Walk(ReadOnlySpan<byte> bytes)
    {
        if (DnsMessage.TryParse(bytes, out var message) != WireError.None) return 0;
        Span<char> name = stackalloc char[DnsName.MaximumTextLength];
        long sum = message.Id;
        var reader = message.GetReader();
        while (reader.TryReadQuestion(out var question))
        {
            question.Name.TryDecode(name, out int n);
            sum += n + (int)question.Type;
        }
        while (reader.TryReadRecord(out var record))
        {
            record.Name.TryDecode(name, out int n);
            sum += n + record.TimeToLive;
            switch (record.Type)
            {
                case DnsType.A: sum += record.Address.Value; break;
                case DnsType.Cname or DnsType.Ns or DnsType.Ptr: record.DomainName.TryDecode(name, out n); sum += n; break;
                case DnsType.Mx: record.MailExchange.TryDecode(name, out n); sum += n + record.Preference; break;
                default: sum += record.Data.Length; break;
            }
        }
        return sum;
    }
}
