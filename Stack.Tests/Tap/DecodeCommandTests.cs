using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using TcpIpSharp.Tap.Commands;
using TcpIpSharp.Tests.Interop;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Tests.Wire;

namespace TcpIpSharp.Tests.Tap;

/// <summary><c>tcpipsharp decode FILE [--json]</c>: one line per frame, in order; one-line errors and exit 2 for files it cannot decode.</summary>
public partial class DecodeCommandTests
{
    private string _temp = "";

    [SetUp]
    public void MakeTempFolder() => _temp = Directory.CreateTempSubdirectory("tcpipsharp-decode-").FullName;

    [TearDown]
    public void RemoveTempFolder() => Directory.Delete(_temp, recursive: true);

    public static IEnumerable<TestCaseData> Captures() => CaptureCorpus.Ids().Select(id => new TestCaseData(id).SetArgDisplayNames(id));

    [TestCaseSource(nameof(Captures))]
    public void Prints_one_line_per_frame_in_order_as_capinfos_counts(string id)
    {
        string path = CaptureCorpus.Resolve(id);
        int frames = CapinfosFrameCount(path);
        foreach (bool json in new[] { false, true })
        {
            var (exit, lines, error) = RunInProcess(json ? [path, "--json"] : [path]);
            Assert.That(exit, Is.Zero, error);
            Assert.That(error, Is.Empty);
            Assert.That(lines, Has.Length.EqualTo(frames), $"lines with{(json ? "" : "out")} --json vs capinfos -c -M");
            for (int i = 0; i < lines.Length; i++)
            {
                if (json)
                {
                    using var document = JsonDocument.Parse(lines[i]);
                    Assert.That(document.RootElement.GetProperty("n").GetInt64(), Is.EqualTo(i + 1), "frame order");
                }
                else
                {
                    Assert.That(lines[i], Does.StartWith((i + 1).ToString(CultureInfo.InvariantCulture) + " "), "frame order");
                }
            }
        }
    }

    [Test]
    public void The_built_program_decodes_a_capture_and_exits_0()
    {
        string path = Path.Combine(TestPaths.RequireSharedCaptures(), "zeek/testing/btest/Traces/dns/long-connection.pcap");
        var (exit, stdout, stderr) = ExternalTool.Run(HostProgram.Path, ["decode", path, "--json"]);
        Assert.That(exit, Is.Zero, stderr);
        Assert.That(Lines(stdout), Has.Length.EqualTo(CapinfosFrameCount(path)));
    }

    [Test]
    public void A_file_that_is_not_a_capture_gets_one_line_and_exit_2()
    {
        string path = Path.Combine(_temp, "notes.txt");
        File.WriteAllText(path, "this is not a capture file\nat all\n");
        foreach (string[] args in new[] { new[] { "decode", path }, ["decode", path, "--json"] })
        {
            var (exit, stdout, stderr) = ExternalTool.Run(HostProgram.Path, args);
            Assert.That(exit, Is.EqualTo(2));
            Assert.That(stdout, Is.Empty);
            Assert.That(Lines(stderr), Has.Length.EqualTo(1), stderr);
            Assert.That(stderr, Does.Contain("not a pcap or pcapng capture"));
        }
    }

    [Test]
    public void An_empty_file_gets_one_line_and_exit_2()
    {
        string path = Path.Combine(_temp, "empty.pcap");
        File.WriteAllBytes(path, []);
        var (exit, lines, error) = RunInProcess([path]);
        Assert.That(exit, Is.EqualTo(DecodeCommand.BadInput));
        Assert.That(lines, Is.Empty);
        Assert.That(Lines(error), Has.Length.EqualTo(1), error);
    }

    [Test]
    public void A_capture_of_another_link_type_gets_one_line_and_exit_2()
    {
        // A pcap of link type 101 (raw IPv4) holding one UDP packet.
        string path = Path.Combine(_temp, "raw-ip.pcap");
        byte[] packet = RealFrames.Udp[14..];
        var file = new byte[24 + 16 + packet.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(file, 0xa1b2c3d4);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(16), 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(20), 101);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(24 + 8), (uint)packet.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(24 + 12), (uint)packet.Length);
        packet.CopyTo(file, 40);
        File.WriteAllBytes(path, file);

