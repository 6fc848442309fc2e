using TcpIpSharp.Net;
using TcpIpSharp.Net.Ipv6;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>
/// IPv6's timers and state machines in virtual time, one stack driven by raw frames (issue 14, Tests): the NUD states
/// (RFC 4861 7.3), SLAAC lifetimes and the two-hour rule (RFC 4862 5.5.3), path MTU learning and aging (RFC 8201),
/// reassembly of 5 fragments in every order with duplicates and timeouts (RFC 8200 4.5), MLD report timing (RFC 3810).
/// </summary>
public class Ipv6StateMachineTests
{
    private static readonly Ipv6Address Peer = Ipv6Address.Parse("fe80::1"), Global = Ipv6Address.Parse("2001:db8::2");

    private static StackHarness Start(Ipv6Options? v6 = null)
    {
        var h = new StackHarness(new NetworkStackOptions { MacAddress = Frames.StackMac, Address = Frames.StackIp, PrefixLength = 24, Ipv6 = v6 ?? new Ipv6Options() });
        h.Advance(TimeSpan.FromSeconds(3));
        h.Drain();
        return h;
    }

    private static NeighbourCache.State? State(StackHarness h, Ipv6Address a)
    {
        var nd = h.Stack.Ipv6!.Neighbours;
        int slot = nd.Find(a);
        return slot < 0 ? null : nd[slot].State;
    }

    private static List<byte[]> Icmp(List<byte[]> frames, Icmpv6Type type, int at = 54) => [.. frames.Where(f => f.Length > at && f[12] == 0x86 && f[13] == 0xDD && f[at] == (byte)type)];

    [Test]
    public void Nud_goes_incomplete_reachable_stale_delay_probe_and_removed()
    {
        using var h = Start();
        h.Inject(V6.Echo(Peer, V6.StackLinkLocal, 1, 1));   // the reply needs the peer's MAC: INCOMPLETE, multicast NS
        Assert.That(State(h, Peer), Is.EqualTo(NeighbourCache.State.Incomplete));
        var ns = Icmp(h.Drain(), Icmpv6Type.NeighborSolicitation);
        Assert.That(ns, Has.Count.EqualTo(1));
        Assert.That(Ipv6Address.Read(ns[0].AsSpan(38)), Is.EqualTo(V6.SolicitedNode(Peer)), "to the solicited-node group");

        h.Inject(V6.Na(Peer, V6.StackLinkLocal, Peer, Frames.PeerMac, solicited: true));
        Assert.That(State(h, Peer), Is.EqualTo(NeighbourCache.State.Reachable));
        Assert.That(Icmp(h.Drain(), Icmpv6Type.EchoReply), Has.Count.EqualTo(1), "the queued reply leaves");

        h.Advance(TimeSpan.FromSeconds(31));   // REACHABLE_TIME 30 s
        Assert.That(State(h, Peer), Is.EqualTo(NeighbourCache.State.Stale));

        h.Inject(V6.Echo(Peer, V6.StackLinkLocal, 1, 2));   // using a STALE entry: sent at once, DELAY
        Assert.That(Icmp(h.Drain(), Icmpv6Type.EchoReply), Has.Count.EqualTo(1));
        Assert.That(State(h, Peer), Is.EqualTo(NeighbourCache.State.Delay));

        h.Advance(TimeSpan.FromSeconds(5.1));  // DELAY_FIRST_PROBE_TIME 5 s: PROBE, unicast NS to the known MAC
        Assert.That(State(h, Peer), Is.EqualTo(NeighbourCache.State.Probe));
        var probe = Icmp(h.Drain(), Icmpv6Type.NeighborSolicitation);
        Assert.That(probe, Has.Count.EqualTo(1));
        Assert.That(MacAddress.Read(probe[0]), Is.EqualTo(Frames.PeerMac), "a unicast probe");

        h.Advance(TimeSpan.FromSeconds(3.5));  // MAX_UNICAST_SOLICIT 3, RETRANS_TIMER 1 s, no answer: removed
        Assert.That(Icmp(h.Drain(), Icmpv6Type.NeighborSolicitation), Has.Count.EqualTo(2), "two more probes");
        Assert.That(State(h, Peer), Is.Null);
    }

