using System.Buffers.Binary;
using System.Net;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

public class DnsTests
{
    private static byte[] Dns(byte[] frame) => FrameLayers.UdpPayload(frame);

    // A dig-like listing of every entry, or the error that stopped the walk.
    private static List<string> Walk(ReadOnlySpan<byte> bytes)
    {
        var lines = new List<string>();
        var error = DnsMessage.TryParse(bytes, out var message);
        if (error != WireError.None) return [error.ToString()];
        var reader = message.GetReader();
        while (reader.TryReadQuestion(out var q)) lines.Add($"Q {q.Name.ToString()} {q.Type} {q.Class}");
        while (reader.TryReadRecord(out var r)) lines.Add($"{reader.Section} {r.Name.ToString()} {r.Type} {r.TimeToLive} {Rdata(r)}");
        if (reader.Error != WireError.None) lines.Add(reader.Error.ToString());
        return lines;
    }

    private static string Rdata(DnsRecordView r) => r.Type switch
    {
        DnsType.A => r.Address.ToString(),
        DnsType.Aaaa => new IPAddress(r.Ipv6Address).ToString(),
        DnsType.Cname or DnsType.Ns or DnsType.Ptr => r.DomainName.ToString(),
        DnsType.Mx => $"{r.Preference} {r.MailExchange.ToString()}",
        DnsType.Txt => Txt(r),
        DnsType.Soa => $"{r.PrimaryNameServer.ToString()} {r.ResponsibleMailbox.ToString()} {r.Serial} {r.Refresh} {r.Retry} {r.Expire} {r.Minimum}",
        _ => $"class={(ushort)r.Class} #{r.Data.Length}",
    };

    private static string Txt(DnsRecordView r)
    {
        var parts = new List<string>();
        foreach (var s in r.Text) parts.Add('"' + Encoding.ASCII.GetString(s) + '"');
        return string.Join(' ', parts);
    }

    // ---- deconstruct: header fields and every entry of real messages

    [Test]
    public void Deconstruct_header_of_tcpdump_response()
    {
        Assert.That(DnsMessage.TryParse(Dns(WireVectors.DnsResponse), out var m), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(m.Id, Is.EqualTo(0x5934));
            Assert.That(m.Flags, Is.EqualTo(0x8500));
            Assert.That(m.IsResponse, Is.True);
            Assert.That(m.Opcode, Is.EqualTo(DnsOpcode.Query));
            Assert.That(m.IsAuthoritativeAnswer, Is.True);
            Assert.That(m.IsTruncated, Is.False);
            Assert.That(m.IsRecursionDesired, Is.True);
            Assert.That(m.IsRecursionAvailable, Is.False);
            Assert.That(m.IsAuthenticData, Is.False);
            Assert.That(m.IsCheckingDisabled, Is.False);
            Assert.That(m.ResponseCode, Is.EqualTo(DnsResponseCode.NoError));
            Assert.That(m.QuestionCount, Is.EqualTo(1));
            Assert.That(m.AnswerCount, Is.EqualTo(2));
            Assert.That(m.AuthorityCount, Is.EqualTo(2));
            Assert.That(m.AdditionalCount, Is.EqualTo(5));
        }
        Assert.That(DnsMessage.TryParse(Dns(WireVectors.DnsNxDomain), out var nx), Is.EqualTo(WireError.None));
        Assert.That(nx.ResponseCode, Is.EqualTo(DnsResponseCode.NameError));
        Assert.That(DnsMessage.TryParse(Dns(WireVectors.DnsCname), out var cd), Is.EqualTo(WireError.None));
        Assert.That(cd.IsCheckingDisabled, Is.True);
    }

