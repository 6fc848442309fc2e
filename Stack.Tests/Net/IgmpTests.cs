using System.Buffers.Binary;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>IGMP host side (RFC 3376 with RFC 2236/1112 compatibility) on one stack, in virtual time.</summary>
public class IgmpTests
{
    private static readonly Ipv4Address Group = Ipv4Address.Parse("239.1.2.3");
    private static readonly Ipv4Address Group2 = Ipv4Address.Parse("239.4.5.6");
    private static readonly Ipv4Address AllSystems = Ipv4Address.Parse("224.0.0.1");
    private static readonly Ipv4Address AllRouters = Ipv4Address.Parse("224.0.0.2");
    private static readonly Ipv4Address V3Routers = Ipv4Address.Parse("224.0.0.22");

    /// <summary>One IGMP message the stack sent, checked as it left: TTL 1, Router Alert, both checksums.</summary>
    internal sealed record Sent(Ipv4Address Source, Ipv4Address Destination, IgmpType Type, Ipv4Address Group, List<(MldRecordType Type, Ipv4Address Group)> Records)
    {
        public TimeSpan At { get; init; }
    }

    internal static List<Sent> Igmp(IEnumerable<byte[]> frames, TimeSpan at = default)
    {
        var list = new List<Sent>();
        foreach (var f in frames)
        {
            if (EthernetFrame.TryParse(f, out var eth) != WireError.None || eth.EtherType != EtherType.Ipv4) continue;
            Assert.That(Ipv4Packet.TryParse(eth.Payload, out var ip), Is.EqualTo(WireError.None));
            if (ip.Protocol != IpProtocol.Igmp) continue;
            Assert.That(ip.IsChecksumValid, Is.True, "IPv4 header checksum");
            Assert.That(ip.TimeToLive, Is.EqualTo(1), "TTL 1 (RFC 3376 4)");
            Assert.That(ip.Options.ToArray(), Is.EqualTo(new byte[] { 0x94, 0x04, 0, 0 }), "Router Alert (RFC 2113)");
            Assert.That(eth.Destination, Is.EqualTo(MacAddress.ForIpv4Multicast(ip.Destination)), "the group's MAC");
            Assert.That(IgmpMessage.TryParse(ip.Payload, out var m), Is.EqualTo(WireError.None));
            Assert.That(m.IsChecksumValid, Is.True, "IGMP checksum");
            var records = new List<(MldRecordType, Ipv4Address)>();
            if (m.Type == IgmpType.V3MembershipReport)
            {
                int n = BinaryPrimitives.ReadUInt16BigEndian(ip.Payload[6..]);
                Assert.That(ip.Payload.Length, Is.EqualTo(8 + 8 * n), "records without sources");
                for (int i = 0; i < n; i++) records.Add(((MldRecordType)ip.Payload[8 + 8 * i], Ipv4Address.Read(ip.Payload[(12 + 8 * i)..])));
            }
            list.Add(new Sent(ip.Source, ip.Destination, m.Type, m.Group, records) { At = at });
        }
        return list;
    }

    internal static byte[] Query(int version, byte code, Ipv4Address group, Ipv4Address? source = null, Ipv4Address? destination = null)
    {
        var message = new byte[version == 3 ? 12 : 8];
        new IgmpHeader(IgmpType.MembershipQuery, version == 1 ? (byte)0 : code, group).WriteTo(message);
        if (version == 3)
        {
            message[8] = 2;     // QRV 2
            message[9] = 125;   // QQIC 125 s
            message[2] = message[3] = 0;
            IgmpHeader.FillChecksum(message);
        }
        var dst = destination ?? (group.IsAny ? AllSystems : group);
        return Frames.Ipv4(source ?? Ipv4Address.Any, dst, IpProtocol.Igmp, message, ttl: 1, dstMac: MacAddress.ForIpv4Multicast(dst));
    }

    private static byte[] OtherHostsReport(IgmpType type, Ipv4Address group)
    {
        var message = new byte[8];
        new IgmpHeader(type, 0, group).WriteTo(message);
        return Frames.Ipv4(Frames.PeerIp, group, IpProtocol.Igmp, message, ttl: 1, dstMac: MacAddress.ForIpv4Multicast(group));
    }