    [Test]
    public void A_probe_answered_makes_the_neighbour_reachable_again()
    {
        using var h = Start();
        h.Inject(V6.Echo(Peer, V6.StackLinkLocal, 1, 1));
        h.Inject(V6.Na(Peer, V6.StackLinkLocal, Peer, Frames.PeerMac, solicited: true));
        h.Advance(TimeSpan.FromSeconds(31));
        h.Inject(V6.Echo(Peer, V6.StackLinkLocal, 1, 2));
        h.Advance(TimeSpan.FromSeconds(5.1));
        Assert.That(State(h, Peer), Is.EqualTo(NeighbourCache.State.Probe));
        h.Inject(V6.Na(Peer, V6.StackLinkLocal, Peer, Frames.PeerMac, solicited: true));
        Assert.That(State(h, Peer), Is.EqualTo(NeighbourCache.State.Reachable));
        h.Advance(TimeSpan.FromSeconds(5));
        Assert.That(State(h, Peer), Is.EqualTo(NeighbourCache.State.Reachable));
    }

    [Test]
    public void Incomplete_resolution_fails_after_three_solicitations_and_drops_the_queue()
    {
        using var h = Start();
        h.Inject(V6.Echo(Peer, V6.StackLinkLocal, 1, 1));
        h.Advance(TimeSpan.FromSeconds(3.5));
        Assert.That(Icmp(h.Drain(), Icmpv6Type.NeighborSolicitation), Has.Count.EqualTo(3), "MAX_MULTICAST_SOLICIT");
        Assert.That(State(h, Peer), Is.Null);
        Assert.That(h.Stack.Ipv6!.Neighbours.QueuedFrames, Is.Zero);
    }

    private static Ipv6AddressInfo? Slaac(StackHarness h) => h.Stack.Ipv6Addresses.SingleOrDefault(a => a.Origin == Ipv6AddressOrigin.Autoconfigured);

    private static readonly Ipv6Address Prefix = Ipv6Address.Parse("2001:db8:1::");

    [Test]
    public void A_slaac_address_goes_tentative_preferred_deprecated_and_removed_with_its_lifetimes()
    {
        using var h = Start();
        h.Inject(V6.Ra(Peer, Frames.PeerMac, 1800, V6.PrefixOption(Prefix, 64, valid: 60, preferred: 30)));
        Assert.That(Slaac(h)!.State, Is.EqualTo(Ipv6AddressState.Tentative));
        Assert.That(Slaac(h)!.Address, Is.EqualTo(new Ipv6Address(Prefix.Value | Ipv6Layer.ModifiedEui64(Frames.StackMac))));
        h.Advance(TimeSpan.FromSeconds(2.5));
        Assert.That(Slaac(h)!.State, Is.EqualTo(Ipv6AddressState.Preferred));
        h.Advance(TimeSpan.FromSeconds(28));
        Assert.That(Slaac(h)!.State, Is.EqualTo(Ipv6AddressState.Deprecated));
        Assert.That(h.Stack.SourceAddressFor(Ipv6Address.Parse("2001:db8:9::1")), Is.EqualTo((IpAddress)Slaac(h)!.Address), "deprecated, but the only global one");
        h.Advance(TimeSpan.FromSeconds(30));
        Assert.That(Slaac(h), Is.Null, "valid lifetime over: removed");
    }