    [Test]
    public void Walk_tcpdump_response_with_a_ns_aaaa_and_opt()
    {
        Assert.That(Walk(Dns(WireVectors.DnsResponse)), Is.EqualTo(new[]
        {
            "Q www.tcpdump.org A Internet",
            "Answer www.tcpdump.org A 60 192.139.46.66",
            "Answer www.tcpdump.org A 60 198.199.88.104",
            "Authority tcpdump.org Ns 86400 sns.cooperix.net",
            "Authority tcpdump.org Ns 86400 nic.sandelman.ca",
            "Additional nic.sandelman.ca A 300 209.87.249.18",
            "Additional nic.sandelman.ca Aaaa 300 2607:f0b0:f::babe:f00d",
            "Additional sns.cooperix.net A 7200 97.107.133.15",
            "Additional sns.cooperix.net Aaaa 7200 2600:3c03::f03c:91ff:fe96:e8ef",
            "Additional  Opt 0 class=4096 #0",
        }));
    }

    [Test]
    public void Walk_mx_response()
    {
        var lines = Walk(Dns(WireVectors.DnsMx));
        Assert.That(lines, Has.Count.EqualTo(13));
        Assert.That(lines[0], Is.EqualTo("Q google.com Mx Internet"));
        Assert.That(lines[1], Is.EqualTo("Answer google.com Mx 552 40 smtp4.google.com"));
        Assert.That(lines[6], Is.EqualTo("Answer google.com Mx 552 40 smtp3.google.com"));
        Assert.That(lines[7], Is.EqualTo("Additional smtp4.google.com A 600 216.239.37.26"));
        Assert.That(lines[12], Is.EqualTo("Additional smtp3.google.com A 600 216.239.57.26"));
    }

    [Test]
    public void Walk_ptr_cname_and_unknown_rrsig_kept_raw()
    {
        Assert.That(Walk(Dns(WireVectors.DnsPtr)), Is.EqualTo(new[]
        {
            "Q 104.9.192.66.in-addr.arpa Ptr Internet",
            "Answer 104.9.192.66.in-addr.arpa Ptr 86309 66-192-9-104.gen.twtelecom.net",
        }));
        Assert.That(Walk(Dns(WireVectors.DnsCname)), Is.EqualTo(new[]
        {
            "Q www.cmu.edu A Internet",
            "Answer www.cmu.edu Cname 86400 WWW-CMU.ANDREW.cmu.edu",
            "Answer www.cmu.edu 46 86400 class=1 #155",
            "Answer WWW-CMU.ANDREW.cmu.edu Cname 5 WWW-CMU-2.ANDREW.cmu.edu",
            "Answer WWW-CMU-2.ANDREW.cmu.edu A 21600 128.2.10.163",
            "Authority ANDREW.cmu.edu Ns 86400 NSAUTH1.NET.cmu.edu",
            "Authority ANDREW.cmu.edu Ns 86400 NSAUTH2.NET.cmu.edu",
            "Additional NSAUTH1.NET.cmu.edu A 86400 128.2.1.8",
            "Additional NSAUTH1.NET.cmu.edu Aaaa 86400 2607:fb28::4",
            "Additional NSAUTH2.NET.cmu.edu A 86400 128.237.148.168",
            "Additional  Opt 32768 class=4096 #0",
        }));
    }

    [Test]
    public void Walk_soa_txt_cname_and_nxdomain_from_dnsmasq()
    {
        Assert.That(Walk(Dns(WireVectors.DnsSoa)), Is.EqualTo(new[]
        {
            "Q example.test Soa Internet",
            "Answer example.test Soa 600 ns1.example.test hostmaster.example.test 2026112501 1200 180 1209600 600",
            "Authority example.test Ns 600 ns1.example.test",
        }));
        Assert.That(Walk(Dns(WireVectors.DnsTxt)), Is.EqualTo(new[]
        {
            "Q example.test Txt Internet",
            "Answer example.test Txt 600 \"v=spf1 -all\" \"second string\"",
            "Authority example.test Ns 600 ns1.example.test",
        }));
        Assert.That(Walk(Dns(WireVectors.DnsCnameA)), Is.EqualTo(new[]
        {
            "Q alias.example.test A Internet",
            "Answer alias.example.test Cname 600 www.example.test",
            "Answer www.example.test A 600 192.0.2.10",
            "Authority example.test Ns 600 ns1.example.test",
        }));
        Assert.That(Walk(Dns(WireVectors.DnsNxDomain)), Is.EqualTo(new[]
        {
            "Q nonexistent.example.test A Internet",
            "Authority example.test Soa 600 ns1.example.test hostmaster.example.test 2026112501 1200 180 1209600 600",
        }));
    }