        var (exit, stdout, stderr) = ExternalTool.Run(HostProgram.Path, ["decode", path]);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
        Assert.That(Lines(stderr), Has.Length.EqualTo(1), stderr);
        Assert.That(stderr, Does.Contain("link type").And.Contain("only Ethernet"));
    }

    [Test]
    public void A_missing_file_and_bad_arguments_get_one_line_and_exit_2()
    {
        foreach (string[] args in new[] { new[] { Path.Combine(_temp, "absent.pcap") }, [], ["a.pcap", "b.pcap"], ["a.pcap", "--bogus"] })
        {
            var (exit, lines, error) = RunInProcess(args);
            Assert.That(exit, Is.EqualTo(DecodeCommand.BadInput), string.Join(' ', args));
            Assert.That(lines, Is.Empty);
            Assert.That(Lines(error), Has.Length.EqualTo(1), error);
        }
    }

    [Test]
    public void Pcapng_decodes_like_pcap()
    {
        string pcap = Path.Combine(TestPaths.RequireSharedCaptures(), "tcpdump/tests/dns_tcp.pcap");
        string pcapng = Path.Combine(_temp, "dns_tcp.pcapng");
        string editcap = ExternalTool.Require("editcap", "tshark");
        var (convert, _, convertError) = ExternalTool.Run(editcap, ["-F", "pcapng", pcap, pcapng]);
        Assert.That(convert, Is.Zero, convertError);
        Assert.That(File.ReadAllBytes(pcapng).AsSpan(0, 4).ToArray(), Is.EqualTo(new byte[] { 0x0a, 0x0d, 0x0d, 0x0a }), "a pcapng section header");

        foreach (string[] mode in new[] { Array.Empty<string>(), ["--json"] })
        {
            var fromPcap = RunInProcess([pcap, .. mode]);
            var fromPcapng = RunInProcess([pcapng, .. mode]);
            Assert.That(fromPcapng.Exit, Is.Zero, fromPcapng.Error);
            Assert.That(fromPcapng.Lines, Is.EqualTo(fromPcap.Lines));
        }
    }

    /// <summary>Frames that carry every layer decode prints, each with the keys the issue names.</summary>
    [TestCase("sharppcap/Test/capture_files/arp_with_vlan.pcap", 1, "eth.src eth.dst eth.type eth.vlan arp.op arp.sha arp.spa arp.tha arp.tpa")]
    [TestCase("zeek/testing/btest/Traces/icmp/5-pings.pcap", 1,
        "eth.src eth.dst eth.type ipv4.src ipv4.dst ipv4.ttl ipv4.proto ipv4.id ipv4.df ipv4.mf ipv4.offset ipv4.len ipv4.checksum_ok icmp.type icmp.code icmp.checksum_ok")]
    [TestCase("zeek/testing/btest/Traces/chksums/ip4-udp-good-chksum.pcap", 1, "ipv4.src udp.src_port udp.dst_port udp.len udp.checksum_ok")]
    [TestCase("zeek/testing/btest/Traces/tcp/syn-synack.pcap", 1,
        "ipv4.src tcp.src_port tcp.dst_port tcp.seq tcp.ack tcp.flags tcp.window tcp.payload tcp.checksum_ok tcp.mss tcp.wscale tcp.sack_permitted tcp.ts")]
    [TestCase("zeek/testing/btest/Traces/tcp/option-sack.pcap", 1, "tcp.src_port tcp.sack")]
    [TestCase("tcpdump/tests/dns_udp.pcap", 2,
        "udp.src_port dns.id dns.qr dns.opcode dns.rcode dns.questions.name dns.questions.type dns.answers.name dns.answers.type dns.answers.ttl dns.answers.data")]
    [TestCase("tcpdump/tests/dns_tcp.pcap", 4, "tcp.dst_port dns.id dns.qr dns.questions.name")]
    [TestCase("tcpdump/tests/dns_tcp.pcap", 1, "tcp.dst_port -dns.id")]
    [TestCase("tcpdump/tests/dhcp-rfc3004.pcap", 1, "udp.src_port dhcp.op dhcp.xid dhcp.msg_type dhcp.ciaddr dhcp.yiaddr dhcp.siaddr dhcp.chaddr dhcp.options.requested_ip")]
    [TestCase("tcpdump/tests/dhcp-rfc3004.pcap", 2,
        "dhcp.msg_type dhcp.options.subnet dhcp.options.router dhcp.options.dns dhcp.options.lease dhcp.options.server_id -dhcp.options.requested_ip")]
    [TestCase("tcpdump/tests/dns-zlip-1.pcap", 1, "udp.dst_port error -dns.id")]
    [TestCase("zeek/testing/btest/Traces/ipv4/fragmented-1.pcap", 2, "ipv4.src ipv4.offset -udp.src_port -udp.checksum_ok")]
    [TestCase("zeek/testing/btest/Traces/ipv4/fragmented-1.pcap", 1, "ipv4.mf udp.src_port -udp.checksum_ok")]
    [TestCase("tcpdump/tests/ipv4_invalid_hdr_length.pcap", 1, "eth.src eth.type error -ipv4.src")]
    [TestCase("tcpdump/tests/tcp_header_heapoverflow.pcap", 1, "eth.src ipv4.src ipv4.checksum_ok caplen error -tcp.src_port")]
    public void Json_lines_carry_the_keys_of_each_layer(string capture, int frame, string keys)
    {
        string path = Path.Combine(TestPaths.RequireSharedCaptures(), capture);
        var (exit, lines, error) = RunInProcess([path, "--json"]);
        Assert.That(exit, Is.Zero, error);
        using var document = JsonDocument.Parse(lines[frame - 1]);
        var fields = FrameFields.FromJson(document.RootElement);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(fields.Get("n"), Is.EqualTo(frame.ToString(CultureInfo.InvariantCulture)));
            Assert.That(fields.Get("len"), Is.Not.Null);
            foreach (string key in keys.Split(' '))
            {
                if (key.StartsWith('-')) Assert.That(fields.Get(key[1..]), Is.Null, $"{key[1..]} should be absent in {lines[frame - 1]}");
                else Assert.That(fields.Get(key), Is.Not.Null, $"{key} missing in {lines[frame - 1]}");
            }
            foreach (string mac in new[] { "eth.src", "eth.dst", "arp.sha", "arp.tha" })
                if (fields.Get(mac) is { } text) Assert.That(text, Does.Match(MacPattern()), mac);
        }
    }

    [Test]
    public void Json_values_match_the_frame()
    {
        string path = Path.Combine(TestPaths.RequireSharedCaptures(), "zeek/testing/btest/Traces/icmp/5-pings.pcap");
        var (_, lines, _) = RunInProcess([path, "--json"]);
        using var document = JsonDocument.Parse(lines[0]);
        var root = document.RootElement;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(root.GetProperty("len").GetInt32(), Is.EqualTo(98));
            Assert.That(root.GetProperty("eth").GetProperty("src").GetString(), Is.EqualTo("00:0c:29:cf:30:15"));
            Assert.That(root.GetProperty("eth").GetProperty("type").GetInt32(), Is.EqualTo(0x0800));
            var ip = root.GetProperty("ipv4");
            Assert.That(ip.GetProperty("src").GetString(), Is.EqualTo("172.16.133.2"));
            Assert.That(ip.GetProperty("dst").GetString(), Is.EqualTo("172.217.11.78"));
            Assert.That(ip.GetProperty("ttl").GetInt32(), Is.EqualTo(64));
            Assert.That(ip.GetProperty("proto").GetInt32(), Is.EqualTo(1));
            Assert.That(ip.GetProperty("id").GetInt32(), Is.EqualTo(37994));
            Assert.That(ip.GetProperty("df").GetBoolean(), Is.True);
            Assert.That(ip.GetProperty("mf").GetBoolean(), Is.False);
            Assert.That(ip.GetProperty("offset").GetInt32(), Is.Zero);
            Assert.That(ip.GetProperty("len").GetInt32(), Is.EqualTo(84));
            Assert.That(ip.GetProperty("checksum_ok").GetBoolean(), Is.True);
            var icmp = root.GetProperty("icmp");
            Assert.That(icmp.GetProperty("type").GetInt32(), Is.EqualTo(8));
            Assert.That(icmp.GetProperty("code").GetInt32(), Is.Zero);
            Assert.That(icmp.GetProperty("checksum_ok").GetBoolean(), Is.True);
            Assert.That(root.TryGetProperty("error", out _), Is.False);
        }
    }

    [Test]
    public void Dns_answer_data_takes_the_text_form_of_its_type()
    {
        // The project's own dns.pcap: dig against dnsmasq (see Stack.Tests/Captures/README.md).
        string path = Path.Combine(TestPaths.OwnCaptures, "dns.pcap");
        if (!File.Exists(path)) Assert.Fail(path + " is missing (tools/record-captures.sh records it)");
        var (exit, lines, error) = RunInProcess([path, "--json"]);
        Assert.That(exit, Is.Zero, error);
        var data = new Dictionary<int, string>();
        foreach (string line in lines)
        {
            using var document = JsonDocument.Parse(line);
            if (!document.RootElement.TryGetProperty("dns", out var dns)) continue;
            foreach (var answer in dns.GetProperty("answers").EnumerateArray())
                data.TryAdd(answer.GetProperty("type").GetInt32(), answer.GetProperty("data").GetString()!);
        }
        using (Assert.EnterMultipleScope())
        {
            Assert.That(data[1], Is.EqualTo("192.0.2.20").Or.EqualTo("192.0.2.30"), "A: dotted");
            Assert.That(data[5], Is.EqualTo("host.example.test"), "CNAME: the target, without a trailing dot");
            Assert.That(data[28], Is.EqualTo("2001:db8::20"), "AAAA: RFC 5952 text");
            Assert.That(data[15], Is.EqualTo("10 mail.example.test"), "MX: preference and name");
            Assert.That(data[16], Is.EqualTo("v=spf1 -all second string"), "TXT: the strings joined by a space");
        }
    }

    [Test]
    public void Summary_lines_read_like_tcpdump()
    {
        string root = TestPaths.RequireSharedCaptures();
        string Line(string capture, int frame) => RunInProcess([Path.Combine(root, capture)]).Lines[frame - 1];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Line("sharppcap/Test/capture_files/arp_with_vlan.pcap", 1),
                Is.EqualTo("1 ab:cd:ef:01:02:04 > ff:ff:ff:ff:ff:ff, ARP, vlan 2, length 46: Request who-has 192.168.42.1 tell 192.168.42.2"));
            Assert.That(Line("zeek/testing/btest/Traces/icmp/5-pings.pcap", 1),
                Is.EqualTo("1 00:0c:29:cf:30:15 > a6:83:e7:0c:90:64, IPv4, length 98: (ttl 64, id 37994, flags [DF], proto ICMP, length 84) " +
                           "172.16.133.2 > 172.217.11.78: ICMP echo request, id 1226, seq 1, length 64"));
            Assert.That(Line("zeek/testing/btest/Traces/tcp/syn-synack.pcap", 1), Does.Contain(": Flags [S], seq ").And.Contain("options [mss "));
            Assert.That(Line("tcpdump/tests/dns_udp.pcap", 1), Does.EndWith(": DNS 22836 query A? www.tcpdump.org"));
            Assert.That(Line("tcpdump/tests/dhcp-rfc3004.pcap", 1), Does.Contain(": DHCP DISCOVER xid 0x"));
            Assert.That(Line("tcpdump/tests/ipv4_invalid_hdr_length.pcap", 1), Does.EndWith("[malformed ipv4: BadHeaderLength (header length 16, 84 bytes)]"));
        }
    }

    [Test]
    public void Program_dispatches_help_and_version()
    {
        var (helpExit, help, _) = ExternalTool.Run(HostProgram.Path, ["--help"]);
        Assert.That(helpExit, Is.Zero);
        Assert.That(help, Does.Contain("decode FILE [--json]"));
        var (versionExit, version, _) = ExternalTool.Run(HostProgram.Path, ["--version"]);
        Assert.That(versionExit, Is.Zero);
        Assert.That(version, Does.Match(@"^tcpipsharp \d+\.\d+\.\d+"));
        var (unknownExit, _, unknown) = ExternalTool.Run(HostProgram.Path, ["frobnicate"]);
        Assert.That(unknownExit, Is.EqualTo(2));
        Assert.That(unknown, Does.Contain("unknown command"));
    }

    private static (int Exit, string[] Lines, string Error) RunInProcess(string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        int exit = DecodeCommand.Run(args, output, error);
        return (exit, Lines(output.ToString()), error.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static int CapinfosFrameCount(string path)
    {
        string capinfos = ExternalTool.Require("capinfos", "tshark");
        var (exit, stdout, stderr) = ExternalTool.Run(capinfos, ["-c", "-M", path]);
        Assert.That(exit, Is.Zero, stderr);
        var match = Regex.Match(stdout, @"Number of packets:\s+(\d+)");
        Assert.That(match.Success, Is.True, stdout);
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")]
    private static partial Regex MacPattern();
}