    [Test]
    public void The_source_chosen_for_a_destination_follows_every_address_change()
    {
        // The layer keeps its last answer per destination: each change of an address must clear it. Asked before,
        // during and after the SLAAC address's life, for the same destination each time.
        using var h = Start();
        var far = Ipv6Address.Parse("2001:db8:9::1");
        Assert.That(h.Stack.SourceAddressFor(far), Is.EqualTo((IpAddress)V6.StackLinkLocal), "only the link-local address");
        h.Inject(V6.Ra(Peer, Frames.PeerMac, 1800, V6.PrefixOption(Prefix, 64, valid: 60, preferred: 30)));
        Assert.That(h.Stack.SourceAddressFor(far), Is.EqualTo((IpAddress)V6.StackLinkLocal), "the new address is tentative");
        h.Advance(TimeSpan.FromSeconds(2.5));
        Assert.That(h.Stack.SourceAddressFor(far), Is.EqualTo((IpAddress)Slaac(h)!.Address), "preferred now");
        h.Advance(TimeSpan.FromSeconds(58));
        Assert.That(Slaac(h), Is.Null);
        Assert.That(h.Stack.SourceAddressFor(far), Is.EqualTo((IpAddress)V6.StackLinkLocal), "removed: back to link-local");
    }

    [Test]
    public void The_two_hour_rule_keeps_a_long_valid_lifetime_from_being_cut_short()
    {
        using var h = Start();
        h.Inject(V6.Ra(Peer, Frames.PeerMac, 1800, V6.PrefixOption(Prefix, 64, valid: 10_000, preferred: 5_000)));
        h.Advance(TimeSpan.FromSeconds(3));
        // A (possibly forged) advertisement with 60 s: remaining 10,000 s > 2 h, so it becomes 2 h, not 60 s.
        h.Inject(V6.Ra(Peer, Frames.PeerMac, 1800, V6.PrefixOption(Prefix, 64, valid: 60, preferred: 30)));
        Assert.That(Slaac(h)!.ValidLifetime, Is.EqualTo(TimeSpan.FromHours(2)));
        Assert.That(Slaac(h)!.PreferredLifetime, Is.EqualTo(TimeSpan.FromSeconds(30)), "the preferred lifetime is taken as is");
        // With 2 h or less remaining, a shorter valid lifetime is ignored.
        h.Advance(TimeSpan.FromMinutes(30));
        h.Inject(V6.Ra(Peer, Frames.PeerMac, 1800, V6.PrefixOption(Prefix, 64, valid: 60, preferred: 30)));
        Assert.That(Slaac(h)!.ValidLifetime, Is.EqualTo(TimeSpan.FromMinutes(90)));
        // A longer one than 2 h is always taken.
        h.Inject(V6.Ra(Peer, Frames.PeerMac, 1800, V6.PrefixOption(Prefix, 64, valid: 3 * 3600, preferred: 3600)));
        Assert.That(Slaac(h)!.ValidLifetime, Is.EqualTo(TimeSpan.FromHours(3)));
        Assert.That(Slaac(h)!.State, Is.EqualTo(Ipv6AddressState.Preferred));
    }

