using TcpIpSharp.Services.Mdns;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services.Mdns;

/// <summary>
/// The responder under hostile traffic: a flood of queries (answers rate-limited, work per poll bounded), forged
/// conflicts for its name (renamed, not crashed), a browse flooded with huge answers (bounded), malformed packets
/// (counted and dropped); and the allocation-free answer path.
/// </summary>
public class MdnsHostileTests
{
    private static readonly Ipv4Address Group = MdnsResponder.GroupV4;

    private static (MdnsRig Rig, MdnsResponder Responder) Established(MdnsOptions? options = null)
    {
        var rig = new MdnsRig();
        rig.Listen();
        var responder = new MdnsResponder(options);
        rig.AddA(responder);
        Assert.That(rig.RunUntil(() => responder.Statistics.AnnouncementsSent >= 2, TimeSpan.FromSeconds(5)), Is.True);
        rig.Run(TimeSpan.FromSeconds(2));
        rig.Seen.Clear();
        return (rig, responder);
    }

    [Test]
    public void A_query_flood_is_rate_limited_and_bounded_per_poll()
    {
        var (rig, responder) = Established();
        using var owned = rig;
        var query = MdnsRig.Message(0, false, [("PicoW.local", DnsType.A, false), ("PicoW.local", DnsType.Any, false)]);
        // 10,000 queries over 2 s of virtual time: 50 every 10 ms step.
        for (int step = 0; step < 200; step++)
        {
            for (int i = 0; i < 50; i++) rig.Listener!.SendTo(query, Group, 5353);
            rig.Step();
        }
        rig.Run(TimeSpan.FromMilliseconds(500));
        var s = responder.Statistics;
        TestContext.Out.WriteLine(string.Join(", ", s.Snapshot().Where(p => p.Value > 0).Select(p => $"{p.Key}={p.Value}")));
        int answers = rig.Seen.Count(x => x.IsResponse);
        TestContext.Out.WriteLine($"multicast answers to 10,000 queries in 2 s: {answers}; queries read {s.QueriesReceived}, dropped at the queue {rig.A.Statistics.Udp.Dropped}");
        Assert.That(answers, Is.InRange(2, 3), "one answer a second");
        Assert.That(s.QueriesReceived, Is.LessThanOrEqualTo(200 * 2 * 16 + 100), "at most 16 datagrams a poll");
        Assert.That(s.RateLimited, Is.GreaterThan(1000));
        Assert.That(s.DeferredDatagrams, Is.GreaterThan(0));
    }

