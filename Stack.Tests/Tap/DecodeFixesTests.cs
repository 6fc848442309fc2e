using System.Globalization;
using System.Text.Json;
using TcpIpSharp.Capture;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Tap.Commands;
using TcpIpSharp.Tests.Replay;
using TcpIpSharp.Tests.Support;

namespace TcpIpSharp.Tests.Tap;

/// <summary>
/// decode on frames built like the public captures a new user tried (issue 15 item 7); each decodes cleanly in tshark
/// (the frames were made with scapy and checked with <c>tshark -r</c>). And decode reads what replay reads: pcapng,
/// Linux cooked SLL/SLL2, VLAN-tagged and snapped records.
/// </summary>
public class DecodeFixesTests
{
    private static readonly byte[] DnsUpdate = Convert.FromHexString(
        "020000000002020000000001080045000088000100004011f660c0000201c00002029c4000350074a340123428000001" +
        "000200010000076578616d706c6503636f6d00000600010161076578616d706c6503636f6d00000100fe000000000000" +
        "0162076578616d706c6503636f6d0000ff00ff0000000000000163076578616d706c6503636f6d00000100010000012c" +
        "0004c0000209");
    private static readonly byte[] IcmpQuote20 = Convert.FromHexString(
        "020000000002020000000001080045000030000100004001f6c8c0000201c00002020302fcfd00000000450000140001" +
        "000040fdf5e8c0000202c0000201");
    private static readonly byte[] SynFrag1 = Convert.FromHexString(
        "02000000000202000000000108004500002c004d20004006d67bc0000201c00002029c410050000003e800000000a002" +
        "faf028910000020405b4");
    private static readonly byte[] SynFrag2 = Convert.FromHexString(
        "020000000002020000000001080045000024004d00034006f680c0000201c00002020402080a00000001000000000103" +
        "0307");
    private static readonly byte[] Qinq = Convert.FromHexString(
        "02000000000202000000000188a80064810000c8080045000024000100004001f6d4c0000201c0000202080066680001" +
        "00016162636465666768");
    private static readonly byte[] Dot1q2 = Convert.FromHexString(
        "0200000000020200000000018100000a8100001408004500001d000100004011f6cbc0000201c0000202000100020009" +
        "03d578");
    private static readonly byte[] ArpOther = Convert.FromHexString(
        "ffffffffffff020000000001080600060800080400010200000000000001c00002010000000000000000c0000202");
    private static readonly byte[] FragPast = Convert.FromHexString(
        "02000000000202000000000108004500007800051ffd4001d67fc0000201c00002024141414141414141414141414141" +
        "414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141" +
        "4141414141414141414141414141414141414141414141414141414141414141414141414141");
    private static readonly byte[] DnsUpdateBad = Convert.FromHexString(
        "020000000002020000000001080045000087000100004011f661c0000201c00002029c4000350073a34c123428000001" +
        "000200010000076578616d706c6503636f6d00000600010161076578616d706c6503636f6d00000100fe000000000000" +
        "0162076578616d706c6503636f6d0000ff00ff0000000000000163076578616d706c6503636f6d00000100010000012c" +
        "0003c00002");
    private static readonly byte[] Syn = Convert.FromHexString(
        "02000000000202000000000108004500003c004d00004006f66bc0000201c00002029c410050000003e800000000a002" +
        "faf028910000020405b40402080a000000010000000001030307");
    private static readonly byte[] DnsResp = Convert.FromHexString(
        "02000000000202000000000108004500007b000100004011f66dc0000202c000020100359c4000671b49000781000001" +
        "00020000000003777777076578616d706c6503636f6d000001000103777777076578616d706c6503636f6d0000010001" +
        "0000003c0004c000025003777777076578616d706c6503636f6d00000100010000003c0004c0000251");
    private static readonly byte[] IpoptTcp = Convert.FromHexString(
        "02000000000202000000000108004f000050000100004006e17cc0000201c00002020727040000000000000000000000" +
        "0000000000000000000000000000000000000000000000000000000100020000000000000000501020000bce0000");
    private static JsonElement Json(byte[] frame, int captured = 0)
    {
        var bytes = captured > 0 ? frame.AsSpan(0, captured) : frame;
        using var document = JsonDocument.Parse(FrameFormatter.FormatJson(bytes, 1, frame.Length));
        return document.RootElement.Clone();
    }

