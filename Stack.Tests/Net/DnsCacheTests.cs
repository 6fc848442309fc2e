using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TcpIpSharp.Gateway;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>
/// The gateway's DNS cache (issue 19): kept for the least TTL (RFC 1035, 2181), negative answers for the SOA's minimum
/// (RFC 2308), answered with the query's ID and question and TTLs decremented; bounded in entries and by TTL caps.
/// </summary>
public class DnsCacheTests
{
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(100);

    private static byte[] Query(ushort id, string name, DnsType type, bool edns = false)
    {
        var buffer = new byte[512];
        var writer = new DnsWriter(buffer);
        writer.WriteHeader(new DnsHeader(id, IsRecursionDesired: true));
        writer.WriteQuestion(name, type);
        if (edns) writer.WriteRecord("", DnsType.Opt, (DnsClass)1232, 0x8000, [], DnsSection.Additional);
        return buffer.AsSpan(0, writer.Finish()).ToArray();
    }

    // An answer to Query(id, name, A): the given A records' TTLs, an OPT record when edns (its "TTL" holds flags).
    private static byte[] Answer(ushort id, string name, uint[] ttls, bool edns = false, bool truncated = false, DnsResponseCode code = DnsResponseCode.NoError)
    {
        var buffer = new byte[4096];
        var writer = new DnsWriter(buffer);
        writer.WriteHeader(new DnsHeader(id, IsResponse: true, IsRecursionDesired: true, IsRecursionAvailable: true, IsTruncated: truncated, ResponseCode: code));
        writer.WriteQuestion(name, DnsType.A);
        for (int i = 0; i < ttls.Length; i++) writer.WriteAddressRecord(name, new Ipv4Address(198, 51, 100, (byte)(i + 1)), ttls[i]);
        if (edns) writer.WriteRecord("", DnsType.Opt, (DnsClass)1232, 0x8000, [], DnsSection.Additional);
        return buffer.AsSpan(0, writer.Finish()).ToArray();
    }

    // A negative answer (NXDOMAIN, or NOERROR with no records) with an SOA in the authority section, or none.
    private static byte[] Negative(ushort id, string name, DnsResponseCode code, uint? soaTtl, uint minimum = 0)
    {
        var buffer = new byte[1024];
        var writer = new DnsWriter(buffer);
        writer.WriteHeader(new DnsHeader(id, IsResponse: true, IsRecursionDesired: true, IsRecursionAvailable: true, ResponseCode: code));
        writer.WriteQuestion(name, DnsType.A);
        if (soaTtl is uint ttl)
        {
            var soa = new byte[2 + 20];   // MNAME "." and RNAME "." (the root, one zero byte each), SERIAL REFRESH RETRY EXPIRE MINIMUM
            BinaryPrimitives.WriteUInt32BigEndian(soa.AsSpan(2 + 16), minimum);
            writer.WriteRecord("test", DnsType.Soa, DnsClass.Internet, ttl, soa, DnsSection.Authority);
        }
        return buffer.AsSpan(0, writer.Finish()).ToArray();
    }

    private static (ushort Id, bool Rd, string Name, uint[] Ttls) Read(ReadOnlySpan<byte> bytes)
    {
        Assert.That(DnsMessage.TryParse(bytes, out var message), Is.EqualTo(WireError.None));
        var reader = new DnsReader(message);
        Assert.That(reader.TryReadQuestion(out var question), Is.True);
        Span<char> text = stackalloc char[255];
        question.Name.TryDecode(text, out int length);
        string name = new(text[..length]);
        var ttls = new List<uint>();
        while (reader.TryReadRecord(out var record)) ttls.Add(record.TimeToLive);
        Assert.That(reader.Error, Is.EqualTo(WireError.None));
        return (message.Id, message.IsRecursionDesired, name, [.. ttls]);
    }

    [Test]
    public void Positive_LivesForTheLeastTtl_AnsweredWithTheQuerysIdAndQuestion_TtlsDecremented()
    {
        var cache = new DnsCache(16);
        Assert.That(cache.Store(Query(1, "www.example.test", DnsType.A), Answer(1, "www.example.test", [300, 60]), T0), Is.True);
        var response = new byte[512];
        // Another ID and the name in other letters' case (RFC 5452's 0x20): both are the query's in the answer.
        int n = cache.TryAnswer(Query(0xBEEF, "WWW.Example.TEST", DnsType.A), response, 512, T0 + TimeSpan.FromSeconds(10.7));
        Assert.That(n, Is.GreaterThan(0));
        Assert.That(Read(response.AsSpan(0, n)), Is.EqualTo(((ushort)0xBEEF, true, "WWW.Example.TEST", new uint[] { 290, 50 })).Using<(ushort, bool, string, uint[])>(
            (a, b) => a.Item1 == b.Item1 && a.Item2 == b.Item2 && a.Item3 == b.Item3 && a.Item4.SequenceEqual(b.Item4)));
        Assert.That(cache.TryAnswer(Query(2, "www.example.test", DnsType.A), response, 512, T0 + TimeSpan.FromSeconds(59.9)), Is.GreaterThan(0));
        Assert.That(cache.TryAnswer(Query(3, "www.example.test", DnsType.A), response, 512, T0 + TimeSpan.FromSeconds(60)), Is.Zero, "held past its least TTL");
        Assert.That(cache.Count, Is.Zero, "the expired entry was removed when met");
    }

