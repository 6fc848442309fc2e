using System.Buffers.Binary;
using System.Text;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services;

/// <summary>A record for <see cref="DnsReply"/>: Data is an address for A/AAAA, a name for CNAME, "PREF NAME" for MX, the text for TXT.</summary>
internal sealed record Rr(string Name, DnsType Type, string Data, uint Ttl = 300);

/// <summary>A DNS server's response for tests, written with the wire layer's writer (names compressed, as servers do).</summary>
internal sealed record DnsReply(string QuestionName, DnsType QuestionType)
{
    public ushort Id { get; init; }
    public DnsResponseCode Code { get; init; } = DnsResponseCode.NoError;
    public bool Truncated { get; init; }
    public bool IsResponse { get; init; } = true;
    public Rr[] Answers { get; init; } = [];
    /// <summary>An SOA in the authority section: (zone, record TTL, MINIMUM).</summary>
    public (string Zone, uint Ttl, uint Minimum)? Soa { get; init; }

    public DnsReply A(string name, params string[] addresses) => this with { Answers = [.. Answers, .. addresses.Select(a => new Rr(name, DnsType.A, a))] };

    public byte[] Payload()
    {
        var buffer = new byte[4096];
        var w = new DnsWriter(buffer, compressNames: true);
        w.WriteHeader(new DnsHeader(Id, IsResponse, IsTruncated: Truncated, IsRecursionDesired: true, IsRecursionAvailable: true, ResponseCode: Code));
        Check(w.WriteQuestion(QuestionName, QuestionType));
        foreach (var rr in Answers) Check(WriteRecord(ref w, rr, DnsSection.Answer));
        if (Soa is var (zone, ttl, minimum))
        {
            var data = new byte[600];
            DnsName.TryEncode("ns." + zone, data, out int p);
            DnsName.TryEncode("hostmaster." + zone, data.AsSpan(p), out int q);
            p += q;
            foreach (uint v in new uint[] { 1, 3600, 600, 86400, minimum }) { BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(p), v); p += 4; }
            Check(w.WriteRecord(zone, DnsType.Soa, DnsClass.Internet, ttl, data.AsSpan(0, p), DnsSection.Authority));
        }
        return buffer.AsSpan(0, w.Finish()).ToArray();
    }

    private static WireError WriteRecord(ref DnsWriter w, Rr rr, DnsSection section)
    {
        switch (rr.Type)
        {
            case DnsType.A:
                return w.WriteAddressRecord(rr.Name, Ipv4Address.Parse(rr.Data), rr.Ttl, section);
            case DnsType.Cname or DnsType.Ns or DnsType.Ptr:
                return w.WriteNameRecord(rr.Name, rr.Type, rr.Data, rr.Ttl, section);
            case DnsType.Aaaa:
            {
                Assert.That(Ipv6Address.TryParse(rr.Data, out var v6), Is.True);
                var data = new byte[16];
                v6.WriteTo(data);
                return w.WriteRecord(rr.Name, DnsType.Aaaa, DnsClass.Internet, rr.Ttl, data, section);
            }
            case DnsType.Mx:
            {
                var parts = rr.Data.Split(' ');
                var data = new byte[300];
                BinaryPrimitives.WriteUInt16BigEndian(data, ushort.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture));
                DnsName.TryEncode(parts[1], data.AsSpan(2), out int n);
                return w.WriteRecord(rr.Name, DnsType.Mx, DnsClass.Internet, rr.Ttl, data.AsSpan(0, 2 + n), section);
            }
            default:
            {
                var text = Encoding.ASCII.GetBytes(rr.Data);
                return w.WriteRecord(rr.Name, rr.Type, DnsClass.Internet, rr.Ttl, [(byte)text.Length, .. text], section);
            }
        }
    }

    private static void Check(WireError error) => Assert.That(error, Is.EqualTo(WireError.None), "the test's DNS reply is written");

    /// <summary>A frame carrying <paramref name="payload"/> from <paramref name="server"/>:<paramref name="fromPort"/> to the stack's <paramref name="toPort"/>.</summary>
    public static byte[] Frame(byte[] payload, Ipv4Address server, ushort toPort, ushort fromPort = 53)
        => Frames.Ipv4(server, Frames.StackIp, IpProtocol.Udp, Frames.UdpMessage(server, Frames.StackIp, fromPort, toPort, payload));
}