    /// <summary>Advances in 100 ms steps, collecting every IGMP message with the time it left.</summary>
    private static List<Sent> Run(StackHarness h, TimeSpan duration)
    {
        var list = new List<Sent>();
        var end = h.Clock.Now + duration;
        while (h.Clock.Now < end)
        {
            h.Advance(TimeSpan.FromMilliseconds(100));
            list.AddRange(Igmp(h.Drain(), h.Clock.Now));
        }
        return list;
    }

    [Test]
    public void A_join_sends_a_v3_state_change_report_at_once_and_again_within_the_unsolicited_interval_then_stops()
    {
        using var h = new StackHarness();
        var start = h.Clock.Now;
        h.Stack.JoinMulticast(Group);
        h.Stack.Poll(h.Clock.Now);
        var first = Igmp(h.Drain());
        Assert.That(first, Has.Count.EqualTo(1), "one report at once");
        Assert.That(first[0].Destination, Is.EqualTo(V3Routers));
        Assert.That(first[0].Source, Is.EqualTo(Frames.StackIp));
        Assert.That(first[0].Type, Is.EqualTo(IgmpType.V3MembershipReport));
        Assert.That(first[0].Records, Is.EqualTo(new[] { (MldRecordType.ChangeToExcludeMode, Group) }), "TO_EX{}: a plain join");
        var rest = Run(h, TimeSpan.FromSeconds(30));
        Assert.That(rest, Has.Count.EqualTo(1), "robustness 2: one repeat, then quiet");
        Assert.That(rest[0].At - start, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(1.1)), "within the unsolicited report interval (1 s)");
        Assert.That(rest[0].Records, Is.EqualTo(new[] { (MldRecordType.ChangeToExcludeMode, Group) }));
        Assert.That(h.Stack.Ipv4MulticastGroups, Is.EquivalentTo(new[] { AllSystems, Group }));
        Assert.That(h.Stack.Statistics.Snapshot().First(kv => kv.Key == "igmp.reports_sent").Value, Is.EqualTo(2));
    }

    [Test]
    public void Joins_are_counted_a_second_join_sends_nothing_and_only_the_last_leave_reports_to_in()
    {
        using var h = new StackHarness();
        h.Stack.JoinMulticast(Group);
        Run(h, TimeSpan.FromSeconds(3));
        h.Stack.JoinMulticast(Group);
        Assert.That(Run(h, TimeSpan.FromSeconds(3)), Is.Empty, "a second user of the group: nothing to report");
        h.Stack.LeaveMulticast(Group);
        Assert.That(Run(h, TimeSpan.FromSeconds(3)), Is.Empty, "one user is left");
        Assert.That(h.Stack.Ipv4MulticastGroups, Has.Member(Group));

        // Datagrams to the group still arrive while one user is left.
        var udp = h.Stack.OpenUdp(5000);
        h.Inject(Frames.Ipv4(Frames.PeerIp, Group, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Group, 4000, 5000, "hi"u8), dstMac: MacAddress.ForIpv4Multicast(Group)));
        Assert.That(udp.QueuedDatagrams, Is.EqualTo(1));

        h.Stack.LeaveMulticast(Group);
        var leave = Run(h, TimeSpan.FromSeconds(3));
        Assert.That(leave.Select(s => s.Records.Single()), Is.EqualTo(new[] { (MldRecordType.ChangeToIncludeMode, Group), (MldRecordType.ChangeToIncludeMode, Group) }),
            "TO_IN{} robustness times");
        Assert.That(leave.All(s => s.Destination == V3Routers), Is.True);
        Assert.That(h.Stack.Ipv4MulticastGroups, Has.No.Member(Group));
        h.Inject(Frames.Ipv4(Frames.PeerIp, Group, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Group, 4000, 5000, "hi"u8), dstMac: MacAddress.ForIpv4Multicast(Group)));
        Assert.That(udp.QueuedDatagrams, Is.EqualTo(1), "left: the group's datagrams are refused");
        Assert.That(h.Stack.Statistics.Snapshot().First(kv => kv.Key == "igmp.leaves_sent").Value, Is.EqualTo(2));
    }

    [Test]
    public void A_general_v3_query_from_0_0_0_0_is_answered_with_one_report_of_every_group_within_its_exponential_max_response_time()
    {
        using var h = new StackHarness();
        h.Stack.JoinMulticast(Group);
        h.Stack.JoinMulticast(Group2);
        Run(h, TimeSpan.FromSeconds(3));
        // Max Resp Code 0x81: exponent 0, mantissa 1 -> (0x10 | 1) << 3 = 136 tenths = 13.6 s (RFC 3376 4.1.1).
        var start = h.Clock.Now;
        h.Inject(Query(3, 0x81, Ipv4Address.Any, source: Ipv4Address.Any));
        var answers = Igmp(h.Drain());
        answers.AddRange(Run(h, TimeSpan.FromSeconds(20)));
        Assert.That(answers, Has.Count.EqualTo(1), "one current-state report (RFC 3376 5.2)");
        TestContext.Out.WriteLine($"answered after {(answers[0].At - start).TotalSeconds:F1} s");
        Assert.That(answers[0].At - start, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(13.6)));
        Assert.That(answers[0].Records, Is.EquivalentTo(new[] { (MldRecordType.ModeIsExclude, Group), (MldRecordType.ModeIsExclude, Group2) }),
            "IS_EX{} for both groups, never 224.0.0.1");
        Assert.That(h.Stack.Statistics.Igmp.Received, Is.EqualTo(1));
    }

    [Test]
    public void Answers_to_general_queries_are_spread_over_the_max_response_time_not_sent_at_once()
    {
        var delays = new List<double>();
        for (int seed = 1; seed <= 8; seed++)
        {
            using var h = new StackHarness(random: seed);
            h.Stack.JoinMulticast(Group);
            Run(h, TimeSpan.FromSeconds(3));
            var start = h.Clock.Now;
            h.Inject(Query(3, 100, Ipv4Address.Any));   // 10 s
            var answers = Run(h, TimeSpan.FromSeconds(11));
            Assert.That(answers, Has.Count.EqualTo(1));
            delays.Add((answers[0].At - start).TotalSeconds);
        }
        TestContext.Out.WriteLine("delays: " + string.Join(", ", delays.Select(d => d.ToString("F1"))));
        Assert.That(delays, Has.All.InRange(0.0, 10.0));
        Assert.That(delays.Distinct().Count(), Is.GreaterThan(4), "random delays");
    }

    [Test]
    public void A_group_specific_query_is_answered_for_that_group_only()
    {
        using var h = new StackHarness();
        h.Stack.JoinMulticast(Group);
        h.Stack.JoinMulticast(Group2);
        Run(h, TimeSpan.FromSeconds(3));
        h.Inject(Query(3, 10, Group2, source: Frames.PeerIp));
        var answers = Run(h, TimeSpan.FromSeconds(2));
        Assert.That(answers.SelectMany(a => a.Records), Is.EqualTo(new[] { (MldRecordType.ModeIsExclude, Group2) }));
        h.Inject(Query(3, 10, Ipv4Address.Parse("239.9.9.9"), source: Frames.PeerIp));
        Assert.That(Run(h, TimeSpan.FromSeconds(2)), Is.Empty, "a group we are not in");
    }

    [Test]
    public void A_v2_querier_switches_the_host_to_v2_reports_and_leaves_until_the_older_version_querier_timeout()
    {
        using var h = new StackHarness();
        h.Stack.JoinMulticast(Group);
        Run(h, TimeSpan.FromSeconds(3));
        var start = h.Clock.Now;
        h.Inject(Query(2, 50, Ipv4Address.Any, source: Frames.PeerIp));   // 5 s
        Assert.That(h.Stack.Ipv4.IgmpVersion(h.Clock.Now), Is.EqualTo(2));
        var answers = Run(h, TimeSpan.FromSeconds(6));
        Assert.That(answers, Has.Count.EqualTo(1));
        Assert.That(answers[0].Type, Is.EqualTo(IgmpType.V2MembershipReport));
        Assert.That(answers[0].Destination, Is.EqualTo(Group), "a v2 report goes to the group");
        Assert.That(answers[0].Group, Is.EqualTo(Group));
        Assert.That(answers[0].At - start, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(5)));

        h.Stack.JoinMulticast(Group2);
        var joined = Run(h, TimeSpan.FromSeconds(25));
        Assert.That(joined.Select(s => (s.Type, s.Destination)), Is.EqualTo(new[] { (IgmpType.V2MembershipReport, Group2), (IgmpType.V2MembershipReport, Group2) }),
            "unsolicited v2 reports, robustness times within the v2 interval (10 s)");
        Assert.That(joined[1].At - joined[0].At, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(10)));

        h.Stack.LeaveMulticast(Group2);
        var left = Run(h, TimeSpan.FromSeconds(15));
        Assert.That(left.Select(s => (s.Type, s.Destination, s.Group)), Is.EqualTo(new[] { (IgmpType.LeaveGroup, AllRouters, Group2) }), "one Leave Group to 224.0.0.2");

        // 260 s after the v2 query the host is back in v3 mode.
        Run(h, start + TimeSpan.FromSeconds(261) - h.Clock.Now);
        Assert.That(h.Stack.Ipv4.IgmpVersion(h.Clock.Now), Is.EqualTo(3));
        h.Stack.LeaveMulticast(Group);
        var v3 = Run(h, TimeSpan.FromSeconds(2));
        Assert.That(v3.Select(s => s.Type), Has.All.EqualTo(IgmpType.V3MembershipReport));
        Assert.That(v3.SelectMany(s => s.Records), Has.All.EqualTo((MldRecordType.ChangeToIncludeMode, Group)));
        Assert.That(v3, Has.Count.EqualTo(2));
    }

    [Test]
    public void In_v2_mode_another_members_report_suppresses_ours()
    {
        using var h = new StackHarness();
        h.Stack.JoinMulticast(Group);
        Run(h, TimeSpan.FromSeconds(3));
        h.Inject(Query(2, 100, Ipv4Address.Any, source: Frames.PeerIp));
        Assert.That(Igmp(h.Drain()), Is.Empty, "not at once (seeded delay)");
        h.Inject(OtherHostsReport(IgmpType.V2MembershipReport, Group));
        Assert.That(Run(h, TimeSpan.FromSeconds(11)), Is.Empty, "suppressed (RFC 2236 3)");

        // In v3 mode there is no suppression.
        using var v3 = new StackHarness();
        v3.Stack.JoinMulticast(Group);
        Run(v3, TimeSpan.FromSeconds(3));
        v3.Inject(Query(3, 100, Ipv4Address.Any, source: Frames.PeerIp));
        v3.Inject(OtherHostsReport(IgmpType.V2MembershipReport, Group));
        Assert.That(Run(v3, TimeSpan.FromSeconds(11)), Has.Count.EqualTo(1));
    }

    [Test]
    public void A_v1_querier_gets_v1_reports_after_up_to_10_seconds_and_no_leave()
    {
        using var h = new StackHarness();
        h.Stack.JoinMulticast(Group);
        Run(h, TimeSpan.FromSeconds(3));
        var start = h.Clock.Now;
        h.Inject(Query(1, 0, Ipv4Address.Any, source: Frames.PeerIp));
        Assert.That(h.Stack.Ipv4.IgmpVersion(h.Clock.Now), Is.EqualTo(1));
        var answers = Run(h, TimeSpan.FromSeconds(11));
        Assert.That(answers.Select(a => (a.Type, a.Destination)), Is.EqualTo(new[] { (IgmpType.V1MembershipReport, Group) }));
        Assert.That(answers[0].At - start, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(10)));
        h.Stack.LeaveMulticast(Group);
        Assert.That(Run(h, TimeSpan.FromSeconds(3)), Is.Empty, "IGMPv1 has no leave");
        Assert.That(h.Stack.Ipv4MulticastGroups, Has.No.Member(Group));
    }

    [Test]
    public void Absurd_max_response_times_are_decoded_and_stay_bounded()
    {
        using var h = new StackHarness();
        h.Stack.JoinMulticast(Group);
        Run(h, TimeSpan.FromSeconds(3));

        // The largest v3 code, 0xFF: (0x1F << 10) tenths = 3174.4 s.
        var start = h.Clock.Now;
        h.Inject(Query(3, 0xFF, Group, source: Frames.PeerIp));
        Assert.That(h.Stack.NextDeadline(h.Clock.Now), Is.Not.Null.And.LessThanOrEqualTo(start + TimeSpan.FromSeconds(3174.4)));
        var clock = h.Clock;
        clock.Advance(TimeSpan.FromSeconds(3174.4));
        h.Stack.Poll(clock.Now);
        Assert.That(Igmp(h.Drain()).SelectMany(s => s.Records), Is.EqualTo(new[] { (MldRecordType.ModeIsExclude, Group) }), "answered by 3174.4 s");

        // Code 0 in a v3 query: answer at once.
        h.Inject(Query(3, 0, Ipv4Address.Any, source: Frames.PeerIp));
        h.Stack.Poll(h.Clock.Now);
        Assert.That(Igmp(h.Drain()), Has.Count.EqualTo(1), "a zero maximum: at once");

        // A v2 code of 255: 25.5 s.
        h.Inject(Query(2, 255, Ipv4Address.Any, source: Frames.PeerIp));
        Assert.That(Run(h, TimeSpan.FromSeconds(25.6)).Select(s => s.Type), Is.EqualTo(new[] { IgmpType.V2MembershipReport }));
    }

    [Test]
    public void Malformed_igmp_is_counted_and_dropped()
    {
        using var h = new StackHarness();
        h.Stack.JoinMulticast(Group);
        Run(h, TimeSpan.FromSeconds(3));
        byte[] Raw(ReadOnlySpan<byte> message) => Frames.Ipv4(Frames.PeerIp, AllSystems, IpProtocol.Igmp, message, ttl: 1, dstMac: MacAddress.ForIpv4Multicast(AllSystems));

        h.Inject(Raw([0x11, 100, 0, 0]));   // 4 bytes
        var tenBytes = new byte[10];
        new IgmpHeader(IgmpType.MembershipQuery, 100, Ipv4Address.Any).WriteTo(tenBytes);
        tenBytes[2] = tenBytes[3] = 0;
        IgmpHeader.FillChecksum(tenBytes);
        h.Inject(Raw(tenBytes));            // a query of 9 to 11 bytes (RFC 3376 7.1)
        var manySources = new byte[16];
        new IgmpHeader(IgmpType.MembershipQuery, 100, Ipv4Address.Any).WriteTo(manySources);
        manySources[10] = 0xFF; manySources[11] = 0xFF;   // 65,535 sources in 4 bytes
        manySources[2] = manySources[3] = 0;
        IgmpHeader.FillChecksum(manySources);
        h.Inject(Raw(manySources));
        var badChecksum = new byte[8];
        new IgmpHeader(IgmpType.MembershipQuery, 100, Ipv4Address.Any).WriteTo(badChecksum);
        badChecksum[3] ^= 0x55;
        h.Inject(Raw(badChecksum));
        var unicastGroup = new byte[8];
        new IgmpHeader(IgmpType.MembershipQuery, 100, Ipv4Address.Parse("192.0.2.77")).WriteTo(unicastGroup);
        h.Inject(Raw(unicastGroup));
        var unknown = new byte[8];
        new IgmpHeader((IgmpType)0x99, 0, Group).WriteTo(unknown);
        h.Inject(Raw(unknown));

        var s = h.Stack.Statistics;
        Assert.That(s.Drops(DropReason.IgmpMalformed), Is.EqualTo(4), "short, 10-byte query, sources beyond the end, non-multicast group");
        Assert.That(s.Drops(DropReason.IgmpBadChecksum), Is.EqualTo(1));
        Assert.That(s.Drops(DropReason.IgmpIgnored), Is.EqualTo(1), "an unknown type");
        Assert.That(s.Igmp.Errors, Is.EqualTo(5));
        Assert.That(Run(h, TimeSpan.FromSeconds(15)), Is.Empty, "none of them was taken as a query");
        Assert.That(h.Stack.Ipv4.IgmpVersion(h.Clock.Now), Is.EqualTo(3), "nor switched the mode");
    }

    [Test]
    public void The_group_table_is_bounded_and_non_multicast_joins_are_refused()
    {
        using var h = new StackHarness(new NetworkStackOptions
        {
            MacAddress = Frames.StackMac, Address = Frames.StackIp, PrefixLength = 24, IgmpMaxGroups = 4,
        });
        for (int i = 0; i < 6; i++) h.Stack.JoinMulticast(new Ipv4Address(239, 0, 0, (byte)(i + 1)));
        Assert.That(h.Stack.Ipv4MulticastGroups, Has.Count.EqualTo(4), "224.0.0.1 and three more");
        Assert.That(h.Stack.Statistics.Drops(DropReason.IgmpTooManyGroups), Is.EqualTo(3));
        Assert.That(h.Stack.Ipv4.JoinMulticast(Frames.PeerIp, h.Clock.Now), Is.False);
        Assert.That(h.Stack.Ipv4.LeaveMulticast(Ipv4Address.Parse("239.9.9.9"), h.Clock.Now), Is.False);
    }

    [Test]
    public void An_answer_with_more_records_than_fit_the_mtu_is_split_into_several_reports()
    {
        using var h = new StackHarness(new NetworkStackOptions
        {
            MacAddress = Frames.StackMac, Address = Frames.StackIp, PrefixLength = 24, IgmpMaxGroups = 301,
        });
        for (int i = 0; i < 300; i++) h.Stack.JoinMulticast(new Ipv4Address(239, 2, (byte)(i >> 8), (byte)i));
        Run(h, TimeSpan.FromSeconds(3));
        h.Inject(Query(3, 0, Ipv4Address.Any));
        var answers = Igmp(h.Drain());
        // (1500 - 24 - 8) / 8 = 183 records fit one report under a 1500-byte MTU.
        Assert.That(answers.Select(a => a.Records.Count), Is.EqualTo(new[] { 183, 117 }));
        Assert.That(answers.SelectMany(a => a.Records).Select(r => r.Group).Distinct().Count(), Is.EqualTo(300));
    }

    [Test]
    public void An_igmp_report_and_a_query_answer_allocate_nothing_after_warm_up()
    {
        using var h = new StackHarness();
        h.Stack.JoinMulticast(Group);
        h.Stack.JoinMulticast(Group2);
        Run(h, TimeSpan.FromSeconds(3));
        var query = Query(3, 0, Ipv4Address.Any, source: Frames.PeerIp);   // answered at once
        var group3 = Ipv4Address.Parse("239.7.7.7");
        var otherReport = OtherHostsReport(IgmpType.V2MembershipReport, Group2);
        var sink = new byte[2048];
        long reports = 0;
        void Round()
        {
            h.Peer.TrySend(query);
            h.Peer.TrySend(otherReport);
            h.Stack.Poll(h.Clock.Now);
            h.Stack.JoinMulticast(group3);    // an unsolicited report
            h.Stack.Poll(h.Clock.Now);
            h.Stack.LeaveMulticast(group3);   // and a leave
            h.Stack.Poll(h.Clock.Now);
            while (h.Peer.TryReceive(sink) > 0) reports++;
        }
        for (int i = 0; i < 200; i++) Round();
        reports = 0;
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            for (int i = 0; i < 5_000; i++) Round();
        });
        Assert.That(allocated, Is.Zero, "bytes allocated answering queries");
        Assert.That(reports, Is.GreaterThanOrEqualTo(3 * 5_000), "every query answered, every join and leave reported");
    }
}