    [Test]
    public void A_forged_conflict_while_probing_renames_and_one_after_reprobes()
    {
        using var rig = new MdnsRig();
        var ep = rig.Listen();
        var responder = new MdnsResponder();
        var changes = new List<MdnsNameChange>();
        responder.NameChanged += changes.Add;
        rig.AddA(responder);
        var forged = MdnsRig.Message(0, true, [], (DnsSection.Answer, "PicoW.local", DnsType.A, 0x8001, 120, MdnsRig.V4(Ipv4Address.Parse("192.0.2.99"))));
        rig.Run(TimeSpan.FromMilliseconds(300));   // probing
        ep.SendTo(forged, Group, 5353);
        Assert.That(rig.RunUntil(() => responder.HostnameEstablished, TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(responder.HostFullName, Is.EqualTo("PicoW-2.local"));
        Assert.That(changes.Single(), Is.EqualTo(new MdnsNameChange("PicoW.local", "PicoW-2.local", true)));

        // Established: a forged claim sends it back to probing (RFC 6762 9); the forger keeps answering, so it renames again.
        var forged2 = MdnsRig.Message(0, true, [], (DnsSection.Answer, "PicoW-2.local", DnsType.A, 0x8001, 120, MdnsRig.V4(Ipv4Address.Parse("192.0.2.99"))));
        ep.SendTo(forged2, Group, 5353);
        rig.Run(TimeSpan.FromMilliseconds(300));
        ep.SendTo(forged2, Group, 5353);
        Assert.That(rig.RunUntil(() => responder.HostnameEstablished, TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(responder.HostFullName, Is.EqualTo("PicoW-3.local"));

        // A forged claim once, then silence: it probes again and keeps its name.
        rig.Run(TimeSpan.FromSeconds(3));
        ep.SendTo(MdnsRig.Message(0, true, [], (DnsSection.Answer, "PicoW-3.local", DnsType.A, 0x8001, 120, MdnsRig.V4(Ipv4Address.Parse("192.0.2.98")))), Group, 5353);
        rig.Run(TimeSpan.FromSeconds(3));
        Assert.That((responder.HostFullName, responder.HostnameEstablished), Is.EqualTo(("PicoW-3.local", true)));
        Assert.That(responder.Statistics.Conflicts, Is.EqualTo(4));
    }

    [Test]
    public void A_hundred_conflicts_stay_bounded_in_time_and_names()
    {
        using var rig = new MdnsRig();
        var ep = rig.Listen();
        var responder = new MdnsResponder();
        rig.AddA(responder);
        // Claim every name it tries, for 30 s: RFC 6762 8.1 slows probing to one try every 5 s after 15 conflicts in 10 s.
        for (int i = 0; i < 3000; i++)
        {
            var name = responder.HostFullName;
            ep.SendTo(MdnsRig.Message(0, true, [], (DnsSection.Answer, name, DnsType.A, 0x8001, 120, MdnsRig.V4(Ipv4Address.Parse("192.0.2.99")))), Group, 5353);
            rig.Step();
        }
        TestContext.Out.WriteLine($"after 30 s of forged conflicts: {responder.HostFullName}, {responder.Statistics.Conflicts} conflicts, {responder.Statistics.ProbesSent} probes");
        Assert.That(responder.Statistics.Conflicts, Is.LessThan(25), "15, then one each 5 s");
        Assert.That(responder.HostnameEstablished, Is.False);
    }

    [Test]
    public void A_browse_flooded_with_huge_answers_stays_bounded()
    {
        var (rig, responder) = Established(new MdnsOptions { MaximumInstancesPerBrowse = 32 });
        using var owned = rig;
        var browse = responder.Browse("_http._tcp", TimeSpan.FromSeconds(3), rig.Clock.Now);
        var bigTxt = new byte[1000];
        for (int i = 0; i < bigTxt.Length; i += 100) bigTxt[i] = 99;
        for (int round = 0; round < 50; round++)
        {
            var records = new List<(DnsSection, string, DnsType, ushort, uint, byte[])>();
            for (int i = 0; i < 6; i++)
            {
                string instance = $"flood {round}-{i}._http._tcp.local";
                records.Add((DnsSection.Answer, "_http._tcp.local", DnsType.Ptr, 1, 4500, MdnsRig.Name(instance)));
                records.Add((DnsSection.Additional, instance, DnsType.Txt, 0x8001, 4500, bigTxt));
            }
            rig.Listener!.SendTo(MdnsRig.Message(0, true, [], [.. records]), Group, 5353);
            rig.Step();
        }
        rig.RunUntil(() => browse.IsCompleted, TimeSpan.FromSeconds(4));
        TestContext.Out.WriteLine($"instances kept {browse.Services.Count}, overflows {responder.Statistics.BrowseOverflows}");
        Assert.That(browse.Services, Has.Count.EqualTo(32));
        Assert.That(responder.Statistics.BrowseOverflows, Is.GreaterThan(200));
        Assert.That(browse.Services.All(s => s.Txt.Count == 10));
    }

    [Test]
    public void Packets_from_a_source_off_the_link_are_neither_answered_nor_believed()
    {
        // RFC 6762 11: B sits on the same wire but in another subnet (198.51.100.11/24 beside A's 192.0.2.10/24), as a
        // packet routed in from elsewhere would look. A legacy query would make A a reflector; a response could rename it.
        using var rig = new MdnsRig(addressB: Ipv4Address.Parse("198.51.100.11"));
        var ep = rig.Listen();
        var responder = new MdnsResponder();
        var changes = new List<MdnsNameChange>();
        responder.NameChanged += changes.Add;
        rig.AddA(responder);
        rig.Run(TimeSpan.FromMilliseconds(300));   // probing
        ep.SendTo(MdnsRig.Message(0, true, [], (DnsSection.Answer, "PicoW.local", DnsType.A, 0x8001, 120, MdnsRig.V4(Ipv4Address.Parse("198.51.100.99")))), Group, 5353);
        Assert.That(rig.RunUntil(() => responder.HostnameEstablished, TimeSpan.FromSeconds(5)), Is.True);
        rig.Run(TimeSpan.FromSeconds(2));
        Assert.That(rig.B.OpenUdp(40000, IpAddress.AnyIpv4, reuseAddress: false, out var legacy), Is.EqualTo(NetError.None));
        rig.Seen.Clear();
        long answered = responder.Statistics.LegacyResponsesSent + responder.Statistics.MulticastResponsesSent;   // the announcements
        legacy!.SendTo(MdnsRig.Message(0x1234, false, [("PicoW.local", DnsType.A, false)]), Group, 5353);
        ep.SendTo(MdnsRig.Message(0, false, [("PicoW.local", DnsType.A, false)]), Group, 5353);
        rig.Run(TimeSpan.FromSeconds(1));
        TestContext.Out.WriteLine(string.Join(", ", responder.Statistics.Snapshot().Where(p => p.Value > 0).Select(p => $"{p.Key}={p.Value}")));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(responder.HostFullName, Is.EqualTo("PicoW.local"), "the forged response from off the link renamed nothing");
            Assert.That(changes, Is.Empty);
            Assert.That(responder.Statistics.LegacyResponsesSent + responder.Statistics.MulticastResponsesSent, Is.EqualTo(answered), "no answer to either query");
            Assert.That(rig.Seen.Where(x => x.IsResponse), Is.Empty, "nothing on the wire");
            Assert.That(responder.Statistics.OffLink, Is.EqualTo(3));
        }
    }

    [Test]
    public void Malformed_packets_are_counted_and_dropped()
    {
        var (rig, responder) = Established();
        using var owned = rig;
        var random = new Random(5);
        var valid = MdnsRig.Message(0, false, [("PicoW.local", DnsType.A, false)]);
        var cases = new List<byte[]>
        {
            Array.Empty<byte>(),
            new byte[] { 1, 2, 3 },
            new byte[12],                                                           // a header counting nothing
            new byte[] { 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 },                                   // one question, none there
            new byte[] { 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1 },             // a pointer to itself
            new byte[] { 0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 9, 1, 2, 3, 4 },   // A with 9 bytes claimed
            new byte[] { 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF },           // huge counts
            valid[..^3],
        };
        for (int i = 0; i < 300; i++)
        {
            var junk = (byte[])valid.Clone();
            junk[random.Next(junk.Length)] = (byte)random.Next(256);
            cases.Add(junk);
        }
        foreach (var c in cases)
        {
            rig.Listener!.SendTo(c, Group, 5353);
            rig.Step();
        }
        TestContext.Out.WriteLine(string.Join(", ", responder.Statistics.Snapshot().Where(p => p.Value > 0).Select(p => $"{p.Key}={p.Value}")));
        Assert.That(responder.Statistics.Malformed, Is.GreaterThanOrEqualTo(7));
        Assert.That(responder.HostnameEstablished);
    }

    [Test]
    public void Answering_a_query_allocates_nothing_after_warm_up()
    {
        var (rig, responder) = Established();
        using var owned = rig;
        var ep = rig.Listener!;
        var legacy = rig.B.OpenUdp(0);
        var query = MdnsRig.Message(0, false, [("PicoW.local", DnsType.A, false)]);
        var legacyQuery = MdnsRig.Message(9, false, [("PicoW.local", DnsType.A, false)]);
        var sink = new byte[1500];
        long answers = 0;
        void Round()
        {
            rig.Clock.Advance(TimeSpan.FromMilliseconds(1100));   // past the one-second rate limit
            ep.SendTo(query, Group, 5353);
            legacy.SendTo(legacyQuery, Group, 5353);
            rig.B.Poll(rig.Clock.Now);
            rig.A.Poll(rig.Clock.Now);
            responder.Poll(rig.A, rig.Clock.Now);
            rig.A.Poll(rig.Clock.Now);
            rig.B.Poll(rig.Clock.Now);
            while (ep.Receive(sink, out _, out _) >= 0) answers++;
            while (legacy.Receive(sink, out _, out _) >= 0) answers++;
        }
        for (int i = 0; i < 200; i++) Round();
        answers = 0;
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            for (int i = 0; i < 1000; i++) Round();
        });
        Assert.That(answers, Is.GreaterThanOrEqualTo(2000));
        Assert.That(allocated, Is.Zero);
    }
}