    private static string? Error(JsonElement frame) => frame.TryGetProperty("error", out var e) ? e.GetString() : null;

    [Test]
    public void Dns_update_prerequisites_of_class_none_and_any_without_data_decode()
    {
        var frame = Json(DnsUpdate);
        Assert.That(Error(frame), Is.Null, frame.ToString());
        var dns = frame.GetProperty("dns");
        Assert.That(dns.GetProperty("opcode").GetInt32(), Is.EqualTo(5));
        var prerequisites = dns.GetProperty("answers").EnumerateArray().ToList();
        Assert.That(prerequisites.Select(p => p.GetProperty("name").GetString()), Is.EqualTo(new[] { "a.example.com", "b.example.com" }));
        Assert.That(prerequisites.Select(p => p.GetProperty("data").GetString()), Is.EqualTo(new[] { "", "" }));
    }

    [Test]
    public void A_malformed_record_in_an_update_names_its_section()
    {
        // The same UPDATE with an A record of 3 bytes in the update section (tshark: malformed).
        var frame = Json(DnsUpdateBad);
        Assert.That(Error(frame), Does.StartWith("dns: BadLength (in the update section"), frame.ToString());
    }

    [Test]
    public void An_empty_a_record_outside_an_update_stays_malformed()
    {
        // The reader accepts empty data for class NONE/ANY only in an UPDATE: a query response with one is still BadLength.
        var bytes = (byte[])DnsUpdate.Clone();
        int flags = 14 + 20 + 8 + 2;
        bytes[flags] = 0x80;   // QR, opcode 0
        var frame = Json(bytes);
        Assert.That(Error(frame), Does.StartWith("dns: BadLength (in the answer section"), frame.ToString());
    }

    [Test]
    public void An_icmp_error_quoting_a_whole_20_byte_datagram_is_not_truncated()
    {
        var frame = Json(IcmpQuote20);
        Assert.That(Error(frame), Is.Null, frame.ToString());
        var quote = frame.GetProperty("icmp").GetProperty("quote");
        Assert.That(quote.GetProperty("proto").GetInt32(), Is.EqualTo(253));
        Assert.That(quote.TryGetProperty("src_port", out _), Is.False);
    }

    [Test]
    public void The_stack_drops_an_icmp_error_whose_quote_has_no_transport_header()
    {
        // The packet path reads ports and a sequence number from a quote: one without them is dropped, never read past.
        Assert.That(TcpIpSharp.Wire.IcmpPacket.TryParse(IcmpQuote20.AsSpan(34), out var icmp), Is.EqualTo(TcpIpSharp.Wire.WireError.None));
        Assert.That(icmp.TryGetQuote(out var quote), Is.EqualTo(TcpIpSharp.Wire.WireError.None));
        Assert.That(quote.HasTransportHeader, Is.False);
        var truncatedQuote = IcmpQuote20.AsSpan(34, 8 + 19).ToArray();
        Assert.That(TcpIpSharp.Wire.IcmpPacket.TryParse(truncatedQuote, out var cut) == TcpIpSharp.Wire.WireError.None && cut.TryGetQuote(out _) == TcpIpSharp.Wire.WireError.Truncated);
    }

    [Test]
    public void The_first_fragment_of_a_syn_whose_header_is_split_keeps_its_tcp_fields()
    {
        var frame = Json(SynFrag1);
        Assert.That(Error(frame), Is.Null, frame.ToString());
        var tcp = frame.GetProperty("tcp");
        Assert.That(tcp.GetProperty("src_port").GetInt32(), Is.EqualTo(40001));
        Assert.That(tcp.GetProperty("dst_port").GetInt32(), Is.EqualTo(80));
        Assert.That(tcp.GetProperty("seq").GetInt64(), Is.EqualTo(1000));
        Assert.That(tcp.GetProperty("flags").GetInt32(), Is.EqualTo(2));
        Assert.That(tcp.GetProperty("window").GetInt32(), Is.EqualTo(64240));
        Assert.That(tcp.GetProperty("mss").GetInt32(), Is.EqualTo(1460), "the option wholly inside the fragment");
        Assert.That(tcp.TryGetProperty("checksum_ok", out _), Is.False);
        Assert.That(Json(SynFrag2).TryGetProperty("tcp", out _), Is.False, "the later fragment carries no TCP header");
    }

