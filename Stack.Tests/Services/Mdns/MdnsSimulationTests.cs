using TcpIpSharp.Services.Dns;
using TcpIpSharp.Services.Mdns;
using TcpIpSharp.Sockets;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services.Mdns;

/// <summary>
/// The mDNS responder, DNS-SD and .local lookups between two stacks on the in-memory pair, in virtual time: probe and
/// announcement timing, a name conflict that ends in two names, known-answer suppression, goodbyes, QU and legacy unicast
/// answers, browse and resolve, and the resolver's one-shot queries with their timeout and cache.
/// </summary>
public class MdnsSimulationTests
{
    private static readonly Ipv4Address Group = MdnsResponder.GroupV4;

    [Test]
    public void Probes_three_times_250_ms_apart_then_announces_twice_a_second_apart()
    {
        using var rig = new MdnsRig();
        rig.Listen();
        var responder = new MdnsResponder();
        rig.AddA(responder);
        rig.Run(TimeSpan.FromSeconds(4));
        foreach (var s in rig.Seen) TestContext.Out.WriteLine(s);
        var probes = rig.Seen.Where(s => s.IsProbe).ToList();
        var announcements = rig.Seen.Where(s => s.IsResponse).ToList();
        Assert.That(probes, Has.Count.EqualTo(3));
        Assert.That(probes[0].At, Is.LessThanOrEqualTo(TimeSpan.FromMilliseconds(270)), "the first probe within 0-250 ms");
        Assert.That(probes[0].Questions.Single().Name, Is.EqualTo("PicoW.local"));
        Assert.That(probes[0].Questions.Single().Type, Is.EqualTo(DnsType.Any));
        Assert.That(probes[0].Questions.Single().Class, Is.EqualTo(0x8001), "the first probe asks for unicast replies (QU)");
        Assert.That(probes[0].Authority.Single().Data, Is.EqualTo("192.0.2.10"));
        for (int i = 1; i < 3; i++)
            Assert.That((probes[i].At - probes[i - 1].At).TotalMilliseconds, Is.InRange(240, 270));
        Assert.That(announcements, Has.Count.EqualTo(2));
        Assert.That((announcements[0].At - probes[2].At).TotalMilliseconds, Is.InRange(240, 270));
        Assert.That((announcements[1].At - announcements[0].At).TotalMilliseconds, Is.InRange(990, 1020));
        var a = announcements[0].Answers.Single(e => e.Type == DnsType.A);
        Assert.That((a.Name, a.Data, a.Class, a.Ttl), Is.EqualTo(("PicoW.local", "192.0.2.10", (ushort)0x8001, 120u)), "cache-flush bit on a unique record");
        Assert.That(announcements[0].Answers.Any(e => e.Type == DnsType.Ptr && e.Name == "10.2.0.192.in-addr.arpa" && e.Data == "PicoW.local"));
        Assert.That(responder.HostnameEstablished);
    }

    [TestCase(1)]
    [TestCase(7)]
    public void Two_stacks_with_one_name_end_with_two_names(int seed)
    {
        using var rig = new MdnsRig(seed);
        var ra = new MdnsResponder();
        var rb = new MdnsResponder();
        var log = new List<string>();
        ra.NameChanged += c => log.Add($"{rig.Clock.Now.TotalMilliseconds:0} ms A (192.0.2.10): {c.OldName} taken, now {c.NewName}");
        rb.NameChanged += c => log.Add($"{rig.Clock.Now.TotalMilliseconds:0} ms B (192.0.2.11): {c.OldName} taken, now {c.NewName}");
        rig.AddA(ra);
        rig.AddB(rb);
        Assert.That(rig.RunUntil(() => ra.HostnameEstablished && rb.HostnameEstablished, TimeSpan.FromSeconds(20)), Is.True);
        rig.Run(TimeSpan.FromSeconds(3));
        log.Add($"{rig.Clock.Now.TotalMilliseconds:0} ms A is {ra.HostFullName}, B is {rb.HostFullName}; conflicts A {ra.Statistics.Conflicts} B {rb.Statistics.Conflicts}, tie-breaks lost A {ra.Statistics.TieBreaksLost} B {rb.Statistics.TieBreaksLost}");
        foreach (var line in log) TestContext.Out.WriteLine(line);
        Assert.That(ra.Hostname, Is.Not.EqualTo(rb.Hostname));
        Assert.That(new[] { ra.Hostname, rb.Hostname }, Is.EquivalentTo(new[] { "PicoW", "PicoW-2" }));
        // Each resolves the other's name by a one-shot query.
        var resolver = new DnsResolver();
        rig.AddA(resolver);
        var lookup = resolver.Resolve(rb.HostFullName, DnsType.A, rig.Clock.Now);
        Assert.That(rig.RunUntil(() => lookup.IsCompleted, TimeSpan.FromSeconds(3)), Is.True);
        Assert.That(lookup.Addresses.Single().ToString(), Is.EqualTo("192.0.2.11"));
    }