    // A Packet Too Big from the default router about a packet we sent to an off-link destination.
    private static byte[] PacketTooBig(Ipv6Address destination, uint mtu)
    {
        var quote = new byte[Ipv6Header.Size + 8];
        new Ipv6Header(Global, destination, IpProtocol.Udp, 1400, 64).WriteTo(quote);
        var body = new byte[4 + quote.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(body, mtu);
        quote.CopyTo(body, 4);
        return V6.Icmp(Peer, Global, Icmpv6Type.PacketTooBig, 0, body, 64);
    }

    [Test]
    public void Path_mtu_is_learned_from_packet_too_big_never_below_1280_never_raised_and_ages_back_up()
    {
        using var h = Start(new Ipv6Options { StaticAddresses = [(Global, 64)], StaticGateway = Peer });
        var far = Ipv6Address.Parse("2001:db8:5::9");
        var v6 = h.Stack.Ipv6!;
        TimeSpan Now() => h.Clock.Now;
        Assert.That(v6.PathMtu(far, Now()), Is.EqualTo(1500));
        h.Inject(PacketTooBig(far, 1400));
        Assert.That(v6.PathMtu(far, Now()), Is.EqualTo(1400));
        h.Inject(PacketTooBig(far, 1450));
        Assert.That(v6.PathMtu(far, Now()), Is.EqualTo(1400), "a larger MTU does not raise it (RFC 8201 4)");
        h.Inject(PacketTooBig(far, 600));
        Assert.That(v6.PathMtu(far, Now()), Is.EqualTo(1280), "never below the IPv6 minimum");
        Assert.That(v6.PathMtu(Ipv6Address.Parse("2001:db8:5::10"), Now()), Is.EqualTo(1500), "per destination");
        h.Advance(TimeSpan.FromMinutes(9));
        Assert.That(v6.PathMtu(far, Now()), Is.EqualTo(1280));
        h.Advance(TimeSpan.FromMinutes(1.1));
        Assert.That(v6.PathMtu(far, Now()), Is.EqualTo(1500), "PathMtuAging (10 min): the link's MTU is tried again");
        h.Inject(PacketTooBig(far, 1300));
        Assert.That(v6.PathMtu(far, Now()), Is.EqualTo(1300), "and learned again");
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1) { yield return items; yield break; }
        for (int i = 0; i < items.Length; i++)
            foreach (var rest in Permutations([.. items[..i], .. items[(i + 1)..]]))
                yield return [items[i], .. rest];
    }

    [Test]
    public void Five_fragments_reassemble_in_every_one_of_the_120_orders_with_and_without_duplicates()
    {
        using var h = Start();
        h.Inject(V6.Ns(Peer, V6.SolicitedNode(V6.StackLinkLocal), V6.StackLinkLocal, Frames.PeerMac));
        h.Drain();
        var echo = V6.EchoMessage(Peer, V6.StackLinkLocal, 3, 1, 72);   // 80 bytes: five pieces of 16
        uint id = 1000;
        int orders = 0;
        foreach (var order in Permutations([0, 1, 2, 3, 4]))
            foreach (bool duplicate in new[] { false, true })
            {
                id++;
                for (int k = 0; k < order.Length; k++)
                {
                    int piece = order[k];
                    var fragment = V6.Fragment(Peer, V6.StackLinkLocal, id, piece * 16, piece < 4, echo.AsSpan(piece * 16, 16));
                    h.Inject(fragment);
                    if (duplicate && k < 4) h.Inject(fragment);   // every piece but the last twice
                    Assert.That(Icmp(h.Drain(), Icmpv6Type.EchoReply), Has.Count.EqualTo(k == 4 ? 1 : 0), $"order {string.Join(",", order)} after {k + 1}");
                }
                orders++;
            }
        Assert.That(orders, Is.EqualTo(240));
        Assert.That(h.Stack.Ipv6!.Reassembler.DatagramsInProgress, Is.Zero);
    }

    [TestCase(true), TestCase(false)]
    public void An_incomplete_datagram_times_out_after_60_s_with_time_exceeded_only_when_the_first_fragment_came(bool firstCame)
    {
        using var h = Start();
        h.Inject(V6.Ns(Peer, V6.SolicitedNode(V6.StackLinkLocal), V6.StackLinkLocal, Frames.PeerMac));
        h.Drain();
        var echo = V6.EchoMessage(Peer, V6.StackLinkLocal, 3, 1, 72);
        foreach (int piece in firstCame ? new[] { 0, 1, 2, 4 } : new[] { 1, 2, 3, 4 })
            h.Inject(V6.Fragment(Peer, V6.StackLinkLocal, 77, piece * 16, piece < 4, echo.AsSpan(piece * 16, 16)));
        h.Advance(TimeSpan.FromSeconds(59));
        Assert.That(h.Stack.Ipv6!.Reassembler.DatagramsInProgress, Is.EqualTo(1));
        Assert.That(Icmp(h.Drain(), Icmpv6Type.TimeExceeded), Is.Empty);
        h.Advance(TimeSpan.FromSeconds(1.1));
        Assert.That(h.Stack.Ipv6!.Reassembler.DatagramsInProgress, Is.Zero);
        var exceeded = Icmp(h.Drain(), Icmpv6Type.TimeExceeded);
        Assert.That(exceeded, Has.Count.EqualTo(firstCame ? 1 : 0));
        if (firstCame) Assert.That(exceeded[0][55], Is.EqualTo(1), "code 1: fragment reassembly time exceeded");
    }

