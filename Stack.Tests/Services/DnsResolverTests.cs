using TcpIpSharp.Tests.Support;
using System.Buffers.Binary;
using TcpIpSharp.Services.Dns;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services;

/// <summary>The resolver against scripted servers, frame by frame, in virtual time.</summary>
public class DnsResolverTests
{
    private static readonly Ipv4Address Server = Frames.PeerIp;
    private static readonly Ipv4Address Second = Ipv4Address.Parse("192.0.2.53");

    private static (ServiceRig Rig, DnsResolver Resolver) Start(DnsResolverOptions? options = null, params Ipv4Address[] servers)
    {
        var resolver = new DnsResolver(options);
        var rig = ServiceRig.Configured(resolver);
        rig.ArpResponders.Add(Second);
        rig.Stack.SetDnsServers(servers.Length > 0 ? servers : [Server]);
        return (rig, resolver);
    }

    private static SentDatagram Query(ServiceRig rig, string what = "one query")
    {
        rig.Poll();   // lets ARP for a server not yet known complete
        var sent = rig.DrainUdp().Where(d => d.DestinationPort == 53).ToList();
        Assert.That(sent, Has.Count.EqualTo(1), what);
        return sent[0];
    }

    private static void Answer(ServiceRig rig, SentDatagram query, DnsReply reply, Ipv4Address? from = null, ushort fromPort = 53)
        => rig.Inject(DnsReply.Frame((reply with { Id = query.Dns.Id }).Payload(), from ?? query.Destination, query.SourcePort, fromPort));

    private static DnsLookup Resolve(ServiceRig rig, DnsResolver resolver, string name, DnsType type = DnsType.A)
        => resolver.Resolve(name, type, rig.Clock.Now);