    [Test]
    public void Answers_a_query_and_suppresses_a_known_answer()
    {
        using var rig = new MdnsRig();
        var ep = rig.Listen();
        var responder = new MdnsResponder();
        rig.AddA(responder);
        rig.RunUntil(() => responder.Statistics.AnnouncementsSent >= 2, TimeSpan.FromSeconds(5));
        rig.Run(TimeSpan.FromSeconds(2));
        rig.Seen.Clear();

        ep.SendTo(MdnsRig.Message(0, false, [("picow.local", DnsType.A, false)]), Group, 5353);
        rig.Run(TimeSpan.FromMilliseconds(200));
        var answer = rig.Seen.Single(s => s.IsResponse);
        Assert.That(answer.Answers.Single().Data, Is.EqualTo("192.0.2.10"));
        Assert.That(answer.From.ToString(), Is.EqualTo("192.0.2.10"));

        // The same question with the answer listed at more than half its TTL: nothing is sent (RFC 6762 7.1).
        rig.Run(TimeSpan.FromSeconds(2));
        rig.Seen.Clear();
        ep.SendTo(MdnsRig.Message(0, false, [("PicoW.local", DnsType.A, false)],
            (DnsSection.Answer, "PicoW.local", DnsType.A, 1, 100, MdnsRig.V4(MdnsRig.IpA))), Group, 5353);
        rig.Run(TimeSpan.FromMilliseconds(500));
        Assert.That(rig.Seen.Where(s => s.IsResponse), Is.Empty);
        Assert.That(responder.Statistics.KnownAnswersSuppressed, Is.EqualTo(1));
        // At less than half its TTL the known answer does not suppress.
        ep.SendTo(MdnsRig.Message(0, false, [("PicoW.local", DnsType.A, false)],
            (DnsSection.Answer, "PicoW.local", DnsType.A, 1, 50, MdnsRig.V4(MdnsRig.IpA))), Group, 5353);
        rig.Run(TimeSpan.FromMilliseconds(500));
        Assert.That(rig.Seen.Count(s => s.IsResponse), Is.EqualTo(1));
        // Two queries inside a second: the second is rate-limited (RFC 6762 6).
        rig.Seen.Clear();
        ep.SendTo(MdnsRig.Message(0, false, [("PicoW.local", DnsType.A, false)]), Group, 5353);
        rig.Run(TimeSpan.FromMilliseconds(100));
        Assert.That(rig.Seen.Count(s => s.IsResponse), Is.EqualTo(0));
        Assert.That(responder.Statistics.RateLimited, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public void Answers_qu_by_unicast_and_legacy_queries_as_rfc_6762_6_7_says()
    {
        using var rig = new MdnsRig();
        var ep = rig.Listen();
        var responder = new MdnsResponder();
        rig.AddA(responder);
        rig.RunUntil(() => responder.Statistics.AnnouncementsSent >= 2, TimeSpan.FromSeconds(5));
        rig.Run(TimeSpan.FromSeconds(1));
        rig.Seen.Clear();

        // QU, shortly after the announcements: unicast to the querier's port 5353.
        ep.SendTo(MdnsRig.Message(0, false, [("PicoW.local", DnsType.A, true)]), Group, 5353);
        rig.Run(TimeSpan.FromMilliseconds(100));
        Assert.That(responder.Statistics.UnicastResponsesSent, Is.EqualTo(1));
        Assert.That(responder.Statistics.MulticastResponsesSent, Is.EqualTo(2), "the two announcements only");
        Assert.That(rig.Seen.Single(s => s.IsResponse).Answers.Single().Data, Is.EqualTo("192.0.2.10"));

        // Legacy unicast: from another port, answered to that port with the ID, the question, TTL <= 10 and no cache-flush bit.
        var legacy = rig.B.OpenUdp(0);
        legacy.SendTo(MdnsRig.Message(0x4242, false, [("PicoW.local", DnsType.A, false)]), Group, 5353);
        rig.Run(TimeSpan.FromMilliseconds(100));
        var buffer = new byte[1500];
        int n = legacy.Receive(buffer, out var from, out var fromPort);
        Assert.That(n, Is.GreaterThan(0), "a legacy unicast answer");
        var reply = MdnsRig.Decode(buffer.AsSpan(0, n), rig.Clock.Now, from, fromPort)!;
        TestContext.Out.WriteLine(reply);
        Assert.That((reply.Id, fromPort), Is.EqualTo(((ushort)0x4242, (ushort)5353)));
        Assert.That(reply.Questions.Single().Name, Is.EqualTo("PicoW.local"));
        var a = reply.Answers.Single();
        Assert.That((a.Data, a.Ttl, a.Class), Is.EqualTo(("192.0.2.10", 10u, (ushort)1)));
        Assert.That(responder.Statistics.LegacyResponsesSent, Is.EqualTo(1));

        // The reverse name of its address, legacy too.
        legacy.SendTo(MdnsRig.Message(7, false, [("10.2.0.192.in-addr.arpa", DnsType.Ptr, false)]), Group, 5353);
        rig.Run(TimeSpan.FromMilliseconds(100));
        n = legacy.Receive(buffer, out from, out fromPort);
        Assert.That(MdnsRig.Decode(buffer.AsSpan(0, n), rig.Clock.Now, from, fromPort)!.Answers.Single().Data, Is.EqualTo("PicoW.local"));
    }

    [Test]
    public void Says_goodbye_on_stop_and_when_an_address_goes()
    {
        using var rig = new MdnsRig();
        rig.Listen();
        var responder = new MdnsResponder();
        rig.AddA(responder);
        rig.RunUntil(() => responder.Statistics.AnnouncementsSent >= 2, TimeSpan.FromSeconds(5));
        rig.Seen.Clear();

        rig.A.Configure(Ipv4Address.Parse("192.0.2.20"), 24, default);
        rig.Run(TimeSpan.FromSeconds(3));
        foreach (var s in rig.Seen) TestContext.Out.WriteLine(s);
        var goodbye = rig.Seen.First(s => s.IsResponse);
        Assert.That(goodbye.Answers.Where(e => e.Type == DnsType.A).Select(e => (e.Data, e.Ttl)), Is.EqualTo(new[] { ("192.0.2.10", 0u) }));
        Assert.That(rig.Seen.Count(s => s.IsProbe), Is.EqualTo(3), "the new address is probed");
        Assert.That(rig.Seen.Last(s => s.IsResponse).Answers.Single(e => e.Type == DnsType.A).Data, Is.EqualTo("192.0.2.20"));

        rig.Seen.Clear();
        responder.Stop(rig.A, rig.Clock.Now);
        rig.Run(TimeSpan.FromMilliseconds(100));
        var last = rig.Seen.Single(s => s.IsResponse);
        Assert.That(last.Answers.All(e => e.Ttl == 0));
        Assert.That(last.Answers.Select(e => e.Type), Is.SupersetOf(new[] { DnsType.A, DnsType.Ptr }));
        Assert.That(rig.A.Ipv4MulticastGroups, Does.Not.Contain(Group));
    }

    [Test]
    public void Dns_sd_services_browse_and_resolve_between_two_stacks()
    {
        using var rig = new MdnsRig();
        var ra = new MdnsResponder();
        ra.Register(new ServiceInstance("Pico web", "_http._tcp", 80, ["path=/", "v=1"]));
        ra.Register(new ServiceInstance("echo", "_echo._tcp", 7));
        var rb = new MdnsResponder(new MdnsOptions { Hostname = "other" });
        rig.AddA(ra);
        rig.AddB(rb);
        Assert.That(rig.RunUntil(() => ra.IsEstablished("Pico web", "_http._tcp") && rb.HostnameEstablished, TimeSpan.FromSeconds(10)), Is.True);

        var browse = rb.Browse("_http._tcp", TimeSpan.FromSeconds(3), rig.Clock.Now);
        Assert.That(rig.RunUntil(() => browse.IsCompleted, TimeSpan.FromSeconds(4)), Is.True);
        var found = browse.Task.Result.Single();
        TestContext.Out.WriteLine(found);
        Assert.That((found.Instance, found.HostName, found.Port), Is.EqualTo(("Pico web", "PicoW.local", (ushort)80)));
        Assert.That(found.Txt, Is.EqualTo(new[] { "path=/", "v=1" }));
        Assert.That(found.Addresses.Select(a => a.ToString()), Is.EqualTo(new[] { "192.0.2.10" }));
        Assert.That(browse.QueriesSent, Is.LessThanOrEqualTo(3));

        var types = rb.Browse("_services._dns-sd._udp", TimeSpan.FromSeconds(2), rig.Clock.Now);
        rig.RunUntil(() => types.IsCompleted, TimeSpan.FromSeconds(3));
        Assert.That(types.Task.Result.Select(t => t.Instance), Is.EquivalentTo(new[] { "_http._tcp", "_echo._tcp" }));

        // Withdrawn: a goodbye that a running browse sees.
        var again = rb.Browse("_http._tcp", TimeSpan.FromSeconds(3), rig.Clock.Now);
        rig.Run(TimeSpan.FromSeconds(1));
        Assert.That(ra.Unregister("Pico web", "_http._tcp"), Is.True);
        rig.RunUntil(() => again.IsCompleted, TimeSpan.FromSeconds(4));
        Assert.That(again.Services.Single().Removed, Is.True);
        Assert.That(again.Task.Result, Is.Empty);
    }

    [Test]
    public void Two_stacks_registering_one_service_instance_end_with_two_instances()
    {
        using var rig = new MdnsRig(5);
        var ra = new MdnsResponder(new MdnsOptions { Hostname = "alpha" });
        var rb = new MdnsResponder(new MdnsOptions { Hostname = "beta" });
        var changes = new List<string>();
        ra.NameChanged += c => changes.Add($"A: {c.OldName} -> {c.NewName}");
        rb.NameChanged += c => changes.Add($"B: {c.OldName} -> {c.NewName}");
        ra.Register(new ServiceInstance("web", "_http._tcp", 80));
        rb.Register(new ServiceInstance("web", "_http._tcp", 8080));
        rig.AddA(ra);
        rig.AddB(rb);
        Assert.That(rig.RunUntil(() => ra.IsEstablished("web", "_http._tcp") && rb.IsEstablished("web", "_http._tcp"), TimeSpan.FromSeconds(20)), Is.True);
        foreach (var c in changes) TestContext.Out.WriteLine(c);
        var names = new[] { ra.Services.Single().Instance, rb.Services.Single().Instance };
        Assert.That(names, Is.EquivalentTo(new[] { "web", "web (2)" }));
        var browse = ra.Browse("_http._tcp", TimeSpan.FromSeconds(3), rig.Clock.Now);
        rig.RunUntil(() => browse.IsCompleted, TimeSpan.FromSeconds(4));
        Assert.That(browse.Task.Result.Select(s => (s.Instance, s.Port)), Is.EquivalentTo(new[] { (names[0], (ushort)80), (names[1], (ushort)8080) }));
    }

    [Test]
    public void A_local_name_is_asked_by_multicast_with_a_timeout_and_cached_never_sent_to_a_unicast_server()
    {
        var withServer = new NetworkStackOptions { DnsServers = [Ipv4Address.Parse("192.0.2.53")] };
        using var rig = new MdnsRig(1, b: withServer);
        var responder = new MdnsResponder(new MdnsOptions { Hostname = "sensor" });
        rig.AddA(responder);
        var resolver = new DnsResolver();
        rig.AddB(resolver);
        rig.RunUntil(() => responder.HostnameEstablished, TimeSpan.FromSeconds(5));

        var lookup = resolver.Resolve("sensor.local", DnsType.A, rig.Clock.Now);
        var asked = rig.Clock.Now;
        Assert.That(rig.RunUntil(() => lookup.IsCompleted, TimeSpan.FromSeconds(3)), Is.True);
        TestContext.Out.WriteLine($"sensor.local -> {string.Join(", ", lookup.Addresses)} in {(rig.Clock.Now - asked).TotalMilliseconds} ms");
        Assert.That(lookup.Error, Is.EqualTo(DnsError.None));
        Assert.That(lookup.Addresses.Single().ToString(), Is.EqualTo("192.0.2.10"));
        var cached = resolver.Resolve("SENSOR.local.", DnsType.A, rig.Clock.Now);
        Assert.That((cached.IsCompleted, cached.FromCache), Is.EqualTo((true, true)));
        // The legacy answer's TTL (10 s) bounds the cache.
        rig.Run(TimeSpan.FromSeconds(11));
        Assert.That(resolver.Resolve("sensor.local", DnsType.A, rig.Clock.Now).IsCompleted, Is.False);

        var missing = resolver.Resolve("nobody.local", DnsType.A, rig.Clock.Now);
        asked = rig.Clock.Now;
        Assert.That(rig.RunUntil(() => missing.IsCompleted, TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(missing.Error, Is.EqualTo(DnsError.NameNotFound));
        Assert.That((rig.Clock.Now - asked).TotalSeconds, Is.InRange(1.9, 2.2), "two one-second attempts");
        Assert.That(resolver.Statistics.QueriesSent, Is.EqualTo(0), "no .local query went to the unicast server");
        Assert.That(resolver.Statistics.MulticastQueriesSent, Is.GreaterThanOrEqualTo(3));
        Assert.That(rig.A.Statistics.Udp.ReceivedCount, Is.GreaterThan(0));

        var off = new DnsResolver(new DnsResolverOptions { MulticastDns = false });
        off.Start(rig.B, rig.Clock.Now);
        Assert.That(off.Resolve("sensor.local", DnsType.A, rig.Clock.Now).Error, Is.EqualTo(DnsError.NameNotFound));
    }

    [Test]
    public void Answers_aaaa_and_its_ipv6_reverse_name_on_ff02_fb()
    {
        var v6 = new NetworkStackOptions { Ipv6 = new TcpIpSharp.Net.Ipv6.Ipv6Options() };
        using var rig = new MdnsRig(3, v6, v6);
        var responder = new MdnsResponder();
        rig.AddA(responder);
        var resolver = new DnsResolver();
        rig.AddB(resolver);
        Assert.That(rig.RunUntil(() => responder.HostnameEstablished && rig.A.Ipv6Addresses.Any(a => a.State == TcpIpSharp.Net.Ipv6.Ipv6AddressState.Preferred), TimeSpan.FromSeconds(10)), Is.True);
        rig.Run(TimeSpan.FromSeconds(3));
        var ll = rig.A.Ipv6Addresses.First().Address;
        var lookup = resolver.Resolve("PicoW.local", DnsType.Aaaa, rig.Clock.Now);
        Assert.That(rig.RunUntil(() => lookup.IsCompleted, TimeSpan.FromSeconds(3)), Is.True);
        Assert.That(lookup.Addresses.Select(a => a.ToString()), Does.Contain(ll.ToString()));
        var reverse = resolver.Resolve(MdnsResponder.ReverseName(ll), DnsType.Ptr, rig.Clock.Now);
        Assert.That(rig.RunUntil(() => reverse.IsCompleted, TimeSpan.FromSeconds(3)), Is.True);
        Assert.That(reverse.Records.Single().Data, Is.EqualTo("PicoW.local"));
        Assert.That(rig.A.Ipv6Enabled);
    }
}

/// <summary>The socket layer's path: getaddrinfo of a .local name between two socket stacks on a virtual clock.</summary>
public class MdnsSocketTests
{
    [Test]
    public void Getaddrinfo_of_a_local_name_reaches_the_other_stacks_responder_and_an_unknown_one_fails()
    {
        var (a, b) = SocketStack.CreateVirtualPair();
        using var disposeB = b;
        using var disposeA = a;
        var responder = a.StartMdns(new MdnsOptions { Hostname = "pico-a" }, [new ServiceInstance("web", "_http._tcp", 80)]);
        // Nobody has this name: two one-second queries, then EAI_NONAME (and the responder has probed meanwhile).
        var error = Assert.Throws<OSError>(() => b.GetAddrInfo("nobody.local", 80));
        Assert.That(error!.Errno, Is.EqualTo(-2), "EAI_NONAME");
        Assert.That(a.Invoke(_ => responder.HostnameEstablished), Is.True);
        var info = b.GetAddrInfo("pico-a.local", 80);
        TestContext.Out.WriteLine(string.Join(", ", info.Select(i => i.SockAddr)));
        Assert.That(info.Select(i => i.SockAddr.Ip), Is.EqualTo(new[] { "192.0.2.10" }));
    }
}

/// <summary>Port 5353 shared with the socket layer: a program's own SO_REUSEADDR socket beside the responder.</summary>
public class MdnsSharedPortTests
{
    [Test]
    public void A_programs_own_reuseaddr_socket_binds_5353_beside_the_responder_and_both_hear_a_query()
    {
        var (a, b) = SocketStack.CreateVirtualPair();
        using var disposeB = b;
        using var disposeA = a;
        var responder = a.StartMdns();
        using var mine = a.Socket(SocketModule.AF_INET, SocketModule.SOCK_DGRAM);
        mine.SetSockOpt(SocketModule.SOL_SOCKET, SocketModule.SO_REUSEADDR, 1);
        mine.Bind(("", 5353));
        mine.SetSockOpt(SocketModule.IPPROTO_IP, SocketModule.IP_ADD_MEMBERSHIP, [.. SocketModule.InetPton(SocketModule.AF_INET, "224.0.0.251"), 0, 0, 0, 0]);
        mine.SetTimeout(5);
        using var without = a.Socket(SocketModule.AF_INET, SocketModule.SOCK_DGRAM);
        var refused = Assert.Throws<OSError>(() => without.Bind(("", 5353)));
        Assert.That(refused!.Errno, Is.EqualTo(98), "EADDRINUSE without SO_REUSEADDR, as Linux");

        using var querier = b.Socket(SocketModule.AF_INET, SocketModule.SOCK_DGRAM);
        querier.SetTimeout(5);
        var query = MdnsRig.Message(0x77, false, [("PicoW.local", DnsType.A, false)]);
        // Wait (in virtual time) until the name is taken: ask nobody.local first through getaddrinfo.
        Assert.Throws<OSError>(() => b.GetAddrInfo("nobody.local", 80));
        querier.SendTo(query, ("224.0.0.251", 5353));
        // The resolver's two queries for nobody.local came first; then ours.
        var (heard, from) = mine.RecvFrom(1500);
        for (int i = 0; i < 3 && !heard.AsSpan().SequenceEqual(query); i++) (heard, from) = mine.RecvFrom(1500);
        Assert.That(heard, Is.EqualTo(query), "the program's socket got its copy");
        var (answer, answeredBy) = querier.RecvFrom(1500);
        var seen = MdnsRig.Decode(answer, TimeSpan.Zero, default, 5353)!;
        TestContext.Out.WriteLine($"query from {from}; answer from {answeredBy}: {seen}");
        Assert.That((seen.Id, seen.Answers.Single().Data), Is.EqualTo(((ushort)0x77, "192.0.2.10")));
        Assert.That(a.Invoke(_ => responder.Statistics.LegacyResponsesSent), Is.EqualTo(1));
    }
}
