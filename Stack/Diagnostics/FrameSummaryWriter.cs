using System.Globalization;
using System.Text;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Diagnostics;

/// <summary>Writes a <see cref="DecodedFrame"/> as the one-line tcpdump-style summary of <c>tcpipsharp decode</c>.</summary>
internal static class FrameSummaryWriter
{
    public static string Format(DecodedFrame frame)
    {
        var text = new StringBuilder(128);
        Append(text, frame);
        return text.ToString();
    }

    public static void Append(StringBuilder text, DecodedFrame frame)
    {
        var inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"{frame.Number} ");
        if (frame.Ethernet is not { } eth)
        {
            text.Append(inv, $"length {frame.Length}");
        }
        else
        {
            text.Append(inv, $"{eth.Source} > {eth.Destination}, {EtherTypeName(eth.Type)}");
            if (eth.Vlans.Count > 0) text.Append(inv, $", vlan {string.Join(", vlan ", eth.Vlans)}");
            text.Append(inv, $", length {frame.Length}");
            if (frame.Arp is { } arp) text.Append(": ").Append(ArpText(arp));
            if (frame.Ipv4 is { } ip) AppendIpv4(text, frame, ip);
            if (frame.Ipv6 is { } ip6) AppendIpv6(text, frame, ip6);
        }
        if (frame.IsSnapped) text.Append(inv, $" [{frame.CapturedLength} bytes captured]");
        if (frame.ErrorText is { } error) text.Append(" [malformed ").Append(error).Append(']');
    }

    private static string EtherTypeName(ushort type) => type switch
    {
        (ushort)EtherType.Ipv4 => "IPv4",
        (ushort)EtherType.Arp => "ARP",
        (ushort)EtherType.Ipv6 => "IPv6",
        < FrameDecoder.MinimumEtherType => $"802.3 length {type}",
        _ => $"ethertype 0x{type:x4}",
    };

    private static string ArpText(DecodedFrame.ArpLayer arp) => arp.IsEthernetIpv4 ? ArpOperationText(arp)
        : string.Create(CultureInfo.InvariantCulture,
            $"hardware type {arp.HardwareType} (length {arp.HardwareLength}), protocol 0x{arp.ProtocolType:x4} (length {arp.ProtocolLength}), {ArpOperationText(arp)}");

    private static string ArpOperationText(DecodedFrame.ArpLayer arp) => arp.Operation switch
    {
        (ushort)ArpOperation.Request => $"Request who-has {arp.TargetProtocol} tell {arp.SenderProtocol}",
        (ushort)ArpOperation.Reply => $"Reply {arp.SenderProtocol} is-at {arp.SenderHardware}",
        _ => $"op {arp.Operation} {arp.SenderProtocol} ({arp.SenderHardware}) > {arp.TargetProtocol} ({arp.TargetHardware})",
    };

    private static void AppendIpv4(StringBuilder text, DecodedFrame frame, DecodedFrame.Ipv4Layer ip)
    {
        var inv = CultureInfo.InvariantCulture;
        // tcpdump -v's IP details in parentheses, then the addresses and the transport.
        text.Append(inv, $": (ttl {ip.TimeToLive}, id {ip.Identification}");
        if (ip.IsFragment) text.Append(inv, $", offset {ip.Offset}");
        if (ip.DontFragment || ip.MoreFragments) text.Append(ip.DontFragment ? ", flags [DF" : ", flags [").Append(ip.MoreFragments ? "+]" : "]");
        text.Append(inv, $", proto {ProtocolName(ip.Protocol)}, length {ip.TotalLength}");
        if (ip.ChecksumOk == false) text.Append(", bad cksum");
        text.Append(") ");
        if (AppendTransport(text, frame, ip.Source.ToString(), ip.Destination.ToString())) return;
        if (frame.Icmp is { } icmp)
        {
            text.Append(inv, $"{ip.Source} > {ip.Destination}: ICMP {IcmpText(icmp)}, length {icmp.Length}");
            if (icmp.ChecksumOk == false) text.Append(", bad icmp cksum");
        }
        else if (frame.Igmp is { } igmp)
        {
            text.Append(inv, $"{ip.Source} > {ip.Destination}: {IgmpText(igmp)}");
            if (igmp.ChecksumOk == false) text.Append(", bad igmp cksum");
        }
        else
        {
            text.Append(inv, $"{ip.Source} > {ip.Destination}");
            if (ip.Offset != 0) text.Append(inv, $": fragment of {ip.TotalLength - ip.HeaderLength} bytes");
        }
    }

    // UDP or TCP with the addresses of either family; false when the frame carries neither.
    private static bool AppendTransport(StringBuilder text, DecodedFrame frame, string source, string destination)
    {
        var inv = CultureInfo.InvariantCulture;
        if (frame.Udp is { } udp)
        {
            text.Append(inv, $"{source}.{udp.SourcePort} > {destination}.{udp.DestinationPort}: UDP, length {udp.PayloadLength}");
            if (udp.ChecksumOk == false) text.Append(", bad udp cksum");
            AppendApplication(text, frame);
            return true;
        }
        if (frame.Tcp is { } tcp)
        {
            text.Append(inv, $"{source}.{tcp.SourcePort} > {destination}.{tcp.DestinationPort}: ");
            AppendTcp(text, tcp);
            AppendApplication(text, frame);
            return true;
        }
        return false;
    }

    private static void AppendIpv6(StringBuilder text, DecodedFrame frame, DecodedFrame.Ipv6Layer ip)
    {
        var inv = CultureInfo.InvariantCulture;
        // tcpdump -v's IPv6 details in parentheses, then the addresses and the upper layer.
        text.Append(inv, $": (hlim {ip.HopLimit}");
        if (ip.FlowLabel != 0) text.Append(inv, $", flowlabel 0x{ip.FlowLabel:x5}");
        text.Append(inv, $", next-header {ip.NextHeader}, payload length {ip.PayloadLength}");
        if (ip.Fragment is { } f) text.Append(inv, $", frag (0x{f.Identification:x8}:{f.Offset}{(f.MoreFragments ? "+" : "")})");
        text.Append(") ");
        if (AppendTransport(text, frame, ip.Source.ToString(), ip.Destination.ToString())) return;
        if (frame.Icmpv6 is { } icmp)
        {
            text.Append(inv, $"{ip.Source} > {ip.Destination}: ICMP6, {Icmpv6Text(icmp)}, length {icmp.Length}");
            if (icmp.ChecksumOk == false) text.Append(", bad icmp6 cksum");
        }
        else
        {
            text.Append(inv, $"{ip.Source} > {ip.Destination}");
            if (ip.Fragment is { Offset: > 0 }) text.Append(inv, $": fragment");
        }
    }

    private static string Icmpv6Text(DecodedFrame.Icmpv6Layer icmp)
    {
        var inv = CultureInfo.InvariantCulture;
        string name = icmp.Type switch
        {
            1 => string.Create(inv, $"destination unreachable, code {icmp.Code}"),
            2 => string.Create(inv, $"packet too big, mtu {icmp.Mtu}"),
            3 => icmp.Code == 0 ? "time exceeded in-transit" : "time exceeded reassembly",
            4 => string.Create(inv, $"parameter problem, code {icmp.Code}, pointer {icmp.Pointer}"),
            128 => "echo request",
            129 => "echo reply",
            130 => "multicast listener query",
            131 => "multicast listener report",
            132 => "multicast listener done",
            133 => "router solicitation",
            134 => "router advertisement",
            135 => "neighbor solicitation",
            136 => "neighbor advertisement",
            137 => "redirect",
            143 => "multicast listener report v2",
            _ => string.Create(inv, $"type {icmp.Type} code {icmp.Code}"),
        };
        if (icmp.Identifier is ushort id) name += string.Create(inv, $", id {id}, seq {icmp.Sequence}");
        if (icmp.Target is { } target) name += (icmp.Type == 135 ? ", who has " : ", tgt is ") + target;
        if (icmp.Quote is { } q)
        {
            name += q.SourcePort is ushort sp
                ? string.Create(inv, $", quoting {q.Source}.{sp} > {q.Destination}.{q.DestinationPort} {ProtocolName(q.Protocol)}")
                : string.Create(inv, $", quoting {q.Source} > {q.Destination} {ProtocolName(q.Protocol)}");
        }
        return name;
    }

    private static void AppendApplication(StringBuilder text, DecodedFrame frame)
    {
        var inv = CultureInfo.InvariantCulture;
        if (frame.Dns is { } dns)
        {
            text.Append(inv, $": DNS {dns.Id} {(dns.IsResponse ? "response" : "query")}");
            if (dns.Opcode != 0) text.Append(inv, $" opcode {dns.Opcode}");
            if (dns.IsResponse) text.Append(' ').Append(ResponseCodeName(dns.ResponseCode));
            foreach (var q in dns.Questions) text.Append(' ').Append(TypeName(q.Type)).Append("? ").Append(Printable(q.Name));
            if (dns.Answers.Count > 0)
                text.Append(", answers ").Append(string.Join(", ", dns.Answers.Select(a => $"{Printable(a.Name)} {TypeName(a.Type)} {Printable(a.Data)}")));
        }
        if (frame.Dhcp is { } dhcp)
        {
            text.Append(": DHCP ").Append(dhcp.MessageType is byte type ? DhcpTypeName(type) : dhcp.Operation == 1 ? "BOOTREQUEST" : "BOOTREPLY");
            text.Append(inv, $" xid 0x{dhcp.TransactionId:x8}, chaddr {dhcp.ClientHardwareAddress}");
            if (!dhcp.ClientAddress.IsAny) text.Append(inv, $", ciaddr {dhcp.ClientAddress}");
            if (!dhcp.YourAddress.IsAny) text.Append(inv, $", yiaddr {dhcp.YourAddress}");
            if (dhcp.RequestedAddress is { } requested) text.Append(inv, $", requested {requested}");
            if (dhcp.ServerIdentifier is { } server) text.Append(inv, $", server {server}");
            if (dhcp.LeaseTime is uint lease) text.Append(inv, $", lease {lease}");
        }
    }

    private static string TypeName(ushort type) => type switch
    {
        1 => "A", 2 => "NS", 5 => "CNAME", 6 => "SOA", 12 => "PTR", 15 => "MX", 16 => "TXT", 28 => "AAAA", 33 => "SRV", 41 => "OPT", 255 => "ANY",
        _ => "TYPE" + type.ToString(CultureInfo.InvariantCulture),
    };

    private static string ResponseCodeName(byte code) => code switch
    {
        0 => "NOERROR", 1 => "FORMERR", 2 => "SERVFAIL", 3 => "NXDOMAIN", 4 => "NOTIMP", 5 => "REFUSED",
        _ => "RCODE" + code.ToString(CultureInfo.InvariantCulture),
    };

    private static string DhcpTypeName(byte type) => type switch
    {
        1 => "DISCOVER", 2 => "OFFER", 3 => "REQUEST", 4 => "DECLINE", 5 => "ACK", 6 => "NAK", 7 => "RELEASE", 8 => "INFORM",
        _ => "type " + type.ToString(CultureInfo.InvariantCulture),
    };

    // Names and TXT data are bytes from the wire: keep the summary on one printable line.
    private static string Printable(string text)
    {
        if (text.All(c => c is >= ' ' and <= '~')) return text;
        var clean = new StringBuilder(text.Length + 8);
        foreach (char c in text)
            clean.Append(c is >= ' ' and <= '~' ? c.ToString() : string.Create(CultureInfo.InvariantCulture, $"\\{(int)c:000}"));
        return clean.ToString();
    }

    // tcpdump's style: Flags [S.], seq, ack, win, options [...], length.
    private static void AppendTcp(StringBuilder text, DecodedFrame.TcpLayer tcp)
    {
        var inv = CultureInfo.InvariantCulture;
        var flags = (TcpFlags)tcp.Flags;
        text.Append("Flags [");
        if (flags.HasFlag(TcpFlags.Syn)) text.Append('S');
        if (flags.HasFlag(TcpFlags.Fin)) text.Append('F');
        if (flags.HasFlag(TcpFlags.Rst)) text.Append('R');
        if (flags.HasFlag(TcpFlags.Psh)) text.Append('P');
        if (flags.HasFlag(TcpFlags.Urg)) text.Append('U');
        if (flags.HasFlag(TcpFlags.Ece)) text.Append('E');
        if (flags.HasFlag(TcpFlags.Cwr)) text.Append('W');
        if (flags.HasFlag(TcpFlags.Ack)) text.Append('.');
        text.Append(inv, $"], seq {tcp.Sequence}");
        if (flags.HasFlag(TcpFlags.Ack)) text.Append(inv, $", ack {tcp.Acknowledgment}");
        text.Append(inv, $", win {tcp.Window}");
        if (tcp.Options is { } o && (o.MaximumSegmentSize.HasValue || o.WindowScale.HasValue || o.SackPermitted || o.Timestamp.HasValue || o.SackBlocks.Count > 0))
        {
            var parts = new List<string>();
            if (o.MaximumSegmentSize is ushort mss) parts.Add(string.Create(inv, $"mss {mss}"));
            if (o.SackPermitted) parts.Add("sackOK");
            if (o.Timestamp is { } ts) parts.Add(string.Create(inv, $"TS val {ts.Value} ecr {ts.EchoReply}"));
            if (o.WindowScale is byte shift) parts.Add(string.Create(inv, $"wscale {shift}"));
            if (o.SackBlocks.Count > 0)
            {
                var blocks = new List<string>();
                for (int i = 0; i < o.SackBlocks.Count; i++) blocks.Add(string.Create(inv, $"{{{o.SackBlocks[i].Left}:{o.SackBlocks[i].Right}}}"));
                parts.Add(string.Create(inv, $"sack {o.SackBlocks.Count} ") + string.Concat(blocks));
            }
            text.Append(", options [").Append(string.Join(',', parts)).Append(']');
        }
        text.Append(inv, $", length {tcp.PayloadLength}");
        if (tcp.ChecksumOk == false) text.Append(", bad tcp cksum");
    }

    private static string ProtocolName(byte protocol) => protocol switch
    {
        (byte)IpProtocol.Icmp => "ICMP",
        (byte)IpProtocol.Igmp => "IGMP",
        (byte)IpProtocol.Tcp => "TCP",
        (byte)IpProtocol.Udp => "UDP",
        _ => "ip-proto-" + protocol.ToString(CultureInfo.InvariantCulture),
    };

    // tcpdump's wording: "igmp query v3 [max resp time 10.0s]", "igmp v2 report 239.1.2.3", "igmp v3 report, 1 group record(s)".
    private static string IgmpText(DecodedFrame.IgmpLayer igmp)
    {
        var inv = CultureInfo.InvariantCulture;
        return (IgmpType)igmp.Type switch
        {
            IgmpType.MembershipQuery => string.Create(inv, $"igmp query v{igmp.QueryVersion} [max resp time {igmp.MaximumResponseTenths / 10.0:0.0}s]")
                                        + (igmp.Group.IsAny ? "" : string.Create(inv, $" [gaddr {igmp.Group}]")),
            IgmpType.V1MembershipReport => string.Create(inv, $"igmp v1 report {igmp.Group}"),
            IgmpType.V2MembershipReport => string.Create(inv, $"igmp v2 report {igmp.Group}"),
            IgmpType.LeaveGroup => string.Create(inv, $"igmp leave {igmp.Group}"),
            IgmpType.V3MembershipReport => string.Create(inv, $"igmp v3 report, {igmp.Records} group record(s)"),
            _ => string.Create(inv, $"igmp type 0x{igmp.Type:x2}, length {igmp.Length}"),
        };
    }

    private static string IcmpText(DecodedFrame.IcmpLayer icmp)
    {
        var inv = CultureInfo.InvariantCulture;
        string name = icmp.Type switch
        {
            0 => "echo reply",
            3 => "destination unreachable (" + UnreachableCode(icmp.Code) + ")",
            4 => "source quench",
            5 => "redirect",
            8 => "echo request",
            11 => icmp.Code == 0 ? "time exceeded in-transit" : "time exceeded reassembly",
            12 => "parameter problem",
            13 => "time stamp request",
            14 => "time stamp reply",
            _ => string.Create(inv, $"type {icmp.Type} code {icmp.Code}"),
        };
        if (icmp.Identifier is ushort id) name += string.Create(inv, $", id {id}, seq {icmp.Sequence}");
        if (icmp.Quote is { } q)
        {
            name += q.SourcePort is ushort sp
                ? string.Create(inv, $", quoting {q.Source}.{sp} > {q.Destination}.{q.DestinationPort} {ProtocolName(q.Protocol)}")
                : string.Create(inv, $", quoting {q.Source} > {q.Destination} {ProtocolName(q.Protocol)}");
        }
        return name;
    }

    private static string UnreachableCode(byte code) => code switch
    {
        0 => "net unreachable",
        1 => "host unreachable",
        2 => "protocol unreachable",
        3 => "port unreachable",
        4 => "fragmentation needed",
        13 => "administratively prohibited",
        _ => "code " + code.ToString(CultureInfo.InvariantCulture),
    };
}