    [Test]
    public void EveryRecordAges_ManyOfThem()
    {
        var cache = new DnsCache(4);
        var ttls = Enumerable.Repeat(600u, 100).ToArray();
        cache.Store(Query(1, "many.test", DnsType.A), Answer(1, "many.test", ttls), T0);
        var response = new byte[4096];
        int n = cache.TryAnswer(Query(2, "many.test", DnsType.A), response, 4096, T0 + TimeSpan.FromSeconds(7));
        Assert.That(Read(response.AsSpan(0, n)).Ttls, Is.EqualTo(Enumerable.Repeat(593u, 100)));
    }

    [Test]
    public void KeyedByNameTypeAndClass()
    {
        var cache = new DnsCache(16);
        cache.Store(Query(1, "a.test", DnsType.A), Answer(1, "a.test", [300]), T0);
        var response = new byte[512];
        Assert.That(cache.TryAnswer(Query(2, "a.test", DnsType.Aaaa), response, 512, T0), Is.Zero, "AAAA is another question");
        Assert.That(cache.TryAnswer(Query(2, "b.test", DnsType.A), response, 512, T0), Is.Zero);
        Assert.That(cache.TryAnswer(Query(2, "a.test", DnsType.A), response, 512, T0), Is.GreaterThan(0));
        // RFC 3225: a query with the DO bit wants DNSSEC records: an answer kept for one without is not its answer.
        Assert.That(cache.TryAnswer(Query(2, "a.test", DnsType.A, edns: true), response, 512, T0), Is.Zero, "DO set");
        // An answer to another question than the query's is not kept under the query's.
        Assert.That(cache.Store(Query(1, "c.test", DnsType.A), Answer(1, "d.test", [300]), T0), Is.False);
    }

    [Test]
    public void ReadEdns_GivesThePayloadSizeAndTheDoBit()
    {
        DnsMessage.TryParse(Query(1, "a.test", DnsType.A, edns: true), out var with);
        DnsMessage.TryParse(Query(1, "a.test", DnsType.A), out var without);
        Assert.That((DnsCache.ReadEdns(with), DnsCache.ReadEdns(without)), Is.EqualTo(((1232, true), (0, false))));
    }

    [Test]
    public void TtlsAreCapped_AndOptIsNotATtl()
    {
        var cache = new DnsCache(16);
        cache.Store(Query(1, "long.test", DnsType.A, edns: true), Answer(1, "long.test", [1_000_000], edns: true), T0);
        var response = new byte[512];
        int n = cache.TryAnswer(Query(2, "long.test", DnsType.A, edns: true), response, 512, T0 + TimeSpan.FromSeconds(5));
        var ttls = Read(response.AsSpan(0, n)).Ttls;
        Assert.That(ttls, Is.EqualTo(new uint[] { 1_000_000 - 5, 0x8000 }), "the A record aged, the OPT record's flags (DO) untouched");
        Assert.That(cache.TryAnswer(Query(2, "long.test", DnsType.A, edns: true), response, 512, T0 + TimeSpan.FromSeconds(DnsCache.MaximumTimeToLive - 1)), Is.GreaterThan(0));
        Assert.That(cache.TryAnswer(Query(2, "long.test", DnsType.A, edns: true), response, 512, T0 + TimeSpan.FromSeconds(DnsCache.MaximumTimeToLive)), Is.Zero, "kept past the cap");
    }

    [Test]
    public void Negative_LivesForTheSoaMinimum_AndNotWithoutAnSoa()
    {
        var cache = new DnsCache(16);
        var response = new byte[512];
        // RFC 2308 5: min(SOA TTL 600, MINIMUM 30) = 30 s.
        Assert.That(cache.Store(Query(1, "nx.test", DnsType.A), Negative(1, "nx.test", DnsResponseCode.NameError, 600, 30), T0), Is.True);
        int n = cache.TryAnswer(Query(9, "nx.test", DnsType.A), response, 512, T0 + TimeSpan.FromSeconds(29));
        Assert.That(n, Is.GreaterThan(0));
        Assert.That(DnsMessage.TryParse(response.AsSpan(0, n), out var message), Is.EqualTo(WireError.None));
        Assert.That((message.Id, message.ResponseCode), Is.EqualTo(((ushort)9, DnsResponseCode.NameError)));
        Assert.That(Read(response.AsSpan(0, n)).Ttls, Is.EqualTo(new uint[] { 571 }), "the SOA's TTL aged");
        Assert.That(cache.TryAnswer(Query(9, "nx.test", DnsType.A), response, 512, T0 + TimeSpan.FromSeconds(30)), Is.Zero);
        // NODATA with an SOA is negative too; the cap holds.
        Assert.That(cache.Store(Query(1, "nodata.test", DnsType.A), Negative(1, "nodata.test", DnsResponseCode.NoError, 100_000, 100_000), T0), Is.True);
        Assert.That(cache.TryAnswer(Query(2, "nodata.test", DnsType.A), response, 512, T0 + TimeSpan.FromSeconds(DnsCache.MaximumNegativeTimeToLive)), Is.Zero);
        // Without an SOA (RFC 2308 5: SHOULD NOT be cached), SERVFAIL, a truncated answer, a zero TTL: not kept.
        Assert.That(cache.Store(Query(1, "nosoa.test", DnsType.A), Negative(1, "nosoa.test", DnsResponseCode.NameError, null), T0), Is.False);
        Assert.That(cache.Store(Query(1, "fail.test", DnsType.A), Negative(1, "fail.test", DnsResponseCode.ServerFailure, 600, 30), T0), Is.False);
        Assert.That(cache.Store(Query(1, "tc.test", DnsType.A), Answer(1, "tc.test", [300], truncated: true), T0), Is.False);
        Assert.That(cache.Store(Query(1, "zero.test", DnsType.A), Answer(1, "zero.test", [300, 0]), T0), Is.False);
        Assert.That(cache.Store(Query(1, "top.test", DnsType.A), Answer(1, "top.test", [0x8000_0000]), T0), Is.False, "RFC 2181 8: a TTL with the top bit set is 0");
    }

