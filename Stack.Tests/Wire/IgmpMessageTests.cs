using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>The IGMP formats on real bytes: deconstruct, construct, parse, emit, and the malformed cases.</summary>
public class IgmpMessageTests
{
    // Linux 6.18's IGMPv3 report when socat joined 239.1.2.3 (tcpdump -XX, the IGMP message only): one record,
    // CHANGE_TO_EXCLUDE_MODE, no sources.
    private static readonly byte[] LinuxV3Join = [0x22, 0x00, 0xe8, 0xf9, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0xef, 0x01, 0x02, 0x03];
    // A Linux bridge querier's default IGMPv3 general query: Max Resp Code 100 (10 s), QRV 2, QQIC 125, no sources.
    private static readonly byte[] BridgeV3Query = [0x11, 0x64, 0xec, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x02, 0x7d, 0x00, 0x00];
    // An IGMPv2 report for 239.1.2.3 (RFC 2236 2), checksum worked out by hand: ~(0x1600 + 0xef01 + 0x0203) folded.
    private static readonly byte[] V2Report = [0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01, 0x02, 0x03];

    [Test]
    public void Deconstruct_a_v3_query_and_a_v3_report()
    {
        Assert.That(IgmpMessage.TryParse(BridgeV3Query, out var q), Is.EqualTo(WireError.None));
        Assert.That(q.Type, Is.EqualTo(IgmpType.MembershipQuery));
        Assert.That(q.QueryVersion, Is.EqualTo(3));
        Assert.That(q.MaximumResponseTenths, Is.EqualTo(100));
        Assert.That(q.Group, Is.EqualTo(Ipv4Address.Any));
        Assert.That(q.QuerierRobustnessVariable, Is.EqualTo(2));
        Assert.That(q.QueryIntervalCode, Is.EqualTo(125));
        Assert.That(q.NumberOfSources, Is.Zero);
        Assert.That(q.IsChecksumValid, Is.True);

        Assert.That(IgmpMessage.TryParse(LinuxV3Join, out var r), Is.EqualTo(WireError.None));
        Assert.That(r.Type, Is.EqualTo(IgmpType.V3MembershipReport));
        Assert.That(r.QueryVersion, Is.Zero);
        Assert.That(r.IsChecksumValid, Is.True);
    }

    [Test]
    public void Construct_the_stacks_v3_join_equals_linuxs_bytes()
    {
        var message = new byte[16];
        int length = new IgmpV3ReportHeader(1).WriteTo(message);
        length += new IgmpV3GroupRecordHeader(MldRecordType.ChangeToExcludeMode, Ipv4Address.Parse("239.1.2.3")).WriteTo(message.AsSpan(length));
        IgmpHeader.FillChecksum(message.AsSpan(0, length));
        Assert.That(message, Is.EqualTo(LinuxV3Join));
    }

    [Test]
    public void Parse_a_v2_report_into_its_header_record()
    {
        Assert.That(IgmpMessage.TryParse(V2Report, out var m), Is.EqualTo(WireError.None));
        Assert.That(IgmpHeader.From(m), Is.EqualTo(new IgmpHeader(IgmpType.V2MembershipReport, 0, Ipv4Address.Parse("239.1.2.3"))));
        Assert.That(m.IsChecksumValid, Is.True);
    }

    [Test]
    public void Emit_a_v2_report_from_its_header_record()
    {
        var bytes = new byte[8];
        Assert.That(new IgmpHeader(IgmpType.V2MembershipReport, 0, Ipv4Address.Parse("239.1.2.3")).WriteTo(bytes), Is.EqualTo(8));
        Assert.That(bytes, Is.EqualTo(V2Report));
    }

    [TestCase((byte)0, 1, 100, TestName = "v1 query: code 0 means 10 s")]
    [TestCase((byte)100, 2, 100, TestName = "v2 query: tenths")]
    [TestCase((byte)255, 2, 255, TestName = "v2 query: 25.5 s at most")]
    public void Versions_1_and_2_by_their_code(byte code, int version, int tenths)
    {
        var bytes = new byte[8];
        new IgmpHeader(IgmpType.MembershipQuery, code, Ipv4Address.Any).WriteTo(bytes);
        Assert.That(IgmpMessage.TryParse(bytes, out var q), Is.EqualTo(WireError.None));
        Assert.That(q.QueryVersion, Is.EqualTo(version));
        Assert.That(q.MaximumResponseTenths, Is.EqualTo(tenths));
    }

    [TestCase((byte)127, 127)]
    [TestCase((byte)0x80, 128, TestName = "exponent 0, mantissa 0: 0x10 << 3")]
    [TestCase((byte)0x8F, 248)]
    [TestCase((byte)0xFF, 31744, TestName = "the largest: 0x1F << 10 = 3174.4 s")]
    public void Version_3_exponential_max_resp_code(byte code, int tenths)
    {
        var bytes = (byte[])BridgeV3Query.Clone();
        bytes[1] = code;
        Assert.That(IgmpMessage.TryParse(bytes, out var q), Is.EqualTo(WireError.None));
        Assert.That(q.MaximumResponseTenths, Is.EqualTo(tenths));
    }

    [Test]
    public void Malformed_messages_are_errors_not_exceptions()
    {
        Assert.That(IgmpMessage.TryParse(V2Report.AsSpan(0, 7), out _), Is.EqualTo(WireError.Truncated));
        Assert.That(IgmpMessage.TryParse(BridgeV3Query.AsSpan(0, 10), out _), Is.EqualTo(WireError.BadMessage), "a query of 9 to 11 bytes (RFC 3376 7.1)");
        var sources = (byte[])BridgeV3Query.Clone();
        sources[11] = 2;   // two sources claimed, none present
        Assert.That(IgmpMessage.TryParse(sources, out _), Is.EqualTo(WireError.BadLength));
        Assert.That(IgmpMessage.TryParse([.. V2Report, 0], out _), Is.EqualTo(WireError.None), "a report may carry trailing bytes");
    }

    [Test]
    public void Decode_summarises_igmp_as_tcpdump_does()
    {
        byte[] Frame(byte[] message, string dst)
        {
            var d = Ipv4Address.Parse(dst);
            var frame = new byte[14 + 20 + message.Length];
            new EthernetHeader(MacAddress.ForIpv4Multicast(d), MacAddress.Parse("02:00:00:00:00:02"), EtherType.Ipv4).WriteTo(frame);
            new Ipv4Header(Ipv4Address.Parse("192.0.2.2"), d, IpProtocol.Igmp, (ushort)(20 + message.Length), 1, 1).WriteTo(frame.AsSpan(14));
            message.CopyTo(frame, 34);
            return frame;
        }
        string Summary(byte[] frame) => FrameSummaryWriter.Format(FrameDecoder.Decode(frame, 1));
        TestContext.Out.WriteLine(Summary(Frame(LinuxV3Join, "224.0.0.22")));
        Assert.That(Summary(Frame(LinuxV3Join, "224.0.0.22")), Does.Contain("proto IGMP").And.Contain("192.0.2.2 > 224.0.0.22: igmp v3 report, 1 group record(s)"));
        Assert.That(Summary(Frame(BridgeV3Query, "224.0.0.1")), Does.Contain("igmp query v3 [max resp time 10.0s]"));
        Assert.That(Summary(Frame(V2Report, "239.1.2.3")), Does.Contain("igmp v2 report 239.1.2.3"));
        var bad = (byte[])V2Report.Clone();
        bad[3] ^= 1;
        Assert.That(Summary(Frame(bad, "239.1.2.3")), Does.Contain("bad igmp cksum"));
    }
}