    [Test]
    public void A_query_goes_to_port_53_from_a_random_port_with_a_random_id_and_one_question()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        Resolve(rig, resolver, "server.test");
        Resolve(rig, resolver, "other.test");
        var sent = rig.DrainUdp();
        Assert.That(sent, Has.Count.EqualTo(2));
        var q = sent[0].Dns;
        var reader = q.GetReader();
        Assert.That(reader.TryReadQuestion(out var question), Is.True);
        using (Assert.EnterMultipleScope())
        {
            Assert.That((sent[0].Destination, sent[0].DestinationPort), Is.EqualTo((Server, (ushort)53)));
            Assert.That(sent[0].SourcePort, Is.GreaterThanOrEqualTo(49152));
            Assert.That(sent[1].SourcePort, Is.Not.EqualTo(sent[0].SourcePort), "each lookup has its own port");
            Assert.That(sent[1].Dns.Id, Is.Not.EqualTo(q.Id));
            Assert.That(q.IsResponse, Is.False);
            Assert.That(q.IsRecursionDesired, Is.True);
            Assert.That((q.QuestionCount, q.AnswerCount, q.AuthorityCount, q.AdditionalCount), Is.EqualTo(((ushort)1, (ushort)0, (ushort)0, (ushort)0)));
            Assert.That(question.Name.ToString(), Is.EqualTo("server.test"));
            Assert.That((question.Type, question.Class), Is.EqualTo((DnsType.A, DnsClass.Internet)));
            Assert.That(sent[0].Payload, Has.Length.EqualTo(12 + 13 + 4));
        }
    }

    [Test]
    public void An_answer_completes_the_lookup_and_is_cached_until_its_ttl_runs_out()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "server.test");
        DnsLookup? completed = null;
        lookup.Completed += l => completed = l;
        Assert.That(lookup.IsCompleted, Is.False);
        var query = Query(rig);
        Answer(rig, query, new DnsReply("server.test", DnsType.A) { Answers = [new Rr("server.test", DnsType.A, "192.0.2.1", Ttl: 30)] });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(completed, Is.SameAs(lookup));
            Assert.That(lookup.Error, Is.EqualTo(DnsError.None));
            Assert.That(lookup.Errno, Is.Zero);
            Assert.That(lookup.Addresses, Is.EqualTo(new[] { new HostAddress(Ipv4Address.Parse("192.0.2.1")) }));
            Assert.That(lookup.CanonicalName, Is.EqualTo("server.test"));
            Assert.That(lookup.Server, Is.EqualTo((IpAddress)Server));
            Assert.That(lookup.FromCache, Is.False);
            Assert.That(resolver.PendingQueries, Is.Zero);
        }
        rig.Advance(TimeSpan.FromSeconds(29));
        var cached = Resolve(rig, resolver, "SERVER.test.");
        Assert.That(cached.IsCompleted && cached.FromCache && cached.Addresses.Count == 1, Is.True, "names compare without case and the root dot");
        Assert.That(rig.DrainUdp(), Is.Empty);
        rig.Advance(TimeSpan.FromSeconds(1.5));
        var again = Resolve(rig, resolver, "server.test");
        Assert.That(again.IsCompleted, Is.False, "the TTL ran out");
        Query(rig, "asked again");
        Assert.That(resolver.Statistics.CacheHits, Is.EqualTo(1));
    }

    [Test]
    public void A_completion_handler_that_looks_the_name_up_again_finds_it_cached()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "server.test");
        DnsLookup? again = null;
        lookup.Completed += _ => again = Resolve(rig, resolver, "server.test");
        Answer(rig, Query(rig), new DnsReply("server.test", DnsType.A).A("server.test", "192.0.2.1"));
        Assert.That(again, Is.Not.Null);
        Assert.That((again!.IsCompleted, again.FromCache, resolver.PendingQueries), Is.EqualTo((true, true, 0)));
    }

    [Test]
    public void A_cname_chain_in_one_answer_is_followed_to_the_addresses()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "www.test");
        Answer(rig, Query(rig), new DnsReply("www.test", DnsType.A)
        {
            Answers =
            [
                new Rr("www.test", DnsType.Cname, "edge.test"), new Rr("edge.test", DnsType.Cname, "host.test"),
                new Rr("host.test", DnsType.A, "192.0.2.20"), new Rr("other.test", DnsType.A, "192.0.2.99"),
            ],
        });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(lookup.Error, Is.EqualTo(DnsError.None));
            Assert.That(lookup.Aliases, Is.EqualTo(new[] { "www.test", "edge.test" }));
            Assert.That(lookup.CanonicalName, Is.EqualTo("host.test"));
            Assert.That(lookup.Addresses.Select(a => a.ToString()), Is.EqualTo(new[] { "192.0.2.20" }), "a record of another name is not taken");
        }
    }

    [Test]
    public void A_cname_whose_target_has_no_records_in_the_answer_is_chased_with_a_new_query()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "alias.test");
        Answer(rig, Query(rig), new DnsReply("alias.test", DnsType.A) { Answers = [new Rr("alias.test", DnsType.Cname, "elsewhere.example")] });
        Assert.That(lookup.IsCompleted, Is.False);
        var second = Query(rig, "a query for the CNAME's target");
        second.Dns.GetReader().TryReadQuestion(out var q);
        Assert.That(q.Name.ToString(), Is.EqualTo("elsewhere.example"));
        Answer(rig, second, new DnsReply("elsewhere.example", DnsType.A).A("elsewhere.example", "198.51.100.7"));
        Assert.That((lookup.Error, lookup.CanonicalName, lookup.Addresses.Single().ToString()), Is.EqualTo((DnsError.None, "elsewhere.example", "198.51.100.7")));
        Assert.That(Resolve(rig, resolver, "alias.test").FromCache, Is.True, "cached under the name asked");
    }

    [Test]
    public void A_cname_loop_ends_at_the_hop_bound()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "a.test");
        Answer(rig, Query(rig), new DnsReply("a.test", DnsType.A) { Answers = [new Rr("a.test", DnsType.Cname, "b.test"), new Rr("b.test", DnsType.Cname, "a.test")] });
        Assert.That((lookup.IsCompleted, lookup.Error), Is.EqualTo((true, DnsError.NameNotFound)));
        Assert.That(rig.DrainUdp(), Is.Empty);
    }

    [Test]
    public void A_name_with_several_a_records_gives_every_address_in_order()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "multi.test");
        Answer(rig, Query(rig), new DnsReply("multi.test", DnsType.A).A("multi.test", "192.0.2.10", "192.0.2.11", "192.0.2.12"));
        Assert.That(lookup.Addresses.Select(a => a.ToString()), Is.EqualTo(new[] { "192.0.2.10", "192.0.2.11", "192.0.2.12" }));
        Span<HostAddress> two = stackalloc HostAddress[2];
        Assert.That(resolver.TryResolveCached("multi.test", DnsType.A, rig.Clock.Now, two, out int count, out var error), Is.True);
        Assert.That((count, error, two[1].ToString()), Is.EqualTo((2, DnsError.None, "192.0.2.11")));
    }

    [Test]
    public void An_aaaa_answer_gives_ipv6_addresses()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "host.test", DnsType.Aaaa);
        Answer(rig, Query(rig), new DnsReply("host.test", DnsType.Aaaa) { Answers = [new Rr("host.test", DnsType.Aaaa, "2001:db8::20")] });
        Assert.That(lookup.Addresses.Single().Family, Is.EqualTo(HostAddressFamily.Ipv6));
        Assert.That(lookup.Addresses.Single().ToString(), Is.EqualTo("2001:db8::20"));
    }

    [Test]
    public void Other_record_types_come_back_as_text()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var mx = Resolve(rig, resolver, "example.test", DnsType.Mx);
        Answer(rig, Query(rig), new DnsReply("example.test", DnsType.Mx) { Answers = [new Rr("example.test", DnsType.Mx, "10 mail.example.test")] });
        var txt = Resolve(rig, resolver, "example.test", DnsType.Txt);
        Answer(rig, Query(rig), new DnsReply("example.test", DnsType.Txt) { Answers = [new Rr("example.test", DnsType.Txt, "v=spf1 -all")] });
        Assert.That(mx.Records.Single().Data, Is.EqualTo("10 mail.example.test"));
        Assert.That(txt.Records.Single().Data, Is.EqualTo("\"v=spf1 -all\""));
        Assert.That(mx.Addresses, Is.Empty);
    }

    [Test]
    public void Nxdomain_fails_with_errno_minus_2_and_is_cached_for_the_soa_minimum_within_the_bound()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "missing.test");
        Answer(rig, Query(rig), new DnsReply("missing.test", DnsType.A) { Code = DnsResponseCode.NameError, Soa = ("test", 300, 3600) });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(lookup.Error, Is.EqualTo(DnsError.NameNotFound));
            Assert.That(lookup.Errno, Is.EqualTo(-2), "EAI_NONAME, what the Pico raises as OSError(-2)");
            Assert.That(DnsLookup.MessageOf(lookup.Error), Is.EqualTo("Name or service not known"));
        }
        rig.Advance(TimeSpan.FromSeconds(59));
        var cached = Resolve(rig, resolver, "missing.test");
        Assert.That((cached.IsCompleted, cached.FromCache, cached.Error), Is.EqualTo((true, true, DnsError.NameNotFound)));
        rig.Advance(TimeSpan.FromSeconds(1.5));
        Assert.That(Resolve(rig, resolver, "missing.test").IsCompleted, Is.False, "negative answers live 60 s at most");
    }

    [Test]
    public void Nxdomain_without_soa_is_cached_briefly_and_nodata_fails_with_errno_minus_5()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "missing.test");
        Answer(rig, Query(rig), new DnsReply("missing.test", DnsType.A) { Code = DnsResponseCode.NameError });
        rig.Advance(TimeSpan.FromSeconds(10.5));
        Assert.That(Resolve(rig, resolver, "missing.test").IsCompleted, Is.False, "10 s without an SOA");
        var nodata = Resolve(rig, resolver, "v4only.test", DnsType.Aaaa);
        Answer(rig, rig.DrainUdp().Single(d => d.Dns.QuestionCount == 1 && Name(d) == "v4only.test"), new DnsReply("v4only.test", DnsType.Aaaa) { Soa = ("test", 5, 5) });
        Assert.That((nodata.Error, nodata.Errno), Is.EqualTo((DnsError.NoData, -5)));
        Assert.That(lookup.Errno, Is.EqualTo(-2));
    }

    private static string Name(SentDatagram d)
    {
        var reader = d.Dns.GetReader();
        reader.TryReadQuestion(out var q);
        return q.Name.ToString();
    }

    [Test]
    public void Responses_from_another_address_or_port_or_with_another_id_or_question_are_rejected_and_counted()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "server.test");
        var query = Query(rig);
        var good = new DnsReply("server.test", DnsType.A).A("server.test", "192.0.2.1") with { Id = query.Dns.Id };
        rig.Inject(DnsReply.Frame(good.Payload(), Ipv4Address.Parse("192.0.2.77"), query.SourcePort));
        rig.Inject(DnsReply.Frame(good.Payload(), Server, query.SourcePort, fromPort: 5353));
        rig.Inject(DnsReply.Frame((good with { Id = (ushort)(good.Id + 1) }).Payload(), Server, query.SourcePort));
        rig.Inject(DnsReply.Frame((good with { QuestionName = "evil.test", Answers = [new Rr("evil.test", DnsType.A, "203.0.113.66")] }).Payload(), Server, query.SourcePort));
        rig.Inject(DnsReply.Frame((good with { QuestionType = DnsType.Aaaa }).Payload(), Server, query.SourcePort));
        rig.Inject(DnsReply.Frame((good with { IsResponse = false }).Payload(), Server, query.SourcePort));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(lookup.IsCompleted, Is.False);
            Assert.That(resolver.Statistics.RejectedSource, Is.EqualTo(2));
            Assert.That(resolver.Statistics.RejectedId, Is.EqualTo(1));
            Assert.That(resolver.Statistics.RejectedQuestion, Is.EqualTo(2));
            Assert.That(resolver.Statistics.RejectedMalformed, Is.EqualTo(1), "a query is not a response");
        }
        rig.Inject(DnsReply.Frame(good.Payload(), Server, query.SourcePort));
        Assert.That((lookup.Error, lookup.Addresses.Single().ToString()), Is.EqualTo((DnsError.None, "192.0.2.1")));
    }

    // Malformed answers built by hand: each is rejected without an exception, and the query goes on.
    private static IEnumerable<TestCaseData> MalformedAnswers()
    {
        byte[] Header(ushort an, ushort flags = 0x8180, ushort qd = 1) =>
            [0, 0, (byte)(flags >> 8), (byte)flags, 0, (byte)qd, (byte)(an >> 8), (byte)an, 0, 0, 0, 0];
        byte[] question = [6, .. "server"u8, 4, .. "test"u8, 0, 0, 1, 0, 1];
        byte[] answerA = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1];
        yield return new TestCaseData((object)Header(1).Concat(question).Concat(new byte[] { 0xC0, 29, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4 }).ToArray())
            .SetName("An answer whose name is a pointer to itself (a loop)");
        yield return new TestCaseData((object)Header(3).Concat(question).Concat(answerA).ToArray()).SetName("ANCOUNT says 3 with one answer present");
        yield return new TestCaseData((object)Header(1).Concat(question).Concat(answerA[..10]).Concat(new byte[] { 0, 40, 192, 0, 2, 1 }).ToArray())
            .SetName("RDLENGTH runs past the end");
        yield return new TestCaseData((object)Header(1).Concat(question).Concat(new byte[] { 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 192, 0, 2 }).ToArray())
            .SetName("An A record of three bytes");
        yield return new TestCaseData((object)Header(1).Concat(question).Concat(new byte[] { 0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, 200 }).ToArray())
            .SetName("A CNAME pointing past the end");
        yield return new TestCaseData((object)Header(1).Concat(question).Concat(new byte[] { 63, 1, 2 }).ToArray()).SetName("A label longer than the message");
        yield return new TestCaseData((object)Header(0)[..7]).SetName("A header cut short");
        yield return new TestCaseData((object)Header(0, qd: 2).Concat(question).ToArray()).SetName("QDCOUNT says 2 with one question");
    }

    [TestCaseSource(nameof(MalformedAnswers))]
    public void A_malformed_answer_is_rejected_without_an_exception_and_the_lookup_goes_on(byte[] payload)
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "server.test");
        var query = Query(rig);
        if (payload.Length >= 2) BinaryPrimitives.WriteUInt16BigEndian(payload, query.Dns.Id);
        rig.Inject(DnsReply.Frame(payload, Server, query.SourcePort));
        Assert.That(lookup.IsCompleted, Is.False);
        Assert.That(resolver.Statistics.RejectedMalformed + resolver.Statistics.RejectedQuestion, Is.EqualTo(1));
        rig.Advance(TimeSpan.FromSeconds(2.1));
        var retry = Query(rig, "asked again after the timeout");
        Answer(rig, retry, new DnsReply("server.test", DnsType.A).A("server.test", "192.0.2.1"));
        Assert.That(lookup.Error, Is.EqualTo(DnsError.None));
    }

    [Test]
    public void When_the_first_server_is_silent_the_second_is_asked_after_the_timeout()
    {
        var (rig, resolver) = Start(null, Second, Server);
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "server.test");
        var first = Query(rig);
        Assert.That(first.Destination, Is.EqualTo(Second));
        rig.Advance(TimeSpan.FromSeconds(1.9));
        Assert.That(rig.DrainUdp(), Is.Empty);
        rig.Advance(TimeSpan.FromSeconds(0.2));
        var second = Query(rig, "failover");
        Assert.That(second.Destination, Is.EqualTo(Server));
        Assert.That(second.SourcePort, Is.EqualTo(first.SourcePort));
        Assert.That(second.Dns.Id, Is.Not.EqualTo(first.Dns.Id), "a new ID for every query sent");
        // A late answer from the first server no longer counts.
        Answer(rig, first, new DnsReply("server.test", DnsType.A).A("server.test", "203.0.113.1"), from: Second);
        Assert.That(lookup.IsCompleted, Is.False);
        Answer(rig, second, new DnsReply("server.test", DnsType.A).A("server.test", "192.0.2.1"));
        Assert.That((lookup.Error, lookup.Server, lookup.Addresses.Single().ToString()), Is.EqualTo((DnsError.None, (IpAddress)Server, "192.0.2.1")));
        Assert.That(resolver.Statistics.Timeouts, Is.EqualTo(1));
    }

    [Test]
    public void Servfail_moves_to_the_next_server_at_once_and_only_failures_everywhere_fail_the_lookup()
    {
        var (rig, resolver) = Start(new DnsResolverOptions { Attempts = 1 }, Server, Second);
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "server.test");
        Answer(rig, Query(rig), new DnsReply("server.test", DnsType.A) { Code = DnsResponseCode.ServerFailure });
        var next = Query(rig, "the second server, at once");
        Assert.That(next.Destination, Is.EqualTo(Second));
        Answer(rig, next, new DnsReply("server.test", DnsType.A) { Code = DnsResponseCode.Refused });
        Assert.That((lookup.Error, lookup.Errno), Is.EqualTo((DnsError.ServerFailure, -3)));
        Assert.That(resolver.Statistics.ServerErrors, Is.EqualTo(2));
    }

    [Test]
    public void With_no_answer_at_all_the_lookup_times_out_after_four_rounds_with_doubling_waits()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "server.test");
        var start = rig.Clock.Now;
        rig.AdvanceUntil(() => lookup.IsCompleted, TimeSpan.FromSeconds(30), "the lookup fails");
        using (Assert.EnterMultipleScope())
        {
            Assert.That((rig.Clock.Now - start).TotalSeconds, Is.InRange(22, 22.2), "2 + 4 + 8 + 8 s");
            Assert.That(rig.DrainUdp().Count(d => d.DestinationPort == 53), Is.EqualTo(4));
            Assert.That((lookup.Error, lookup.Errno), Is.EqualTo((DnsError.TimedOut, -3)));
            Assert.That(resolver.PendingQueries, Is.Zero);
            Assert.That(rig.Stack.Udp.Count, Is.Zero, "the lookup's port is closed");
        }
    }

    [Test]
    public void A_port_unreachable_from_the_server_moves_on_without_waiting()
    {
        var (rig, resolver) = Start(null, Server, Second);
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "server.test");
        var frame = rig.Drain().Single(f => SentDatagram.TryParse(f) is { DestinationPort: 53 });
        var quote = frame.AsSpan(EthernetHeader.Size, Ipv4Header.MinimumSize + 8).ToArray();
        var icmp = new byte[IcmpHeader.Size + quote.Length];
        new IcmpHeader(IcmpType.DestinationUnreachable, 3).WriteTo(icmp);
        quote.CopyTo(icmp, IcmpHeader.Size);
        IcmpHeader.FillChecksum(icmp);
        rig.Inject(Frames.Ipv4(Server, Frames.StackIp, IpProtocol.Icmp, icmp));
        Assert.That(Query(rig, "the next server").Destination, Is.EqualTo(Second));
        Assert.That(lookup.IsCompleted, Is.False);
    }

    [TestCase("192.0.2.7", DnsType.A, "192.0.2.7")]
    [TestCase("localhost", DnsType.A, "127.0.0.1")]
    [TestCase("LocalHost.", DnsType.A, "127.0.0.1")]
    [TestCase("printer.localhost", DnsType.A, "127.0.0.1")]
    [TestCase("localhost", DnsType.Aaaa, "::1")]
    [TestCase("2001:db8::1", DnsType.Aaaa, "2001:db8::1")]
    public void Numeric_addresses_and_localhost_are_answered_without_a_query(string name, DnsType type, string expected)
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, name, type);
        Assert.That((lookup.IsCompleted, lookup.FromCache, lookup.Addresses.Single().ToString()), Is.EqualTo((true, true, expected)));
        Assert.That(rig.DrainUdp(), Is.Empty);
    }

    [TestCase("192.0.2.7", DnsType.Aaaa, DnsError.NoData)]
    [TestCase("a..b", DnsType.A, DnsError.NameNotFound)]
    [TestCase("", DnsType.A, DnsError.NameNotFound)]
    [TestCase("this-label-is-longer-than-sixty-three-characters-which-dns-does-not-allow.test", DnsType.A, DnsError.NameNotFound)]
    public void Names_that_cannot_resolve_fail_without_a_query(string name, DnsType type, DnsError error)
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, name, type);
        Assert.That((lookup.IsCompleted, lookup.Error), Is.EqualTo((true, error)));
        Assert.That(rig.DrainUdp(), Is.Empty);
    }

    [Test]
    public void Without_a_server_a_lookup_fails_at_once()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        rig.Stack.SetDnsServers([]);
        var lookup = Resolve(rig, resolver, "server.test");
        Assert.That((lookup.IsCompleted, lookup.Error, lookup.Errno), Is.EqualTo((true, DnsError.NoServers, -3)));
    }

    [Test]
    public void The_cache_is_bounded_and_evicts_the_least_recently_used_name()
    {
        var (rig, resolver) = Start(new DnsResolverOptions { CacheSize = 4 });
        using var _r = rig;
        for (int i = 0; i < 6; i++)
        {
            rig.Advance(TimeSpan.FromSeconds(1));
            string name = $"n{i}.test";
            Resolve(rig, resolver, name);
            Answer(rig, Query(rig), new DnsReply(name, DnsType.A).A(name, $"192.0.2.{100 + i}"));
            if (i == 3) Assert.That(Resolve(rig, resolver, "n0.test").FromCache, Is.True, "n0 used again: n1 is now the oldest");
        }
        Span<HostAddress> one = stackalloc HostAddress[1];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(resolver.CachedNames, Is.EqualTo(4));
            Assert.That(resolver.Statistics.CacheEvictions, Is.EqualTo(2));
            Assert.That(resolver.TryResolveCached("n0.test", DnsType.A, rig.Clock.Now, one, out _, out _), Is.True);
            Assert.That(resolver.TryResolveCached("n1.test", DnsType.A, rig.Clock.Now, one, out _, out _), Is.False);
            Assert.That(resolver.TryResolveCached("n2.test", DnsType.A, rig.Clock.Now, one, out _, out _), Is.False);
            Assert.That(resolver.TryResolveCached("n5.test", DnsType.A, rig.Clock.Now, one, out _, out _), Is.True);
        }
    }

    [Test]
    public void A_truncated_answer_is_not_used_but_asked_again_over_tcp_of_the_same_server()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "big.test");
        Answer(rig, Query(rig), new DnsReply("big.test", DnsType.A) { Truncated = true }.A("big.test", "192.0.2.30"));
        Assert.That(lookup.IsCompleted, Is.False, "the partial answer waits for the whole one over TCP");
        var syns = rig.Drain().Where(f => EthernetFrame.TryParse(f, out var eth) == WireError.None && eth.EtherType == EtherType.Ipv4
            && Ipv4Packet.TryParse(eth.Payload, out var ip) == WireError.None && ip.Protocol == IpProtocol.Tcp && ip.Destination == Server
            && TcpSegment.TryParse(ip.Payload, out var tcp) == WireError.None && tcp.DestinationPort == 53 && (tcp.Flags & TcpFlags.Syn) != 0).ToList();
        Assert.That(syns, Has.Count.EqualTo(1), "one SYN to the server's port 53");
        Assert.That((resolver.Statistics.Truncated, resolver.Statistics.TcpQueriesSent), Is.EqualTo((1L, 1L)));
    }

    [Test]
    public void Lookups_of_the_same_name_share_one_query_and_the_number_in_flight_is_bounded()
    {
        var (rig, resolver) = Start(new DnsResolverOptions { MaximumPendingQueries = 2 });
        using var _r = rig;
        var a = Resolve(rig, resolver, "same.test");
        var b = Resolve(rig, resolver, "SAME.test");
        Assert.That(b, Is.SameAs(a));
        Resolve(rig, resolver, "other.test");
        var third = Resolve(rig, resolver, "third.test");
        Assert.That((third.IsCompleted, third.Error), Is.EqualTo((true, DnsError.TooManyQueries)));
        Assert.That(rig.DrainUdp(), Has.Count.EqualTo(2));
    }

    [Test]
    public void Getaddrinfo_gives_the_picos_tuples()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        var lookup = Resolve(rig, resolver, "alias.test");
        Answer(rig, Query(rig), new DnsReply("alias.test", DnsType.A)
        {
            Answers = [new Rr("alias.test", DnsType.Cname, "multi.test"), new Rr("multi.test", DnsType.A, "192.0.2.10"), new Rr("multi.test", DnsType.A, "192.0.2.11")],
        });
        var list = AddressInfo.FromLookup(lookup, 80);
        Assert.That(list.Select(i => i.ToString()), Is.EqualTo(new[] { "(2, 1, 0, '', ('192.0.2.10', 80))", "(2, 1, 0, '', ('192.0.2.11', 80))" }));
        var canonical = AddressInfo.FromLookup(lookup, 53, family: 2, socketType: AddressInfo.SockDgram, protocol: 17, flags: AddressInfo.AiCanonName);
        Assert.That(canonical.Select(i => i.ToString()), Is.EqualTo(new[] { "(2, 2, 17, 'multi.test', ('192.0.2.10', 53))", "(2, 2, 17, '', ('192.0.2.11', 53))" }));
        Assert.That(AddressInfo.FromLookup(lookup, 80, family: 10), Is.Empty);
        var v6 = Resolve(rig, resolver, "::1", DnsType.Aaaa);
        Assert.That(AddressInfo.FromLookup(v6, 80).Single().ToString(), Is.EqualTo("(10, 1, 0, '', ('::1', 80, 0, 0))"));
    }

    [Test]
    public void A_cached_resolution_allocates_nothing()
    {
        var (rig, resolver) = Start();
        using var _r = rig;
        Resolve(rig, resolver, "server.test");
        Answer(rig, Query(rig), new DnsReply("server.test", DnsType.A).A("server.test", "192.0.2.1", "192.0.2.2"));
        Resolve(rig, resolver, "missing.test");
        Answer(rig, Query(rig), new DnsReply("missing.test", DnsType.A) { Code = DnsResponseCode.NameError, Soa = ("test", 60, 60) });
        Span<HostAddress> addresses = stackalloc HostAddress[4];
        var now = rig.Clock.Now;
        int found = 0, failed = 0;
        for (int i = 0; i < 100; i++)
        {
            resolver.TryResolveCached("server.test", DnsType.A, now, addresses, out _, out _);
            resolver.TryResolveCached("missing.test", DnsType.A, now, addresses, out _, out _);
            resolver.TryResolveCached("192.0.2.9", DnsType.A, now, addresses, out _, out _);
            resolver.TryResolveCached("localhost", DnsType.A, now, addresses, out _, out _);
        }
        var results = new HostAddress[4];
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            found = failed = 0;
            for (int i = 0; i < 10_000; i++)
            {
                if (resolver.TryResolveCached("server.test", DnsType.A, now, results, out int count, out var error) && error == DnsError.None) found += count;
                if (resolver.TryResolveCached("Missing.Test.", DnsType.A, now, results, out _, out error) && error == DnsError.NameNotFound) failed++;
                resolver.TryResolveCached("192.0.2.9", DnsType.A, now, results, out _, out _);
                resolver.TryResolveCached("localhost", DnsType.A, now, results, out _, out _);
            }
        });
        TestContext.Out.WriteLine($"40,000 cached resolutions (10,000 each of a cached name, a cached NXDOMAIN, a literal, localhost): {allocated} bytes allocated");
        Assert.That((found, failed), Is.EqualTo((20_000, 10_000)));
        Assert.That(allocated, Is.Zero);
    }
}
