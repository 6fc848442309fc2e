using TcpIpSharp.Diagnostics;
using TcpIpSharp.Net.Ipv6;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Hostile;

/// <summary>
/// Hostile IPv6 from the link (issue 14, Tests), in memory and virtual time, no network: floods of router
/// advertisements, neighbour solicitations and fragments, long and random extension-header chains, routing header
/// type 0, tiny overlapping fragments. Nothing throws (the harness asserts <see cref="StackInvariants"/>, IPv6 bounds
/// included, after every frame), every table ends at its documented bound (<see cref="Ipv6Options"/>, the neighbour
/// cache's <see cref="NetworkStackOptions.ArpCacheSize"/>, the reassembly bounds), and a second round of the same
/// flood leaves the heap where the first left it.
/// </summary>
[NonParallelizable]
public class Ipv6HostileTests
{
    private const int Kb = 1024;
    private static readonly Ipv6Options Opts6 = new();

    private static NetworkStackOptions Options => new()
    {
        MacAddress = Frames.StackMac, Address = Frames.StackIp, PrefixLength = 24, Ipv6 = Opts6,
    };

    private static StackHarness Start()
    {
        var h = new StackHarness(Options);
        h.Advance(TimeSpan.FromSeconds(3));   // the link-local address through DAD
        h.Drain();
        Assert.That(h.Stack.Ipv6Addresses.Single().State, Is.EqualTo(Ipv6AddressState.Preferred));
        return h;
    }

    private static long Counter(StackHarness h, string name) => h.Stack.Statistics.Snapshot().Where(kv => kv.Key == name).Sum(kv => kv.Value);

    // A solicitation for our address with the peer's link-layer option: the stack holds the peer STALE (RFC 4861 7.2.3),
    // so what it sends back leaves at once instead of waiting for a resolution nobody answers.
    private static void Teach(StackHarness h, Ipv6Address peer)
    {
        h.Inject(V6.Ns(peer, V6.SolicitedNode(V6.StackLinkLocal), V6.StackLinkLocal, Frames.PeerMac));
        h.Drain();
    }

    private static long Heap() => GC.GetTotalMemory(forceFullCollection: true);

    private static void InjectAll(StackHarness h, List<byte[]> frames)
    {
        for (int i = 0; i < frames.Count; i++)
        {
            h.Inject(frames[i]);
            if (i % 64 == 63) h.Drain();
        }
        h.Drain();
    }

    // Two rounds of a flood: the first fills every table (and warms up), the second must not grow the heap.
    private static long FloodTwice(StackHarness h, Func<int, List<byte[]>> round)
    {
        var first = round(1);
        var second = round(2);
        InjectAll(h, first);
        first.Clear();
        long before = Heap();
        InjectAll(h, second);
        long grown = Heap() - before;
        GC.KeepAlive(second);
        return grown;
    }

    private static Ipv6Address Random6(Random r, ulong high) => new(new UInt128(high, (ulong)r.NextInt64()));

    private static MacAddress RandomMac(Random r) => MacAddress.Parse($"02:{r.Next(256):x2}:{r.Next(256):x2}:{r.Next(256):x2}:{r.Next(256):x2}:{r.Next(256):x2}");