    [TestCase("qinq", 100, 200, 34984)]
    [TestCase("dot1q2", 10, 20, 0)]
    public void Stacked_vlan_tags_are_walked_to_the_payload(string which, int outer, int inner, int tpid)
    {
        var frame = Json(which == "qinq" ? Qinq : Dot1q2);
        Assert.That(Error(frame), Is.Null, frame.ToString());
        var eth = frame.GetProperty("eth");
        Assert.That(eth.GetProperty("type").GetInt32(), Is.EqualTo(0x0800));
        Assert.That(eth.GetProperty("vlan").GetInt32(), Is.EqualTo(outer));
        Assert.That(eth.GetProperty("vlans").EnumerateArray().Select(v => v.GetInt32()), Is.EqualTo(new[] { outer, inner }));
        Assert.That(eth.TryGetProperty("tpid", out var t) ? t.GetInt32() : 0, Is.EqualTo(tpid));
        Assert.That(frame.GetProperty("ipv4").GetProperty("src").GetString(), Is.EqualTo("192.0.2.1"));
        Assert.That(frame.TryGetProperty(which == "qinq" ? "icmp" : "udp", out _), Is.True, frame.ToString());
        Assert.That(FrameFormatter.FormatSummary(which == "qinq" ? Qinq : Dot1q2, 1), Does.Contain($"vlan {outer}, vlan {inner}"));
    }

    [Test]
    public void Arp_with_other_hardware_sizes_decodes_as_far_as_its_sizes_allow()
    {
        var frame = Json(ArpOther);
        Assert.That(Error(frame), Is.Null, frame.ToString());
        var arp = frame.GetProperty("arp");
        Assert.That(arp.GetProperty("htype").GetInt32(), Is.EqualTo(6));
        Assert.That(arp.GetProperty("hlen").GetInt32(), Is.EqualTo(8));
        Assert.That(arp.GetProperty("sha").GetString(), Is.EqualTo("02:00:00:00:00:00:00:01"));
        Assert.That(arp.GetProperty("spa").GetString(), Is.EqualTo("192.0.2.1"));
        Assert.That(arp.GetProperty("tpa").GetString(), Is.EqualTo("192.0.2.2"));
        // Sizes that run past the packet: the fixed fields, and the error says what the sizes need.
        var shortArp = ArpOther.AsSpan(0, 14 + 20).ToArray();
        var cut = Json(shortArp);
        Assert.That(cut.GetProperty("arp").GetProperty("op").GetInt32(), Is.EqualTo(1));
        Assert.That(Error(cut), Does.StartWith("arp: Truncated (20 bytes, addresses of 8 and 4 bytes need 32)"));
    }

    [Test]
    public void A_fragment_ending_past_65535_bytes_is_flagged()
    {
        var frame = Json(FragPast);
        Assert.That(frame.GetProperty("ipv4").GetProperty("offset").GetInt32(), Is.EqualTo(65512));
        Assert.That(Error(frame), Does.StartWith("ipv4: BadLength").And.Contain("ends at byte 65612"));
    }

    [Test]
    public void A_syn_cut_inside_its_options_keeps_its_tcp_fields_marked_truncated()
    {
        // Snap length 58: the fixed TCP header and 4 of 20 option bytes captured.
        var frame = Json(Syn, captured: 58);
        Assert.That(Error(frame), Is.Null, frame.ToString());
        Assert.That(frame.GetProperty("caplen").GetInt32(), Is.EqualTo(58));
        var tcp = frame.GetProperty("tcp");
        Assert.That(tcp.GetProperty("src_port").GetInt32(), Is.EqualTo(40001));
        Assert.That(tcp.GetProperty("flags").GetInt32(), Is.EqualTo(2));
        Assert.That(tcp.GetProperty("mss").GetInt32(), Is.EqualTo(1460));
        Assert.That(tcp.TryGetProperty("wscale", out _), Is.False, "not captured");
        Assert.That(tcp.GetProperty("truncated").GetBoolean(), Is.True);
        Assert.That(frame.GetProperty("ipv4").TryGetProperty("truncated", out _), Is.False, "the IPv4 header was captured whole");
    }

