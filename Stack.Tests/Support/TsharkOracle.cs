using System.Globalization;

namespace TcpIpSharp.Tests.Support;

/// <summary>
/// tshark's reading of a capture in decode's key names, from <c>tshark -T fields</c> with checksum validation on, IPv4
/// and IPv6 reassembly off (so a first fragment shows its own transport header, as decode does) and TCP desegmentation off
/// (decode reads each frame alone).
/// </summary>
internal static class TsharkOracle
{
    private const char Aggregator = '\u0001';

    private static readonly string[] Fields =
    [
        "frame.number", "eth.src", "eth.dst", "eth.type", "eth.len", "vlan.id", "vlan.etype", "vlan.len", "ieee8021ad.id",
        "arp.opcode", "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac", "arp.dst.proto_ipv4", "arp.src.hw", "arp.dst.hw",
        "ip.src", "ip.dst", "ip.ttl", "ip.proto", "ip.id", "ip.flags.df", "ip.flags.mf", "ip.frag_offset", "ip.len", "ip.checksum.status",
        "icmp.type", "icmp.code", "icmp.checksum.status",
        "udp.srcport", "udp.dstport", "udp.length", "udp.checksum.status",
        "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.flags", "tcp.window_size_value", "tcp.len", "tcp.checksum.status",
        "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.sack_perm", "tcp.options.sack_le", "tcp.options.sack_re",
        "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr",
        "dns.id", "dns.flags.response", "dns.flags.opcode", "dns.flags.rcode", "dns.qry.name", "dns.qry.type", "dns.count.answers",
        "dhcp.type", "dhcp.id", "dhcp.option.dhcp", "dhcp.ip.client", "dhcp.ip.your", "dhcp.ip.server", "dhcp.hw.mac_addr",
        "dhcp.option.subnet_mask", "dhcp.option.router", "dhcp.option.domain_name_server", "dhcp.option.ip_address_lease_time",
        "dhcp.option.dhcp_server_id", "dhcp.option.requested_ip_address",
        "ipv6.src", "ipv6.dst", "ipv6.hlim", "ipv6.nxt", "ipv6.plen", "ipv6.flow", "ipv6.fraghdr.offset", "ipv6.fraghdr.more", "ipv6.fraghdr.ident",
        "icmpv6.type", "icmpv6.code", "icmpv6.checksum.status", "icmpv6.echo.identifier", "icmpv6.echo.sequence_number", "icmpv6.mtu",
        "icmpv6.pointer", "icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address", "icmpv6.nd.rd.target_address",
    ];

    /// <summary>The keys this oracle can give, to compare with decode's.</summary>
    public static readonly string[] Keys =
    [
        "eth.src", "eth.dst", "eth.type", "eth.len", "eth.vlan",
        "arp.op", "arp.sha", "arp.spa", "arp.tha", "arp.tpa",
        "ipv4.src", "ipv4.dst", "ipv4.ttl", "ipv4.proto", "ipv4.id", "ipv4.df", "ipv4.mf", "ipv4.offset", "ipv4.len", "ipv4.checksum_ok",
        "icmp.type", "icmp.code", "icmp.checksum_ok", "icmp.quote.src", "icmp.quote.dst", "icmp.quote.proto", "icmp.quote.src_port", "icmp.quote.dst_port",
        "udp.src_port", "udp.dst_port", "udp.len", "udp.checksum_ok",
        "tcp.src_port", "tcp.dst_port", "tcp.seq", "tcp.ack", "tcp.flags", "tcp.window", "tcp.payload", "tcp.checksum_ok",
        "tcp.mss", "tcp.wscale", "tcp.sack_permitted", "tcp.sack", "tcp.ts",
        "dns.id", "dns.qr", "dns.opcode", "dns.rcode", "dns.questions.name", "dns.questions.type", "dns.answers.count",
        "dhcp.op", "dhcp.xid", "dhcp.msg_type", "dhcp.ciaddr", "dhcp.yiaddr", "dhcp.siaddr", "dhcp.chaddr",
        "dhcp.options.subnet", "dhcp.options.router", "dhcp.options.dns", "dhcp.options.lease", "dhcp.options.server_id", "dhcp.options.requested_ip",
        "ipv6.src", "ipv6.dst", "ipv6.hop_limit", "ipv6.next_header", "ipv6.payload_len", "ipv6.flow_label", "ipv6.frag.offset", "ipv6.frag.more", "ipv6.frag.id",
        "icmpv6.type", "icmpv6.code", "icmpv6.checksum_ok", "icmpv6.id", "icmpv6.seq", "icmpv6.mtu", "icmpv6.pointer", "icmpv6.target",
        "icmpv6.quote.src", "icmpv6.quote.dst", "icmpv6.quote.proto", "icmpv6.quote.src_port", "icmpv6.quote.dst_port",
    ];