    [Test]
    public void Chains_of_pointers_to_pointers_decode()
    {
        var lines = Walk(Dns(WireVectors.DnsPointerChain));
        Assert.That(lines, Has.Count.EqualTo(8));
        Assert.That(lines[7], Is.EqualTo("Answer a A 300 127.0.0.7"));
    }

    [Test]
    public void Names_decode_into_char_and_byte_buffers_and_match_ignoring_case()
    {
        Assert.That(DnsMessage.TryParse(Dns(WireVectors.DnsCname), out var m), Is.EqualTo(WireError.None));
        var reader = m.GetReader();
        Assert.That(reader.TryReadRecord(out var cname), Is.True);
        var target = cname.DomainName;
        Span<char> chars = stackalloc char[DnsName.MaximumTextLength];
        Assert.That(target.TryDecode(chars, out int n), Is.EqualTo(WireError.None));
        Assert.That(chars[..n].ToString(), Is.EqualTo("WWW-CMU.ANDREW.cmu.edu"));
        Span<byte> bytes = stackalloc byte[22];
        Assert.That(target.TryDecode(bytes, out n), Is.EqualTo(WireError.None));
        Assert.That(Encoding.ASCII.GetString(bytes[..n]), Is.EqualTo("WWW-CMU.ANDREW.cmu.edu"));
        Assert.That(target.TryDecode(bytes[..21], out _), Is.EqualTo(WireError.BufferTooSmall));
        Assert.That(target.TryDecode(chars[..7], out _), Is.EqualTo(WireError.BufferTooSmall));
        Assert.That(target.TextLength, Is.EqualTo(22));
        Assert.That(target.Matches("www-cmu.andrew.CMU.EDU"), Is.True);
        Assert.That(target.Matches("www-cmu.andrew.cmu.edu."), Is.True);
        Assert.That(target.Matches("www-cmu.andrew.cmu"), Is.False);
        Assert.That(target.Matches("www-cmu.andrew.cmu.edu.x"), Is.False);
        Assert.That(cname.Name.Matches("www.cmu.edu"), Is.True);
        Assert.That(cname.Address, Is.EqualTo(default(Ipv4Address)), "accessor of another type gives a default");
        Assert.That(cname.MailExchange.TextLength, Is.EqualTo(-1));
    }

    // ---- construct: write real messages with DnsWriter and compare bytes

    [Test]
    public void Construct_tcpdump_query_with_edns_cookie()
    {
        byte[] expected = Dns(WireVectors.DnsQuery);
        var buffer = new byte[512];
        var writer = new DnsWriter(buffer);
        Assert.That(writer.WriteHeader(new DnsHeader(0x5934, IsRecursionDesired: true, IsAuthenticData: true)), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteQuestion("www.tcpdump.org", DnsType.A), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteRecord("", DnsType.Opt, (DnsClass)4096, 0, Convert.FromHexString("000A000842F5D00996F90B13"), DnsSection.Additional),
            Is.EqualTo(WireError.None));
        int length = writer.Finish();
        Assert.That(Convert.ToHexString(buffer, 0, length), Is.EqualTo(Convert.ToHexString(expected)));
    }

