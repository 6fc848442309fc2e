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
            if (eth.Vlan is ushort vlan) text.Append(inv, $", vlan {vlan}");
            text.Append(inv, $", length {frame.Length}");
            if (frame.Arp is { } arp) text.Append(": ").Append(ArpText(arp));
            if (frame.Ipv4 is { } ip) AppendIpv4(text, frame, ip);
        }
        if (frame.IsSnapped) text.Append(inv, $" [{frame.CapturedLength} bytes captured]");
        if (frame.ErrorText is { } error) text.Append(" [malformed ").Append(error).Append(']');
    }

    private static string EtherTypeName(ushort type) => type switch
    {
        (ushort)EtherType.Ipv4 => "IPv4",
        (ushort)EtherType.Arp => "ARP",
        (ushort)EtherType.Ipv6 => "IPv6",
        <= 1500 => $"802.3 length {type}",
        _ => $"ethertype 0x{type:x4}",
    };

    private static string ArpText(DecodedFrame.ArpLayer arp) => arp.Operation switch
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
        if (!ip.ChecksumOk) text.Append(", bad cksum");
        text.Append(") ");
        if (frame.Udp is { } udp)
        {
            text.Append(inv, $"{ip.Source}.{udp.SourcePort} > {ip.Destination}.{udp.DestinationPort}: UDP, length {udp.PayloadLength}");
            if (udp.ChecksumOk == false) text.Append(", bad udp cksum");
        }
        else if (frame.Icmp is { } icmp)
        {
            text.Append(inv, $"{ip.Source} > {ip.Destination}: ICMP {IcmpText(icmp)}, length {icmp.Length}");
            if (icmp.ChecksumOk == false) text.Append(", bad icmp cksum");
        }
        else
        {
            text.Append(inv, $"{ip.Source} > {ip.Destination}");
            if (ip.Offset != 0) text.Append(inv, $": fragment of {ip.TotalLength - ip.HeaderLength} bytes");
        }
    }

    private static string ProtocolName(byte protocol) => protocol switch
    {
        (byte)IpProtocol.Icmp => "ICMP",
        (byte)IpProtocol.Tcp => "TCP",
        (byte)IpProtocol.Udp => "UDP",
        _ => "ip-proto-" + protocol.ToString(CultureInfo.InvariantCulture),
    };

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