    /// <summary>Frame number -> fields, for every frame of the capture.</summary>
    public static Dictionary<int, FrameFields> Read(string path)
    {
        string tshark = ExternalTool.Require("tshark", "tshark");
        var arguments = new List<string>
        {
            "-r", path, "-n",
            "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
            "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE", "-o", "tcp.desegment_tcp_streams:FALSE", "-o", "tcp.relative_sequence_numbers:FALSE",
            "-T", "fields", "-E", "aggregator=" + Aggregator, "-E", "separator=/t",
        };
        foreach (string field in Fields) { arguments.Add("-e"); arguments.Add(field); }
        var (exit, stdout, stderr) = ExternalTool.Run(tshark, arguments);
        Assert.That(exit, Is.Zero, $"tshark failed on {path}: {stderr}");

        var frames = new Dictionary<int, FrameFields>();
        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] columns = line.Split('\t');
            var raw = new Dictionary<string, string[]>(StringComparer.Ordinal);
            for (int i = 0; i < Fields.Length && i < columns.Length; i++)
                if (columns[i].Length > 0) raw[Fields[i]] = columns[i].Split(Aggregator);
            int number = int.Parse(raw["frame.number"][0], CultureInfo.InvariantCulture);
            frames[number] = Map(raw);
        }
        return frames;
    }

    private static FrameFields Map(Dictionary<string, string[]> raw)
    {
        var f = new FrameFields();
        string? First(string field) => raw.TryGetValue(field, out var v) ? v[0] : null;
        string? Second(string field) => raw.TryGetValue(field, out var v) && v.Length > 1 ? v[1] : null;
        string? Last(string field) => raw.TryGetValue(field, out var v) ? v[^1] : null;
        // ARP addresses of hardware other than Ethernet come as bare hex: decode prints them colon-separated.
        string? Colons(string? hex) => hex is null ? null : string.Join(':', hex.Chunk(2).Select(pair => new string(pair)));

        f.Set("eth.src", First("eth.src"));
        f.Set("eth.dst", First("eth.dst"));
        if (First("vlan.id") is { } vlan)
        {
            // Stacked tags (QinQ): the outer tag's VLAN (an 802.1ad one when present), the EtherType after the last tag.
            f.Set("eth.vlan", First("ieee8021ad.id") ?? vlan);
            f.Set("eth.type", Number(Last("vlan.etype")));
            f.Set("eth.len", Last("vlan.len"));
        }
        else if (First("ieee8021ad.id") is { } serviceVlan)
        {
            f.Set("eth.vlan", serviceVlan);   // tshark names no field for the EtherType after an 802.1ad tag
        }
        else
        {
            f.Set("eth.type", Number(First("eth.type")));
            f.Set("eth.len", First("eth.len"));
        }

        f.Set("arp.op", First("arp.opcode"));
        f.Set("arp.sha", First("arp.src.hw_mac") ?? Colons(First("arp.src.hw")));
        f.Set("arp.spa", First("arp.src.proto_ipv4"));
        f.Set("arp.tha", First("arp.dst.hw_mac") ?? Colons(First("arp.dst.hw")));
        f.Set("arp.tpa", First("arp.dst.proto_ipv4"));

        f.Set("ipv4.src", First("ip.src"));
        f.Set("ipv4.dst", First("ip.dst"));
        f.Set("ipv4.ttl", First("ip.ttl"));
        f.Set("ipv4.proto", First("ip.proto"));
        f.Set("ipv4.id", Number(First("ip.id")));
        f.Set("ipv4.df", Bool(First("ip.flags.df")));
        f.Set("ipv4.mf", Bool(First("ip.flags.mf")));
        f.Set("ipv4.offset", Number(First("ip.frag_offset")) * 8);   // tshark 4.0 gives the field in 8-byte units
        f.Set("ipv4.len", First("ip.len"));
        f.Set("ipv4.checksum_ok", Status(First("ip.checksum.status")));

        f.Set("icmp.type", First("icmp.type"));
        f.Set("icmp.code", First("icmp.code"));
        f.Set("icmp.checksum_ok", Status(First("icmp.checksum.status")));

        // In an ICMP error tshark dissects the quoted datagram: its IPv4 header is the second "ip" and its ports are "udp"/"tcp".
        bool quoting = raw.ContainsKey("icmp.type") && Second("ip.src") is not null;
        // The same for ICMPv6: the quoted packet is the second "ipv6"; its upper-layer protocol is whichever dissector ran on it.
        bool quoting6 = raw.ContainsKey("icmpv6.type") && Second("ipv6.src") is not null;
        f.Set("ipv6.src", First("ipv6.src"));
        f.Set("ipv6.dst", First("ipv6.dst"));
        f.Set("ipv6.hop_limit", First("ipv6.hlim"));
        f.Set("ipv6.next_header", First("ipv6.nxt"));
        f.Set("ipv6.payload_len", First("ipv6.plen"));
        f.Set("ipv6.flow_label", Number(First("ipv6.flow")));
        f.Set("ipv6.frag.offset", Number(First("ipv6.fraghdr.offset")) * 8);   // 8-byte units in tshark 4.0
        f.Set("ipv6.frag.more", Bool(First("ipv6.fraghdr.more")));
        f.Set("ipv6.frag.id", Number(First("ipv6.fraghdr.ident")));
        f.Set("icmpv6.type", First("icmpv6.type"));
        f.Set("icmpv6.code", First("icmpv6.code"));
        f.Set("icmpv6.checksum_ok", Status(First("icmpv6.checksum.status")));
        if (First("icmpv6.type") is "128" or "129")   // in an error, an echo's fields belong to the quoted packet
        {
            f.Set("icmpv6.id", Number(First("icmpv6.echo.identifier")));
            f.Set("icmpv6.seq", Number(First("icmpv6.echo.sequence_number")));
        }
        f.Set("icmpv6.mtu", First("icmpv6.mtu"));
        f.Set("icmpv6.pointer", First("icmpv6.pointer"));
        f.Set("icmpv6.target", First("icmpv6.nd.ns.target_address") ?? First("icmpv6.nd.na.target_address") ?? First("icmpv6.nd.rd.target_address"));
        if (quoting6)
        {
            f.Set("icmpv6.quote.src", Second("ipv6.src"));
            f.Set("icmpv6.quote.dst", Second("ipv6.dst"));
            f.Set("icmpv6.quote.proto", raw.ContainsKey("udp.srcport") ? "17" : raw.ContainsKey("tcp.srcport") ? "6"
                : Second("icmpv6.type") is not null ? "58" : Second("ipv6.nxt"));
            f.Set("icmpv6.quote.src_port", First("udp.srcport") ?? First("tcp.srcport"));
            f.Set("icmpv6.quote.dst_port", First("udp.dstport") ?? First("tcp.dstport"));
        }
        else if (quoting)
        {
            f.Set("icmp.quote.src", Second("ip.src"));
            f.Set("icmp.quote.dst", Second("ip.dst"));
            f.Set("icmp.quote.proto", Second("ip.proto"));
            f.Set("icmp.quote.src_port", First("udp.srcport") ?? First("tcp.srcport"));
            f.Set("icmp.quote.dst_port", First("udp.dstport") ?? First("tcp.dstport"));
        }
        else
        {
            f.Set("udp.src_port", First("udp.srcport"));
            f.Set("udp.dst_port", First("udp.dstport"));
            f.Set("udp.len", First("udp.length"));
            f.Set("udp.checksum_ok", Status(First("udp.checksum.status")));
            f.Set("tcp.src_port", First("tcp.srcport"));
            f.Set("tcp.dst_port", First("tcp.dstport"));
            f.Set("tcp.seq", First("tcp.seq_raw"));
            f.Set("tcp.ack", First("tcp.ack_raw"));
            f.Set("tcp.flags", Number(First("tcp.flags")) & 0x1FF);   // tshark includes the three reserved bits; decode's flags are NS and the eight below it
            f.Set("tcp.window", First("tcp.window_size_value"));
            f.Set("tcp.payload", First("tcp.len"));
            f.Set("tcp.checksum_ok", Status(First("tcp.checksum.status")));
            f.Set("tcp.mss", First("tcp.options.mss_val"));
            f.Set("tcp.wscale", First("tcp.options.wscale.shift"));
            if (raw.ContainsKey("tcp.options.sack_perm")) f.Set("tcp.sack_permitted", true);
            if (raw.TryGetValue("tcp.options.sack_le", out var lefts) && raw.TryGetValue("tcp.options.sack_re", out var rights))
                f.Set("tcp.sack", "[" + string.Join(',', lefts.Zip(rights, (l, r) => $"[{l},{r}]")) + "]");
            if (First("tcp.options.timestamp.tsval") is { } tsval)
                f.Set("tcp.ts", $"[{tsval},{First("tcp.options.timestamp.tsecr")}]");
        }
        if (!quoting && !quoting6 && raw.ContainsKey("dns.id"))
        {
            f.Set("dns.id", Number(First("dns.id")));
            f.Set("dns.qr", Bool(First("dns.flags.response")));
            f.Set("dns.opcode", First("dns.flags.opcode"));
            f.Set("dns.rcode", First("dns.flags.rcode"));
            if (raw.TryGetValue("dns.qry.name", out var names)) f["dns.questions.name"] = string.Join(' ', names.Select(n => n == "<Root>" ? "" : n));
            if (raw.TryGetValue("dns.qry.type", out var types)) f["dns.questions.type"] = string.Join(' ', types);
            f.Set("dns.answers.count", First("dns.count.answers"));
        }
        if (raw.ContainsKey("dhcp.id"))
        {
            f.Set("dhcp.op", First("dhcp.type"));
            f.Set("dhcp.xid", Number(First("dhcp.id")));
            f.Set("dhcp.msg_type", First("dhcp.option.dhcp"));
            f.Set("dhcp.ciaddr", First("dhcp.ip.client"));
            f.Set("dhcp.yiaddr", First("dhcp.ip.your"));
            f.Set("dhcp.siaddr", First("dhcp.ip.server"));
            f.Set("dhcp.chaddr", First("dhcp.hw.mac_addr"));
            f.Set("dhcp.options.subnet", First("dhcp.option.subnet_mask"));
            if (raw.TryGetValue("dhcp.option.router", out var routers)) f.Set("dhcp.options.router", JsonStrings(routers));
            if (raw.TryGetValue("dhcp.option.domain_name_server", out var servers)) f.Set("dhcp.options.dns", JsonStrings(servers));
            f.Set("dhcp.options.lease", First("dhcp.option.ip_address_lease_time"));
            f.Set("dhcp.options.server_id", First("dhcp.option.dhcp_server_id"));
            f.Set("dhcp.options.requested_ip", First("dhcp.option.requested_ip_address"));
        }
        return f;
    }

    private static string JsonStrings(IEnumerable<string> values) => "[" + string.Join(',', values.Select(v => "\"" + v + "\"")) + "]";

    private static long? Number(string? text) => text is null ? null
        : text.StartsWith("0x", StringComparison.Ordinal) ? long.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
        : long.Parse(text, CultureInfo.InvariantCulture);

    private static bool? Bool(string? text) => text switch
    {
        null => null,
        "1" or "True" or "true" => true,
        _ => false,
    };

    // Wireshark's checksum status: 0 bad, 1 good, 2 unverified, 3 not present (UDP checksum 0), 4 illegal.
    private static bool? Status(string? text) => text switch
    {
        "1" or "3" => true,
        "0" or "4" => false,
        _ => null,
    };
}