    [Test]
    public void An_ipv4_header_cut_inside_its_options_is_decoded_marked_truncated()
    {
        var frame = Json(IpoptTcp, captured: 14 + 30);
        Assert.That(Error(frame), Is.Null, frame.ToString());
        var ip = frame.GetProperty("ipv4");
        Assert.That(ip.GetProperty("hlen").GetInt32(), Is.EqualTo(60));
        Assert.That(ip.GetProperty("truncated").GetBoolean(), Is.True);
        Assert.That(ip.TryGetProperty("checksum_ok", out _), Is.False, "the options are not there to check");
        Assert.That(frame.TryGetProperty("tcp", out _), Is.False);
    }

    [Test]
    public void A_dns_response_cut_by_the_snap_length_decodes_as_far_as_it_was_captured()
    {
        // 137 bytes on the wire; 110 captured: the question and the first answer (which ends at 14+20+8+49 = 91... and
        // the second answer's name) are there, the second answer's data is not.
        var whole = Json(DnsResp);
        Assert.That(whole.GetProperty("dns").GetProperty("answers").GetArrayLength(), Is.EqualTo(2));
        var frame = Json(DnsResp, captured: 110);
        Assert.That(Error(frame), Is.Null, frame.ToString());
        var dns = frame.GetProperty("dns");
        Assert.That(dns.GetProperty("questions")[0].GetProperty("name").GetString(), Is.EqualTo("www.example.com"));
        Assert.That(dns.GetProperty("answers").GetArrayLength(), Is.EqualTo(1));
        Assert.That(dns.GetProperty("answers")[0].GetProperty("data").GetString(), Is.EqualTo("192.0.2.80"));
        Assert.That(dns.GetProperty("truncated").GetBoolean(), Is.True);
        Assert.That(frame.GetProperty("udp").TryGetProperty("checksum_ok", out _), Is.False);
    }

    [Test]
    public void Decode_reads_pcapng_and_linux_cooked_captures_as_replay_does()
    {
        string temp = Directory.CreateTempSubdirectory("tcpipsharp-decode-").FullName;
        try
        {
            string ping = Path.Combine(TestPaths.OwnCaptures, "ping.pcap");
            if (!File.Exists(ping)) Assert.Fail(ping + " is missing (tools/record-captures.sh records it)");
            var records = CaptureFile.ReadRecords(ping);
            string sll2 = Path.Combine(temp, "ping-sll2.pcap"), sll = Path.Combine(temp, "ping-sll.pcap");
            using (var file = File.Create(sll2))
                PcapWriter.Write(file, CaptureFile.LinkTypeLinuxSll2, 65535, records.Select(r => (r.Time, Cooked.Sll2(r.Data, false), 0)));
            using (var file = File.Create(sll))
                PcapWriter.Write(file, CaptureFile.LinkTypeLinuxSll, 65535, records.Select(r => (r.Time, Cooked.Sll(r.Data, false), 0)));
            string pcapng = Path.Combine(temp, "ping.pcapng");
            var (convert, _, convertError) = ExternalTool.Run(ExternalTool.Require("editcap", "tshark"), ["-F", "pcapng", ping, pcapng]);
            Assert.That(convert, Is.Zero, convertError);

            var original = Run(ping);
            Assert.That(original.Exit, Is.Zero, original.Error);
            foreach (string path in new[] { pcapng, sll2, sll })
            {
                var decoded = Run(path);
                Assert.That(decoded.Exit, Is.Zero, $"{path}: {decoded.Error}");
                Assert.That(decoded.Lines, Has.Length.EqualTo(original.Lines.Length), path);
                // The cooked header keeps no destination MAC for frames to the interface; everything from IPv4 on is the same.
                for (int i = 0; i < original.Lines.Length; i++)
                    Assert.That(After(decoded.Lines[i], "\"ipv4\""), Is.EqualTo(After(original.Lines[i], "\"ipv4\"")), $"{path} frame {i + 1}");
            }
        }
        finally { Directory.Delete(temp, recursive: true); }

        static string After(string line, string key) => line.Contains(key, StringComparison.Ordinal) ? line[line.IndexOf(key, StringComparison.Ordinal)..] : line;
    }

    private static (int Exit, string[] Lines, string Error) Run(string path)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        int exit = DecodeCommand.Run([path, "--json"], output, error);
        return (exit, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), error.ToString());
    }
}
