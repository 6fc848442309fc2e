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
            // Below 0x0600 the field is an IEEE 802.3 length, not an EtherType.
            if (eth.Type < FrameDecoder.MinimumEtherType) writer.WriteNumber("len", eth.Type);
            else writer.WriteNumber("type", eth.Type);
            if (eth.Vlan is ushort vlan)
            {
                writer.WriteNumber("vlan", vlan);
                if (eth.TagProtocol != (ushort)EtherType.Vlan) writer.WriteNumber("tpid", eth.TagProtocol);
            }
            if (eth.Vlans.Count > 1)
            {
                writer.WriteStartArray("vlans");
                foreach (ushort id in eth.Vlans) writer.WriteNumberValue(id);
                writer.WriteEndArray();
            }
            EndLayer(writer, frame, "eth");
        }

        if (frame.Arp is { } arp)
        {
            writer.WriteStartObject("arp");
            writer.WriteNumber("op", arp.Operation);
            if (arp.SenderHardware is { } sha) writer.WriteString("sha", sha);
            if (arp.SenderProtocol is { } spa) writer.WriteString("spa", spa);
            if (arp.TargetHardware is { } tha) writer.WriteString("tha", tha);
            if (arp.TargetProtocol is { } tpa) writer.WriteString("tpa", tpa);
            if (!arp.IsEthernetIpv4)
            {
                writer.WriteNumber("htype", arp.HardwareType);
                writer.WriteNumber("ptype", arp.ProtocolType);
                writer.WriteNumber("hlen", arp.HardwareLength);
                writer.WriteNumber("plen", arp.ProtocolLength);
            }
            EndLayer(writer, frame, "arp");
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
            if (ip.ChecksumOk is bool ipOk) writer.WriteBoolean("checksum_ok", ipOk);
            EndLayer(writer, frame, "ipv4");
        }

        if (frame.Igmp is { } igmp)
        {
            writer.WriteStartObject("igmp");
            writer.WriteNumber("type", igmp.Type);
            if (igmp.QueryVersion != 0)
            {
                writer.WriteNumber("query_version", igmp.QueryVersion);
                writer.WriteNumber("max_resp_tenths", igmp.MaximumResponseTenths);
            }
            WriteText(writer, "group", igmp.Group);
            if (igmp.Records is int records) writer.WriteNumber("records", records);
            if (igmp.ChecksumOk is bool igmpOk) writer.WriteBoolean("checksum_ok", igmpOk);
            EndLayer(writer, frame, "igmp");
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

        if (frame.Ipv6 is { } ip6)
        {
            writer.WriteStartObject("ipv6");
            writer.WriteString("src", ip6.Source.ToString());
            writer.WriteString("dst", ip6.Destination.ToString());
            writer.WriteNumber("hop_limit", ip6.HopLimit);
            writer.WriteNumber("next_header", ip6.NextHeader);
            writer.WriteNumber("payload_len", ip6.PayloadLength);
            writer.WriteNumber("flow_label", ip6.FlowLabel);
            if (ip6.TrafficClass != 0) writer.WriteNumber("traffic_class", ip6.TrafficClass);
            if (ip6.UpperLayerProtocol is byte proto && proto != ip6.NextHeader) writer.WriteNumber("proto", proto);
            if (ip6.Fragment is { } frag)
            {
                writer.WriteStartObject("frag");
                writer.WriteNumber("offset", frag.Offset);
                writer.WriteBoolean("more", frag.MoreFragments);
                writer.WriteNumber("id", frag.Identification);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }

        if (frame.Icmpv6 is { } icmp6)
        {
            writer.WriteStartObject("icmpv6");
            writer.WriteNumber("type", icmp6.Type);
            writer.WriteNumber("code", icmp6.Code);
            if (icmp6.ChecksumOk is bool ok) writer.WriteBoolean("checksum_ok", ok);
            if (icmp6.Identifier is ushort id) writer.WriteNumber("id", id);
            if (icmp6.Sequence is ushort seq) writer.WriteNumber("seq", seq);
            if (icmp6.Mtu is uint mtu) writer.WriteNumber("mtu", mtu);
            if (icmp6.Pointer is uint pointer) writer.WriteNumber("pointer", pointer);
            if (icmp6.Target is { } target) writer.WriteString("target", target.ToString());
            if (icmp6.Quote is { } quote)
            {
                writer.WriteStartObject("quote");
                writer.WriteString("src", quote.Source.ToString());
                writer.WriteString("dst", quote.Destination.ToString());
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

        if (frame.Tcp is { } tcp)
        {
            writer.WriteStartObject("tcp");
            writer.WriteNumber("src_port", tcp.SourcePort);
            writer.WriteNumber("dst_port", tcp.DestinationPort);
            writer.WriteNumber("seq", tcp.Sequence);
            writer.WriteNumber("ack", tcp.Acknowledgment);
            writer.WriteNumber("flags", tcp.Flags);
            writer.WriteNumber("window", tcp.Window);
            writer.WriteNumber("payload", tcp.PayloadLength);
            if (tcp.ChecksumOk is bool ok) writer.WriteBoolean("checksum_ok", ok);
            if (tcp.Options is { } options)
            {
                if (options.MaximumSegmentSize is ushort mss) writer.WriteNumber("mss", mss);
                if (options.WindowScale is byte shift) writer.WriteNumber("wscale", shift);
                if (options.SackPermitted) writer.WriteBoolean("sack_permitted", true);
                if (options.SackBlocks.Count > 0)
                {
                    writer.WriteStartArray("sack");
                    for (int i = 0; i < options.SackBlocks.Count; i++)
                    {
                        writer.WriteStartArray();
                        writer.WriteNumberValue(options.SackBlocks[i].Left);
                        writer.WriteNumberValue(options.SackBlocks[i].Right);
                        writer.WriteEndArray();
                    }
                    writer.WriteEndArray();
                }
                if (options.Timestamp is { } ts)
                {
                    writer.WriteStartArray("ts");
                    writer.WriteNumberValue(ts.Value);
                    writer.WriteNumberValue(ts.EchoReply);
                    writer.WriteEndArray();
                }
            }
            EndLayer(writer, frame, "tcp");
        }

        if (frame.Dns is { } dns)
        {
            writer.WriteStartObject("dns");
            writer.WriteNumber("id", dns.Id);
            writer.WriteBoolean("qr", dns.IsResponse);
            writer.WriteNumber("opcode", dns.Opcode);
            writer.WriteNumber("rcode", dns.ResponseCode);
            writer.WriteStartArray("questions");
            foreach (var question in dns.Questions)
            {
                writer.WriteStartObject();
                writer.WriteString("name", question.Name);
                writer.WriteNumber("type", question.Type);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteStartArray("answers");
            foreach (var answer in dns.Answers)
            {
                writer.WriteStartObject();
                writer.WriteString("name", answer.Name);
                writer.WriteNumber("type", answer.Type);
                writer.WriteNumber("ttl", answer.TimeToLive);
                writer.WriteString("data", answer.Data);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            EndLayer(writer, frame, "dns");
        }

        if (frame.Dhcp is { } dhcp)
        {
            writer.WriteStartObject("dhcp");
            writer.WriteNumber("op", dhcp.Operation);
            writer.WriteNumber("xid", dhcp.TransactionId);
            if (dhcp.MessageType is byte type) writer.WriteNumber("msg_type", type);
            WriteText(writer, "ciaddr", dhcp.ClientAddress);
            WriteText(writer, "yiaddr", dhcp.YourAddress);
            WriteText(writer, "siaddr", dhcp.ServerAddress);
            writer.WriteString("chaddr", dhcp.ClientHardwareAddress);
            writer.WriteStartObject("options");
            if (dhcp.SubnetMask is { } subnet) WriteText(writer, "subnet", subnet);
            WriteAddresses(writer, "router", dhcp.Routers);
            WriteAddresses(writer, "dns", dhcp.DomainNameServers);
            if (dhcp.LeaseTime is uint lease) writer.WriteNumber("lease", lease);
            if (dhcp.ServerIdentifier is { } server) WriteText(writer, "server_id", server);
            if (dhcp.RequestedAddress is { } requested) WriteText(writer, "requested_ip", requested);
            writer.WriteEndObject();
            EndLayer(writer, frame, "dhcp");
        }

        if (frame.ErrorText is { } error) writer.WriteString("error", error);
        writer.WriteEndObject();
    }

    // Closes a layer's object, with "truncated": true when it was decoded from bytes the snap length cut short.
    private static void EndLayer(Utf8JsonWriter writer, DecodedFrame frame, string layer)
    {
        if (frame.IsTruncated(layer)) writer.WriteBoolean("truncated", true);
        writer.WriteEndObject();
    }

    private static void WriteAddresses(Utf8JsonWriter writer, string name, IReadOnlyList<Ipv4Address> addresses)
    {
        if (addresses.Count == 0) return;
        writer.WriteStartArray(name);
        foreach (var address in addresses) writer.WriteStringValue(address.ToString());
        writer.WriteEndArray();
    }

    private static void WriteText<T>(Utf8JsonWriter writer, string name, T value) where T : ISpanFormattable
    {
        Span<char> buffer = stackalloc char[32];
        writer.WriteString(name, value.TryFormat(buffer, out int n, default, null) ? buffer[..n] : value.ToString(null, null));
    }
}