    [Test]
    public void A_router_advertisement_flood_with_thousands_of_prefixes_and_routers_stays_at_the_bounds()
    {
        using var h = Start();
        h.Stack.AfterFrame = StackInvariants.Check;
        long grown = FloodTwice(h, round =>
        {
            var r = new Random(round);
            // 1,500 advertisements from as many routers, each with 4 autonomous on-link prefixes, 2 RDNSS servers and an MTU.
            return [.. Enumerable.Range(0, 1500).Select(_ => V6.Ra(Random6(r, 0xFE80_0000_0000_0000), RandomMac(r), 1800,
                V6.PrefixOption(new Ipv6Address(new UInt128(0x2001_0DB8_0000_0000UL | (uint)r.Next(), 0)), 64, 600, 300),
                V6.PrefixOption(new Ipv6Address(new UInt128(0x2001_0DB8_0001_0000UL | (uint)r.Next(65536), 0)), 64, 600, 300),
                V6.PrefixOption(new Ipv6Address(new UInt128(0x2001_0DB8_0002_0000UL | (uint)r.Next(65536), 0)), 64, uint.MaxValue, uint.MaxValue),
                V6.PrefixOption(new Ipv6Address(new UInt128(0x2001_0DB8_0003_0000UL | (uint)r.Next(65536), 0)), r.Next(129), 600, 300),
                V6.RdnssOption(600, Random6(r, 0x2001_0DB8_0053_0000), Random6(r, 0x2001_0DB8_0053_0000)),
                V6.MtuOption((uint)r.Next(1200, 1600))))];
        });
        h.Advance(TimeSpan.FromSeconds(3));   // DAD of whatever SLAAC addresses were formed
        var v6 = h.Stack.Ipv6!;
        TestContext.Out.WriteLine($"after 3,000 advertisements with 12,000 prefixes: {v6.AddressCount} addresses, {v6.PrefixCount} prefixes, {v6.RouterCount} routers, " +
                                  $"{v6.DnsServers.Count} DNS servers, {v6.Neighbours.Count} neighbours, link MTU {v6.LinkMtu}, heap grown {grown:N0} B in the second round; drop.NdTableFull={Counter(h, "drop.NdTableFull")}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(v6.AddressCount, Is.EqualTo(Opts6.MaxAddresses));
            Assert.That(v6.PrefixCount, Is.EqualTo(Opts6.MaxPrefixes));
            Assert.That(v6.RouterCount, Is.EqualTo(Opts6.MaxRouters));
            Assert.That(v6.DnsServers, Has.Count.EqualTo(Opts6.MaxDnsServers));
            Assert.That(v6.Neighbours.Count, Is.LessThanOrEqualTo(Options.ArpCacheSize));
            Assert.That(v6.LinkMtu, Is.InRange(Ipv6Header.MinimumMtu, 1500));
            Assert.That(Counter(h, "drop.NdTableFull"), Is.GreaterThan(0), "what did not fit was counted");
            Assert.That(grown, Is.LessThan(64 * Kb), "the heap stays flat");
        }
        // Everything learned ages out: the router lifetime (30 min) and the prefixes' valid lifetime (10 min) end;
        // only the link-local address and the prefixes advertised with an infinite lifetime remain.
        h.Advance(TimeSpan.FromMinutes(31));
        Assert.That(v6.RouterCount, Is.Zero);
        Assert.That(v6.DnsServers, Is.Empty);
        Assert.That(h.Stack.Ipv6Addresses.Where(a => a.Origin == Ipv6AddressOrigin.Autoconfigured).All(a => a.ValidLifetime is null), Is.True);
    }

    [Test]
    public void A_neighbour_solicitation_flood_for_random_targets_keeps_the_neighbour_cache_and_its_queue_at_their_bounds()
    {
        using var h = Start();
        var o = Options;
        long grown = FloodTwice(h, round =>
        {
            var r = new Random(10 + round);
            var frames = new List<byte[]>();
            for (int i = 0; i < 2000; i++)
            {
                var mac = RandomMac(r);
                var source = Random6(r, 0xFE80_0000_0000_0000);
                // For a random target (not ours: dropped), for ours from a new neighbour (a STALE entry), and an echo
                // request from a never-seen neighbour without a solicitation (its reply waits for resolution: INCOMPLETE).
                var target = Random6(r, 0xFE80_0000_0000_0000);
                frames.Add(V6.Ns(source, V6.SolicitedNode(target), target, mac));
                frames.Add(V6.Ns(source, V6.SolicitedNode(V6.StackLinkLocal), V6.StackLinkLocal, mac));
                frames.Add(V6.Echo(Random6(r, 0xFE80_0000_0000_0000), V6.StackLinkLocal, 1, (ushort)i, 8, mac));
            }
            return frames;
        });
        var nd = h.Stack.Ipv6!.Neighbours;
        TestContext.Out.WriteLine($"after 12,000 solicitations and echo requests from 8,000 neighbours: {nd.Count} entries ({nd.IncompleteCount} resolving), " +
                                  $"{nd.QueuedFrames} frames queued; heap grown {grown:N0} B in the second round; drop.NdCacheFull={Counter(h, "drop.NdCacheFull")}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(nd.Count, Is.EqualTo(o.ArpCacheSize));
            Assert.That(nd.QueuedFrames, Is.LessThanOrEqualTo(o.ArpQueueTotal));
            Assert.That(grown, Is.LessThan(64 * Kb), "the heap stays flat");
        }
        // Resolution of the never-seen neighbours fails after MAX_MULTICAST_SOLICIT: their entries and frames go.
        h.Advance(TimeSpan.FromSeconds(5));
        Assert.That(nd.IncompleteCount, Is.Zero);
        Assert.That(nd.QueuedFrames, Is.Zero);
    }