    // MLDv2 reports go out with a hop-by-hop Router Alert header: the message at 14 + 40 + 8; a record's type at +8, its group at +12.
    private static List<(byte Record, Ipv6Address Group)> Reports(List<byte[]> frames)
        => [.. Icmp(frames, Icmpv6Type.MulticastListenerReportV2, 62).Select(f => (f[70], Ipv6Address.Read(f.AsSpan(74))))];

    [Test]
    public void Mld_reports_on_join_answers_a_query_within_its_delay_and_reports_leaving()
    {
        using var h = Start();
        var group = Ipv6Address.Parse("ff05::1234");
        h.Stack.JoinMulticast(group);
        h.Stack.Poll(h.Clock.Now);
        var first = Reports(h.Drain()).Where(r => r.Group == group).ToList();
        Assert.That(first, Has.Count.EqualTo(1), "an unsolicited report at once");
        Assert.That(first[0].Record, Is.EqualTo((byte)MldRecordType.ChangeToExcludeMode));
        h.Advance(TimeSpan.FromSeconds(1.1));
        Assert.That(Reports(h.Drain()).Count(r => r.Group == group), Is.EqualTo(1), "repeated once (robustness 2) within the unsolicited report interval");
        h.Advance(TimeSpan.FromSeconds(10));
        Assert.That(Reports(h.Drain()), Is.Empty, "then quiet");

        // A general query with a 2 s maximum response delay: every reported group answered within 2 s, not at once.
        var query = new byte[24];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(query, 2000);
        var hopByHop = new byte[] { (byte)IpProtocol.Icmpv6, 0, 5, 2, 0, 0, 1, 0 };   // Router Alert (MLD), PadN
        var message = new byte[4 + query.Length];
        message[0] = (byte)Icmpv6Type.MulticastListenerQuery;
        query.CopyTo(message, 4);
        Icmpv6Header.FillChecksum(message, Peer, V6.AllNodes);
        h.Inject(V6.Packet(Peer, V6.AllNodes, IpProtocol.HopByHopOptions, [.. hopByHop, .. message], hopLimit: 1));
        Assert.That(Reports(h.Drain()).Where(r => r.Group == group), Is.Empty.Or.Count.LessThanOrEqualTo(1));
        h.Advance(TimeSpan.FromSeconds(2.1));
        var answered = Reports(h.Drain());
        TestContext.Out.WriteLine("answers to the general query: " + string.Join(", ", answered.Select(r => $"{r.Group} record {r.Record}")));
        Assert.That(answered.Where(r => r.Group == group).Select(r => r.Record), Has.Member((byte)MldRecordType.ModeIsExclude));
        Assert.That(answered.Select(r => r.Group), Has.Member(V6.SolicitedNode(V6.StackLinkLocal)), "the solicited-node group too");
        Assert.That(answered.Select(r => r.Group), Has.No.Member(V6.AllNodes), "never ff02::1");

        h.Stack.LeaveMulticast(group);
        h.Advance(TimeSpan.FromSeconds(1.1));
        var leaving = Reports(h.Drain()).Where(r => r.Group == group).ToList();
        Assert.That(leaving, Has.Count.EqualTo(2), "the leave, robustness times");
        Assert.That(leaving.All(r => r.Record == (byte)MldRecordType.ChangeToIncludeMode), Is.True);
        Assert.That(h.Stack.Ipv6!.Groups, Has.No.Member(group));
    }
}