    [Test]
    public void Construct_tcpdump_response_with_name_compression_byte_for_byte()
    {
        byte[] expected = Dns(WireVectors.DnsResponse);
        var buffer = new byte[512];
        var writer = new DnsWriter(buffer, compressNames: true);
        Assert.That(writer.WriteHeader(new DnsHeader(0x5934, IsResponse: true, IsAuthoritativeAnswer: true, IsRecursionDesired: true)), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteQuestion("www.tcpdump.org", DnsType.A), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteAddressRecord("www.tcpdump.org", Ipv4Address.Parse("192.139.46.66"), 60), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteAddressRecord("www.tcpdump.org", Ipv4Address.Parse("198.199.88.104"), 60), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteNameRecord("tcpdump.org", DnsType.Ns, "sns.cooperix.net", 86400, DnsSection.Authority), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteNameRecord("tcpdump.org", DnsType.Ns, "nic.sandelman.ca", 86400, DnsSection.Authority), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteAddressRecord("nic.sandelman.ca", Ipv4Address.Parse("209.87.249.18"), 300, DnsSection.Additional), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteRecord("nic.sandelman.ca", DnsType.Aaaa, DnsClass.Internet, 300, IPAddress.Parse("2607:f0b0:f::babe:f00d").GetAddressBytes(), DnsSection.Additional), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteAddressRecord("sns.cooperix.net", Ipv4Address.Parse("97.107.133.15"), 7200, DnsSection.Additional), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteRecord("sns.cooperix.net", DnsType.Aaaa, DnsClass.Internet, 7200, IPAddress.Parse("2600:3c03::f03c:91ff:fe96:e8ef").GetAddressBytes(), DnsSection.Additional), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteRecord("", DnsType.Opt, (DnsClass)4096, 0, [], DnsSection.Additional), Is.EqualTo(WireError.None));
        int length = writer.Finish();
        Assert.That(Convert.ToHexString(buffer, 0, length), Is.EqualTo(Convert.ToHexString(expected)));
    }