    [Test]
    public void Bounded_TheLeastRecentlyUsedGoes_AndAnAnswerLongerThanTheLimitIsAMiss()
    {
        var cache = new DnsCache(2);
        var response = new byte[512];
        cache.Store(Query(1, "one.test", DnsType.A), Answer(1, "one.test", [300]), T0);
        cache.Store(Query(1, "two.test", DnsType.A), Answer(1, "two.test", [300]), T0);
        Assert.That(cache.TryAnswer(Query(1, "one.test", DnsType.A), response, 512, T0), Is.GreaterThan(0));   // one is now the more recent
        cache.Store(Query(1, "three.test", DnsType.A), Answer(1, "three.test", [300]), T0);
        Assert.That(cache.Count, Is.EqualTo(2));
        Assert.That(cache.TryAnswer(Query(1, "two.test", DnsType.A), response, 512, T0), Is.Zero, "the least recently used went");
        Assert.That(cache.TryAnswer(Query(1, "one.test", DnsType.A), response, 512, T0), Is.GreaterThan(0));
        Assert.That(cache.TryAnswer(Query(1, "three.test", DnsType.A), response, 512, T0), Is.GreaterThan(0));
        Assert.That(cache.TryAnswer(Query(1, "three.test", DnsType.A), response, 20, T0), Is.Zero, "longer than the guest takes");
        var big = new byte[DnsCache.MaximumAnswer + 1];
        Answer(1, "big.test", [300]).CopyTo(big, 0);
        Assert.That(cache.Store(Query(1, "big.test", DnsType.A), big, T0), Is.False, "longer than an entry may be");
    }

    [Test]
    [CancelAfter(30_000)]
    public void Gateway_AnswersARepeatedQuestionFromItsCache()
    {
        // A loopback DNS server answering every A question with one record, TTL 300, counting the questions.
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int asked = 0;
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            var buffer = new byte[512];
            try
            {
                while (true)
                {
                    var got = await server.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), stop.Token);
                    Interlocked.Increment(ref asked);
                    var answer = Answer(BinaryPrimitives.ReadUInt16BigEndian(buffer), "relayed.test", [300]);
                    await server.SendToAsync(answer, got.RemoteEndPoint);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException) { }
        });
        using (var pair = new GatewayTests.Pair(new GatewayOptions { DnsServer = (IPEndPoint)server.LocalEndPoint!, ResolveOnHost = false }))
        {
            var first = Read(GatewayDnsTests.AskUdp(pair, Query(0x1111, "relayed.test", DnsType.A)));
            var second = Read(GatewayDnsTests.AskUdp(pair, Query(0x2222, "Relayed.Test", DnsType.A)));
            Assert.That((first.Id, second.Id, second.Name), Is.EqualTo(((ushort)0x1111, (ushort)0x2222, "Relayed.Test")));
            Assert.That(second.Ttls, Has.Length.EqualTo(1));
            Assert.That(second.Ttls[0], Is.InRange(290u, 300u));
            Assert.That(Volatile.Read(ref asked), Is.EqualTo(1), "the second question reached the server");
            Assert.That((pair.Host.Statistics.DnsCacheHits, pair.Host.Statistics.DnsRelayed), Is.EqualTo((1L, 1L)));
        }
        using (var pair = new GatewayTests.Pair(new GatewayOptions { DnsServer = (IPEndPoint)server.LocalEndPoint!, ResolveOnHost = false, DnsCacheEntries = 0 }))
        {
            GatewayDnsTests.AskUdp(pair, Query(1, "relayed.test", DnsType.A));
            GatewayDnsTests.AskUdp(pair, Query(2, "relayed.test", DnsType.A));
            Assert.That(Volatile.Read(ref asked), Is.EqualTo(3), "without a cache each question is relayed");
        }
        stop.Cancel();
        serving.Wait(TimeSpan.FromSeconds(5));
    }
}
