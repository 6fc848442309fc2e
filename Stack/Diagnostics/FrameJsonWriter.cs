using System.Text.Json;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Diagnostics;

/// <summary>Writes a <see cref="DecodedFrame"/> as the one-line JSON object of <c>tcpipsharp decode --json</c>.</summary>
internal static class FrameJsonWriter
{
    public static void Write(Utf8JsonWriter writer, DecodedFrame frame)
    {
        writer.WriteStartObject();
        writer.WriteNumber("n", frame.Number);
        writer.WriteNumber("len", frame.Length);
        if (frame.IsSnapped) writer.WriteNumber("caplen", frame.CapturedLength);

        if (frame.Ethernet is { } eth)
        {
            writer.WriteStartObject("eth");
            WriteText(writer, "src", eth.Source);
            WriteText(writer, "dst", eth.Destination);
            writer.WriteNumber("type", eth.Type);
            if (eth.Vlan is ushort vlan)
            {
                writer.WriteNumber("vlan", vlan);
                if (eth.TagProtocol != (ushort)EtherType.Vlan) writer.WriteNumber("tpid", eth.TagProtocol);
            }
            writer.WriteEndObject();
        }

        if (frame.Arp is { } arp)
        {
            writer.WriteStartObject("arp");
            writer.WriteNumber("op", arp.Operation);
            WriteText(writer, "sha", arp.SenderHardware);
            WriteText(writer, "spa", arp.SenderProtocol);
            WriteText(writer, "tha", arp.TargetHardware);
            WriteText(writer, "tpa", arp.TargetProtocol);
            writer.WriteEndObject();
        }

        if (frame.Ipv4 is { } ip)
        {
            writer.WriteStartObject("ipv4");
            WriteText(writer, "src", ip.Source);
            WriteText(writer, "dst", ip.Destination);
            writer.WriteNumber("ttl", ip.TimeToLive);
            writer.WriteNumber("proto", ip.Protocol);
            writer.WriteNumber("id", ip.Identification);
            writer.WriteBoolean("df", ip.DontFragment);
            writer.WriteBoolean("mf", ip.MoreFragments);
            writer.WriteNumber("offset", ip.Offset);
            writer.WriteNumber("len", ip.TotalLength);
            if (ip.HeaderLength != Ipv4Header.MinimumSize) writer.WriteNumber("hlen", ip.HeaderLength);
            writer.WriteBoolean("checksum_ok", ip.ChecksumOk);
            writer.WriteEndObject();
        }

        if (frame.Icmp is { } icmp)
        {
            writer.WriteStartObject("icmp");
            writer.WriteNumber("type", icmp.Type);
            writer.WriteNumber("code", icmp.Code);
            if (icmp.ChecksumOk is bool ok) writer.WriteBoolean("checksum_ok", ok);
            if (icmp.Identifier is ushort id) writer.WriteNumber("id", id);
            if (icmp.Sequence is ushort seq) writer.WriteNumber("seq", seq);
            if (icmp.Quote is { } quote)
            {
                writer.WriteStartObject("quote");
                WriteText(writer, "src", quote.Source);
                WriteText(writer, "dst", quote.Destination);
                writer.WriteNumber("proto", quote.Protocol);
                if (quote.SourcePort is ushort sp) writer.WriteNumber("src_port", sp);
                if (quote.DestinationPort is ushort dp) writer.WriteNumber("dst_port", dp);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }

        if (frame.Udp is { } udp)
        {
            writer.WriteStartObject("udp");
            writer.WriteNumber("src_port", udp.SourcePort);
            writer.WriteNumber("dst_port", udp.DestinationPort);
            writer.WriteNumber("len", udp.Length);
            if (udp.ChecksumOk is bool ok) writer.WriteBoolean("checksum_ok", ok);
            writer.WriteEndObject();
        }

        if (frame.ErrorText is { } error) writer.WriteString("error", error);
        writer.WriteEndObject();
    }

    private static void WriteText<T>(Utf8JsonWriter writer, string name, T value) where T : ISpanFormattable
    {
        Span<char> buffer = stackalloc char[32];
        writer.WriteString(name, value.TryFormat(buffer, out int n, default, null) ? buffer[..n] : value.ToString(null, null));
    }
}