    [Test]
    public void Construct_ptr_response_byte_for_byte()
    {
        byte[] expected = Dns(WireVectors.DnsPtr);
        var buffer = new byte[512];
        var writer = new DnsWriter(buffer, compressNames: true);
        writer.WriteHeader(new DnsHeader(0x9bbb, IsResponse: true, IsRecursionDesired: true, IsRecursionAvailable: true));
        writer.WriteQuestion("104.9.192.66.in-addr.arpa", DnsType.Ptr);
        Assert.That(writer.WriteNameRecord("104.9.192.66.in-addr.arpa", DnsType.Ptr, "66-192-9-104.gen.twtelecom.net", 86309), Is.EqualTo(WireError.None));
        Assert.That(buffer.AsSpan(0, writer.Finish()).ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void Uncompressed_writer_output_reads_back_like_the_original()
    {
        // dnsmasq compressed owner names but not the CNAME target; both forms must read the same.
        var buffer = new byte[512];
        var writer = new DnsWriter(buffer);
        writer.WriteHeader(new DnsHeader(0x147a, IsResponse: true, IsAuthoritativeAnswer: true));
        writer.WriteQuestion("alias.example.test", DnsType.A);
        writer.WriteCanonicalNameRecord("alias.example.test", "www.example.test", 600);
        writer.WriteAddressRecord("www.example.test", new Ipv4Address(192, 0, 2, 10), 600);
        writer.WriteNameRecord("example.test", DnsType.Ns, "ns1.example.test", 600, DnsSection.Authority);
        int length = writer.Finish();
        Assert.That(Walk(buffer.AsSpan(0, length)), Is.EqualTo(Walk(Dns(WireVectors.DnsCnameA))));
        Assert.That(length, Is.GreaterThan(Dns(WireVectors.DnsCnameA).Length));
    }

    // ---- parse: bytes to header and question records

    [Test]
    public void Parse_header_and_question_records()
    {
        Assert.That(DnsMessage.TryParse(Dns(WireVectors.DnsCname), out var m), Is.EqualTo(WireError.None));
        Assert.That(DnsHeader.From(m), Is.EqualTo(new DnsHeader(0x5294, IsResponse: true, IsAuthoritativeAnswer: true,
            QuestionCount: 1, AnswerCount: 4, AuthorityCount: 2, AdditionalCount: 4, IsCheckingDisabled: true)));
        var reader = m.GetReader();
        Assert.That(reader.TryReadQuestion(out var q), Is.True);
        Assert.That(DnsQuestion.From(q), Is.EqualTo(new DnsQuestion("www.cmu.edu", DnsType.A)));
        Assert.That(reader.TryReadQuestion(out _), Is.False);
        Assert.That(reader.Error, Is.EqualTo(WireError.None));
    }

    // ---- emit: header record from real bytes, written back

    [Test]
    public void Emit_header_of_every_vector_gives_the_same_12_bytes_and_question_the_same_bytes()
    {
        foreach (var frame in new[] { WireVectors.DnsQuery, WireVectors.DnsResponse, WireVectors.DnsMx, WireVectors.DnsPtr, WireVectors.DnsCname,
                     WireVectors.DnsSoa, WireVectors.DnsTxt, WireVectors.DnsCnameA, WireVectors.DnsNxDomain })
        {
            byte[] dns = Dns(frame);
            Assert.That(DnsMessage.TryParse(dns, out var m), Is.EqualTo(WireError.None));
            var header = DnsHeader.From(m);
            var written = new byte[DnsHeader.Size];
            Assert.That(header.WriteTo(written), Is.EqualTo(DnsHeader.Size));
            Assert.That(written, Is.EqualTo(dns[..DnsHeader.Size]));

            var reader = m.GetReader();
            Assert.That(reader.TryReadQuestion(out var q), Is.True);
            var question = DnsQuestion.From(q);
            var buffer = new byte[512];
            var writer = new DnsWriter(buffer);
            writer.WriteHeader(header);
            Assert.That(writer.WriteQuestion(question), Is.EqualTo(WireError.None));
            Assert.That(buffer.AsSpan(DnsHeader.Size, writer.Length - DnsHeader.Size).ToArray(), Is.EqualTo(dns.AsSpan(DnsHeader.Size, reader.Position - DnsHeader.Size).ToArray()));
        }
    }

    // ---- properties: emit then parse gives the same record

    private static readonly Gen<DnsHeader> HeaderGen =
        from id in Gen.Choose(0, 65535)
        from bits in Gen.Choose(0, 255)
        from opcode in Gen.Elements(DnsOpcode.Query, DnsOpcode.InverseQuery, DnsOpcode.Status, DnsOpcode.Notify, DnsOpcode.Update)
        from rcode in Gen.Choose(0, 15)
        from counts in Gen.Choose(0, 65535).Four()
        select new DnsHeader((ushort)id, (bits & 1) != 0, opcode, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0, (bits & 16) != 0,
            (DnsResponseCode)rcode, (ushort)counts.Item1, (ushort)counts.Item2, (ushort)counts.Item3, (ushort)counts.Item4, (bits & 32) != 0, (bits & 64) != 0);

    [Test]
    public void Property_header_emit_then_parse()
    {
        Prop.ForAll(HeaderGen.ToArbitrary(), header =>
        {
            var buffer = new byte[DnsHeader.Size];
            header.WriteTo(buffer);
            return DnsMessage.TryParse(buffer, out var m) == WireError.None && DnsHeader.From(m) == header;
        }).QuickCheckThrowOnFailure();
    }

    private const string LabelChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

    private static readonly Gen<string> LabelGen =
        from length in Gen.Frequency((6, Gen.Choose(1, 12)), (1, Gen.Choose(13, 63)))
        from chars in Gen.Elements(LabelChars.ToCharArray()).ArrayOf(length)
        select new string(chars);

    private static readonly Gen<string> NameGen =
        from labels in LabelGen.ListOf()
        select TrimToLimit(labels);

    private static string TrimToLimit(IEnumerable<string> labels)
    {
        var kept = new List<string>();
        int wire = 1;
        foreach (var label in labels)
        {
            if (wire + label.Length + 1 > DnsName.MaximumLength) break;
            kept.Add(label);
            wire += label.Length + 1;
        }
        return string.Join('.', kept);
    }

    private static readonly Gen<DnsQuestion> QuestionGen =
        from name in NameGen
        from type in Gen.Choose(0, 65535)
        from @class in Gen.Elements(DnsClass.Internet, DnsClass.Chaos, DnsClass.Any)
        select new DnsQuestion(name, (DnsType)type, @class);

    [Test]
    public void Property_questions_emit_then_parse_with_and_without_compression()
    {
        Prop.ForAll(QuestionGen.ListOf().ToArbitrary(), questions =>
        {
            foreach (bool compress in new[] { false, true })
            {
                var buffer = new byte[8192];
                var writer = new DnsWriter(buffer, compress);
                writer.WriteHeader(new DnsHeader(1));
                foreach (var q in questions)
                    if (writer.WriteQuestion(q) != WireError.None) return false;
                int length = writer.Finish();
                if (DnsMessage.TryParse(buffer.AsSpan(0, length), out var m) != WireError.None) return false;
                var reader = m.GetReader();
                foreach (var q in questions)
                    if (!reader.TryReadQuestion(out var read) || DnsQuestion.From(read) != q) return false;
                if (reader.TryReadQuestion(out _) || reader.Error != WireError.None || reader.Position != length) return false;
            }
            return true;
        }).QuickCheckThrowOnFailure();
    }

    // ---- malformed input: a WireError, never an exception

    // A message with one question whose QNAME bytes are `name`, followed by QTYPE/QCLASS.
    private static byte[] OneQuestion(string nameHex)
    {
        byte[] name = Convert.FromHexString(nameHex);
        var message = new byte[DnsHeader.Size + name.Length + 4];
        new DnsHeader(7, QuestionCount: 1).WriteTo(message);
        name.CopyTo(message, DnsHeader.Size);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(DnsHeader.Size + name.Length), 0x0001_0001);
        return message;
    }

    private static string Labels(params int[] lengths)
        => string.Concat(lengths.Select(n => n.ToString("X2") + new string('6', 2 * n))) + "00";

    public static IEnumerable<TestCaseData> MalformedNames()
    {
        TestCaseData Case(string hex, WireError error, string why) => new TestCaseData(hex, error).SetArgDisplayNames(why);
        yield return Case("C00C", WireError.BadPointer, "pointer to itself");
        yield return Case("C00E" + "C00C", WireError.BadPointer, "two-pointer cycle");
        yield return Case("0161" + "C00C", WireError.BadPointer, "cycle through a label");
        yield return Case("0161" + "C0FF", WireError.BadPointer, "pointer past the message");
        yield return Case("FFFF", WireError.BadPointer, "pointer 0x3fff");
        yield return Case("40" + new string('6', 128) + "00", WireError.BadLabel, "label of 64 (01 prefix)");
        yield return Case("8161" + "00", WireError.BadLabel, "10 prefix reserved");
        yield return Case(Labels(63, 63, 63, 62), WireError.NameTooLong, "256 octets");
        yield return Case(Labels(63, 63, 63, 63), WireError.NameTooLong, "4 labels of 63");
        yield return Case("3F" + new string('6', 126) + "3F" + new string('6', 126) + "C00C", WireError.NameTooLong, "cycle of long labels");
    }

    [TestCaseSource(nameof(MalformedNames))]
    public void Malformed_name_in_question(string nameHex, WireError expected)
    {
        byte[] message = OneQuestion(nameHex);
        Assert.That(DnsMessage.TryParse(message, out var m), Is.EqualTo(WireError.None));
        var reader = m.GetReader();
        Assert.That(reader.TryReadQuestion(out _), Is.False);
        Assert.That(reader.Error, Is.EqualTo(expected));
        Assert.That(reader.TryReadRecord(out _), Is.False, "the walk stays stopped");
        Assert.That(new DnsName(message, DnsHeader.Size).TryDecode(new char[300], out _), Is.EqualTo(expected));
    }

    [Test]
    public void Boundaries_label_63_and_name_255_are_accepted()
    {
        byte[] message = OneQuestion(Labels(63, 63, 63, 61));
        Assert.That(DnsMessage.TryParse(message, out var m), Is.EqualTo(WireError.None));
        var reader = m.GetReader();
        Assert.That(reader.TryReadQuestion(out var q), Is.True);
        Assert.That(q.Name.TextLength, Is.EqualTo(DnsName.MaximumTextLength));
        Span<char> text = stackalloc char[DnsName.MaximumTextLength];
        Assert.That(q.Name.TryDecode(text, out int n), Is.EqualTo(WireError.None));
        Assert.That(n, Is.EqualTo(253));
    }

    [Test]
    public void Real_zlip_self_pointer_is_bad_pointer()
    {
        byte[] dns = FrameLayers.UdpPayload(WireVectors.DnsSelfPointer, ignoreUdpLength: true);
        Assert.That(Walk(dns), Is.EqualTo(new[] { "BadPointer" }));
    }

    public static IEnumerable<TestCaseData> MalformedRecords()
    {
        // Question "a" A IN, then one answer: name pointer to the question, then the hex given (TYPE CLASS TTL RDLENGTH RDATA).
        TestCaseData Case(string recordHex, WireError error, string why) => new TestCaseData(recordHex, error).SetArgDisplayNames(why);
        yield return Case("0001000100000E10", WireError.Truncated, "fixed part cut");
        yield return Case("0001000100000E1000", WireError.Truncated, "rdlength cut");
        yield return Case("0001000100000E100004C000", WireError.Truncated, "rdata past the end");
        yield return Case("0001000100000E100003C00002", WireError.BadLength, "A of 3 bytes");
        yield return Case("0001000100000E100005C000020A00", WireError.BadLength, "A of 5 bytes");
        yield return Case("001C000100000E100004C000020A", WireError.BadLength, "AAAA of 4 bytes");
        yield return Case("0005000100000E10000201620000", WireError.BadLength, "CNAME name runs past rdata");
        yield return Case("0005000100000E1000040162" + "0000", WireError.BadLength, "CNAME with bytes after its name");
        yield return Case("0005000100000E100000", WireError.BadLength, "CNAME with no data");
        yield return Case("0005000100000E100002C0FF", WireError.BadPointer, "CNAME pointer out of the message");
        yield return Case("0005000100000E1000024161", WireError.BadLabel, "CNAME with a bad label");
        yield return Case("000F000100000E1000020001", WireError.BadLength, "MX of 2 bytes");
        yield return Case("0006000100000E100017C00CC00C" + new string('0', 38), WireError.BadLength, "SOA with 19 number bytes");
        yield return Case("0010000100000E100003056162", WireError.BadLength, "TXT string past rdata");
        yield return Case("0010000100000E100000", WireError.BadLength, "TXT with no string");
    }

    [TestCaseSource(nameof(MalformedRecords))]
    public void Malformed_record(string recordHex, WireError expected)
    {
        byte[] message = [.. OneQuestion("016100"), 0xC0, 0x0C, .. Convert.FromHexString(recordHex)];
        message[DnsMessage.Field.AnswerCount + 1] = 1;
        Assert.That(Walk(message), Is.EqualTo(new[] { "Q a A Internet", expected.ToString() }));
    }

    [Test]
    public void Counts_larger_than_the_entries_present_are_truncated()
    {
        byte[] dns = Dns(WireVectors.DnsPtr);
        dns[DnsMessage.Field.AdditionalCount + 1] = 1;
        Assert.That(Walk(dns)[^1], Is.EqualTo("Truncated"));
        dns = Dns(WireVectors.DnsPtr);
        dns[DnsMessage.Field.QuestionCount + 1] = 3;
        Assert.That(Walk(dns)[^1], Is.Not.EqualTo("None"));
    }

    [Test]
    public void Truncation_at_every_byte_is_an_error_never_an_exception()
    {
        foreach (var frame in new[] { WireVectors.DnsResponse, WireVectors.DnsMx, WireVectors.DnsSoa, WireVectors.DnsCname })
        {
            byte[] dns = Dns(frame);
            for (int n = 0; n < DnsHeader.Size; n++)
                Assert.That(DnsMessage.TryParse(dns.AsSpan(0, n), out _), Is.EqualTo(WireError.Truncated));
            for (int n = DnsHeader.Size; n < dns.Length; n++)
            {
                var lines = Walk(dns.AsSpan(0, n));
                Assert.That(lines[^1], Is.AnyOf("Truncated", "BadPointer"), $"{n} of {dns.Length} bytes");
            }
            Assert.That(Walk(dns)[^1], Does.Not.Contain("Truncated"));
        }
    }

    [Test]
    public void Random_corruption_of_real_messages_never_throws()
    {
        var random = new Random(1035);
        byte[][] messages = [Dns(WireVectors.DnsResponse), Dns(WireVectors.DnsMx), Dns(WireVectors.DnsCname), Dns(WireVectors.DnsSoa), Dns(WireVectors.DnsTxt)];
        Span<char> text = stackalloc char[DnsName.MaximumTextLength];
        for (int i = 0; i < 5000; i++)
        {
            byte[] dns = (byte[])messages[i % messages.Length].Clone();
            for (int k = random.Next(1, 4); k > 0; k--) dns[random.Next(dns.Length)] = (byte)random.Next(256);
            if (DnsMessage.TryParse(dns, out var m) != WireError.None) continue;
            var reader = m.GetReader();
            int entries = 0;
            while (reader.TryReadQuestion(out var q)) { q.Name.TryDecode(text, out _); entries++; }
            while (reader.TryReadRecord(out var r))
            {
                Assert.That(r.Name.TryDecode(text, out _), Is.EqualTo(WireError.None));
                if (r.Type is DnsType.Cname or DnsType.Ns or DnsType.Ptr) Assert.That(r.DomainName.TryDecode(text, out _), Is.EqualTo(WireError.None));
                if (r.Type == DnsType.Mx) Assert.That(r.MailExchange.TryDecode(text, out _), Is.EqualTo(WireError.None));
                if (r.Type == DnsType.Soa) Assert.That(r.ResponsibleMailbox.TryDecode(text, out _), Is.EqualTo(WireError.None));
                foreach (var s in r.Text) entries += s.Length;
                entries++;
            }
            Assert.That(entries, Is.LessThan(4 * 65536));
        }
    }

    [Test]
    public void Writer_rejects_bad_names_and_small_buffers_leaving_the_message_unchanged()
    {
        var buffer = new byte[64];
        var writer = new DnsWriter(buffer);
        writer.WriteHeader(new DnsHeader(1));
        Assert.That(writer.WriteQuestion(new string('a', 64) + ".com", DnsType.A), Is.EqualTo(WireError.BadLabel));
        Assert.That(writer.WriteQuestion("a..b", DnsType.A), Is.EqualTo(WireError.BadLabel));
        Assert.That(writer.WriteQuestion(".a", DnsType.A), Is.EqualTo(WireError.BadLabel));
        Assert.That(writer.WriteQuestion("caf\u0100", DnsType.A), Is.EqualTo(WireError.BadLabel));
        Assert.That(writer.WriteQuestion(string.Join('.', Enumerable.Repeat(new string('a', 63), 4)), DnsType.A), Is.EqualTo(WireError.NameTooLong));
        Assert.That(writer.WriteQuestion(new string('a', 50), DnsType.A), Is.EqualTo(WireError.BufferTooSmall));
        Assert.That(writer.Length, Is.EqualTo(DnsHeader.Size));
        Assert.That(writer.WriteQuestion(".", DnsType.Ns), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteAddressRecord("a", default, 1, DnsSection.Additional), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteAddressRecord(new string('a', 40), default, 1, DnsSection.Additional), Is.EqualTo(WireError.BufferTooSmall));
        int length = writer.Finish();
        Assert.That(Walk(buffer.AsSpan(0, length)), Is.EqualTo(new[] { "Q  Ns Internet", "Additional a A 1 0.0.0.0" }));
    }
}