    [Test]
    public void A_fragment_flood_stays_within_the_reassembly_bounds_and_times_out()
    {
        using var h = Start();
        var o = Options;
        long grown = FloodTwice(h, round =>
        {
            var r = new Random(20 + round);
            var data = new byte[1232];
            // First fragments of datagrams that never complete, from random sources, and middle pieces of others.
            return [.. Enumerable.Range(0, 3000).Select(i => V6.Fragment(Random6(r, 0x2001_0DB8_0000_0000), V6.StackLinkLocal, (uint)r.Next(), i % 2 == 0 ? 0 : 1232 * r.Next(1, 50), true, data))];
        });
        var reassembler = h.Stack.Ipv6!.Reassembler;
        TestContext.Out.WriteLine($"after 6,000 fragments: {reassembler.DatagramsInProgress} datagrams, {reassembler.BytesHeld:N0} bytes held; evicted {Counter(h, "drop.ReassemblyEvicted")}; heap grown {grown:N0} B in the second round");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reassembler.DatagramsInProgress, Is.LessThanOrEqualTo(o.ReassemblyMaxDatagrams));
            Assert.That(reassembler.BytesHeld, Is.LessThanOrEqualTo(o.ReassemblyMaxBytes));
            Assert.That(Counter(h, "drop.ReassemblyEvicted"), Is.GreaterThan(0));
            Assert.That(grown, Is.LessThan(64 * Kb), "the heap stays flat");
        }
        h.Advance(Opts6.ReassemblyTimeout + TimeSpan.FromSeconds(1));
        Assert.That(reassembler.DatagramsInProgress, Is.Zero, "RFC 8200 4.5: 60 s and they are gone");
        Assert.That(Counter(h, "drop.ReassemblyTimeout"), Is.GreaterThan(0));
    }

    [Test]
    public void Long_and_random_extension_header_chains_are_processed_or_dropped_never_thrown()
    {
        using var h = Start();
        h.Stack.AfterFrame = StackInvariants.Check;
        var source = Ipv6Address.Parse("fe80::77");
        Teach(h, source);
        // Chains of 1..170 destination-options headers (PadN) before an echo request, all within one 1,500-byte frame:
        // up to Ipv6HeaderChain.MaximumExtensionHeaders (8) answered, longer ones dropped and counted (the documented bound of the walk).
        int answered = 0;
        long malformedBefore = Counter(h, "drop.Ipv6Malformed");
        int[] lengths = [1, 2, 8, 9, 50, 100, 170];
        foreach (int n in lengths)
        {
            var echo = V6.EchoMessage(source, V6.StackLinkLocal, 9, (ushort)n, 8);
            var chain = new byte[n * 8 + echo.Length];
            for (int i = 0; i < n; i++)
            {
                chain[i * 8] = (byte)(i == n - 1 ? IpProtocol.Icmpv6 : IpProtocol.Ipv6DestinationOptions);
                chain[i * 8 + 2] = 1;   // PadN, 4 bytes
                chain[i * 8 + 3] = 4;
            }
            echo.CopyTo(chain, n * 8);
            h.Inject(V6.Packet(source, V6.StackLinkLocal, IpProtocol.Ipv6DestinationOptions, chain, srcMac: Frames.PeerMac));
            h.Advance(TimeSpan.FromMilliseconds(100));
            answered += h.Drain().Count(f => f.Length > 54 && f[12] == 0x86 && f[13] == 0xDD && f[54] == (byte)Icmpv6Type.EchoReply);
        }
        long tooLong = Counter(h, "drop.Ipv6Malformed") - malformedBefore;
        // 3,000 random chains: random header kinds, lengths and contents, truncated anywhere.
        var r = new Random(30);
        byte[] kinds = [0, 43, 44, 60, 59, 58, 17, 6, 51, 50, 135];
        for (int i = 0; i < 3000; i++)
        {
            var payload = new byte[r.Next(0, 1400)];
            r.NextBytes(payload);
            for (int p = 0; p + 1 < payload.Length && r.Next(4) != 0; p += 8 * (payload[p + 1] % 4 + 1))
            {
                payload[p] = kinds[r.Next(kinds.Length)];
                payload[p + 1] = (byte)r.Next(4);
            }
            var destination = r.Next(3) == 0 ? V6.AllNodes : V6.StackLinkLocal;
            h.Inject(V6.Packet(source, destination, (IpProtocol)kinds[r.Next(kinds.Length)], payload, (byte)r.Next(256)));
            if (i % 64 == 0) h.Drain();
        }
        h.Drain();
        TestContext.Out.WriteLine($"echo through chains of {string.Join(", ", lengths)} destination-options headers: {answered} answered, {tooLong} dropped as malformed; after 3,000 random chains: ipv6.errors={Counter(h, "ipv6.errors")} drop.Ipv6Malformed={Counter(h, "drop.Ipv6Malformed")} icmp errors sent={Counter(h, "icmp.errors_sent")}");
        Assert.That(answered, Is.EqualTo(3), "chains of 1, 2 and 8 headers");
        Assert.That(tooLong, Is.EqualTo(4), "chains of 9, 50, 100 and 170 headers");
    }

    [Test]
    public void Routing_header_type_0_with_segments_left_gets_a_parameter_problem_and_is_never_forwarded()
    {
        using var h = Start();
        var source = Ipv6Address.Parse("fe80::78");
        Teach(h, source);
        var echo = V6.EchoMessage(source, V6.StackLinkLocal, 5, 1, 8);
        foreach (byte segmentsLeft in new byte[] { 1, 0 })
        {
            var rh0 = new byte[24 + echo.Length];
            rh0[0] = (byte)IpProtocol.Icmpv6;
            rh0[1] = 2;             // 16 bytes of address after the first 8
            rh0[2] = 0;             // type 0 (RFC 5095: deprecated)
            rh0[3] = segmentsLeft;
            Ipv6Address.Parse("2001:db8::99").WriteTo(rh0.AsSpan(8));
            echo.CopyTo(rh0, 24);
            h.Inject(V6.Packet(source, V6.StackLinkLocal, IpProtocol.Ipv6Routing, rh0));
            h.Advance(TimeSpan.FromMilliseconds(200));
            var sent = h.Drain().Where(f => f.Length > 54 && f[12] == 0x86 && f[13] == 0xDD).ToList();
            TestContext.Out.WriteLine($"routing header type 0, segments left {segmentsLeft}: the stack sent {string.Join(", ", sent.Select(f => $"ICMPv6 type {f[54]} code {f[55]} to {Ipv6Address.Read(f.AsSpan(38))}"))}");
            Assert.That(sent.Any(f => Ipv6Address.Read(f.AsSpan(38)) == Ipv6Address.Parse("2001:db8::99")), Is.False, "never toward the listed address");
            if (segmentsLeft > 0)
            {
                // RFC 5095 3 / RFC 8200 4.4: parameter problem code 0 pointing at the Segments Left field... or at the routing type.
                Assert.That(sent, Has.Exactly(1).Matches<byte[]>(f => f![54] == (byte)Icmpv6Type.ParameterProblem && f[55] == 0));
                Assert.That(sent.Any(f => f[54] == (byte)Icmpv6Type.EchoReply), Is.False);
            }
            // Segments left 0: the wire layer refuses type 0 outright and drops the packet silently (no answer at all).
            // RFC 5095 3 would treat it as an unrecognised type, which RFC 8200 4.4 ignores at segments left 0 (Linux
            // answers); either way nothing goes toward the listed address.
            else Assert.That(sent.Any(f => f[54] == (byte)Icmpv6Type.ParameterProblem), Is.False);
        }
    }

    [Test]
    public void Tiny_overlapping_fragments_drop_the_datagram_and_tiny_clean_ones_reassemble()
    {
        using var h = Start();
        h.Stack.AfterFrame = StackInvariants.Check;
        var source = Ipv6Address.Parse("fe80::79");
        Teach(h, source);
        var echo = V6.EchoMessage(source, V6.StackLinkLocal, 6, 1, 56);   // 64 bytes: eight 8-byte pieces
        h.Drain();

        // Clean, 8 bytes each, in reverse order: reassembled and answered.
        for (int off = 56; off >= 0; off -= 8) h.Inject(V6.Fragment(source, V6.StackLinkLocal, 100, off, off < 56, echo.AsSpan(off, 8)));
        Assert.That(h.Drain().Count(f => f.Length > 54 && f[54] == (byte)Icmpv6Type.EchoReply), Is.EqualTo(1));

        // Overlaps (RFC 5722): 16 bytes at 0, 16 at 8 with other bytes, then the rest: dropped whole, never answered.
        var other = (byte[])echo.Clone();
        other[12] ^= 0xFF;
        h.Inject(V6.Fragment(source, V6.StackLinkLocal, 101, 0, true, echo.AsSpan(0, 16)));
        h.Inject(V6.Fragment(source, V6.StackLinkLocal, 101, 8, true, other.AsSpan(8, 16)));
        for (int off = 24; off < 64; off += 8) h.Inject(V6.Fragment(source, V6.StackLinkLocal, 101, off, off < 56, echo.AsSpan(off, 8)));
        // An exact duplicate is ignored, a piece inside another with different bytes is an overlap.
        for (int off = 0; off < 64; off += 8)
        {
            h.Inject(V6.Fragment(source, V6.StackLinkLocal, 102, off, off < 56, echo.AsSpan(off, 8)));
            if (off == 16) h.Inject(V6.Fragment(source, V6.StackLinkLocal, 102, off, true, echo.AsSpan(off, 8)));
        }
        var replies = h.Drain().Where(f => f.Length > 54 && f[54] == (byte)Icmpv6Type.EchoReply).ToList();
        TestContext.Out.WriteLine($"tiny fragments: drop.ReassemblyOverlap={Counter(h, "drop.ReassemblyOverlap")}, replies to the overlapping and duplicated datagrams: {replies.Count}");
        Assert.That(Counter(h, "drop.ReassemblyOverlap"), Is.GreaterThanOrEqualTo(1));
        Assert.That(replies, Has.Count.EqualTo(1), "only the datagram with an exact duplicate is answered");

        // A flood of 8-byte overlapping pieces for many datagrams: bounded, and nothing delivered.
        var r = new Random(40);
        for (int i = 0; i < 4000; i++)
            h.Inject(V6.Fragment(source, V6.StackLinkLocal, (uint)r.Next(16), 8 * r.Next(16), true, echo.AsSpan(8 * r.Next(8), 8)));
        Assert.That(h.Drain().Count(f => f.Length > 54 && f[54] == (byte)Icmpv6Type.EchoReply), Is.Zero);
        Assert.That(h.Stack.Ipv6!.Reassembler.DatagramsInProgress, Is.LessThanOrEqualTo(Options.ReassemblyMaxDatagrams));
    }
}
