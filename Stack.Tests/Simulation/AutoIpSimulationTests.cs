using TcpIpSharp.Links;
using TcpIpSharp.Services.AutoIp;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>
/// IPv4 link-local addressing (RFC 3927) in virtual time: the probe/announce schedule seen on the wire, defence and
/// giving up, two stacks that pick the same address, the rate limit after ten conflicts under a conflict flood, DHCP's
/// fall-back and hand-back, and link-local routing and ARP.
/// </summary>
public class AutoIpSimulationTests
{
    private static readonly MacAddress OtherMac = MacAddress.Parse("02:00:00:00:00:ee");

    private readonly record struct SeenArp(TimeSpan At, MacAddress EthernetDestination, ArpOperation Operation, MacAddress SenderMac, Ipv4Address Sender, Ipv4Address Target);

    /// <summary>A stack on one end of the pair, a raw end on the other that records ARP and forges it.</summary>
    private sealed class RawRig : IDisposable
    {
        private readonly byte[] _buffer = new byte[2048];
        public ManualClock Clock { get; } = new();
        public NetworkStack Stack { get; }
        public InMemoryLink Raw { get; }
        public List<IStackService> Services { get; } = [];
        public List<SeenArp> Arp { get; } = [];
        public Action<SeenArp>? OnArp { get; set; }

        public RawRig(NetworkStackOptions options, int seed = 1)
        {
            var (a, b) = InMemoryLink.CreatePair();
            Stack = new NetworkStack(a, options, new SeededRandomSource(seed));
            Raw = b;
        }

        public T Add<T>(T s) where T : IStackService { Services.Add(s); s.Start(Stack, Clock.Now); return s; }

        public void Step()
        {
            Clock.Advance(TimeSpan.FromMilliseconds(10));
            Stack.Poll(Clock.Now);
            foreach (var s in Services) s.Poll(Stack, Clock.Now);
            int n;
            while ((n = Raw.TryReceive(_buffer)) > 0)
            {
                var frame = _buffer.AsSpan(0, n);
                if (EthernetFrame.TryParse(frame, out var eth) != WireError.None || eth.EtherType != EtherType.Arp) continue;
                if (ArpPacket.TryParse(eth.Payload, out var arp) != WireError.None) continue;
                var seen = new SeenArp(Clock.Now, eth.Destination, arp.Operation, arp.SenderHardwareAddress, arp.SenderProtocolAddress, arp.TargetProtocolAddress);
                Arp.Add(seen);
                OnArp?.Invoke(seen);
            }
        }

        public void RunFor(TimeSpan span) { var end = Clock.Now + span; while (Clock.Now < end) Step(); }

        public void RunUntil(Func<bool> done, TimeSpan limit, string what)
        {
            var end = Clock.Now + limit;
            while (!done()) { if (Clock.Now >= end) Assert.Fail($"{what}: not within {limit.TotalSeconds} s"); Step(); }
        }

        public void Forge(ArpOperation op, MacAddress senderMac, Ipv4Address sender, Ipv4Address target, MacAddress? destination = null)
        {
            var frame = new byte[EthernetHeader.Size + ArpHeader.Size];
            new EthernetHeader(destination ?? MacAddress.Broadcast, senderMac, EtherType.Arp).WriteTo(frame);
            new ArpHeader(op, senderMac, sender, MacAddress.Zero, target).WriteTo(frame.AsSpan(EthernetHeader.Size));
            Raw.TrySend(frame);
        }

        public void Dispose() => Stack.Dispose();
    }

    private static NetworkStackOptions NoAddress(string mac = "02:00:00:00:00:0a") => new() { MacAddress = MacAddress.Parse(mac) };

    [Test]
    public void Probes_then_announces_on_RFC_3927_s_schedule()
    {
        using var rig = new RawRig(NoAddress());
        var auto = rig.Add(new AutoIpClient());
        rig.RunUntil(() => auto.State == AutoIpState.Bound, TimeSpan.FromSeconds(15), "bound");
        rig.RunFor(TimeSpan.FromSeconds(5));
        var x = auto.Address;
        TestContext.Out.WriteLine($"chose {x}; ARP sent: " + string.Join("; ", rig.Arp.Select(a => $"{a.At.TotalSeconds:0.00}s {a.Operation} {a.Sender}->{a.Target}")));
        Assert.That(x.Value, Is.InRange(AutoIpClient.FirstAddress.Value, AutoIpClient.LastAddress.Value));
        Assert.That((rig.Stack.Address, rig.Stack.PrefixLength, rig.Stack.Gateway), Is.EqualTo((x, 16, Ipv4Address.Any)));
        Assert.That(rig.Arp, Has.Count.EqualTo(5), "three probes and two announcements, nothing else");
        Assert.That(rig.Arp.All(a => a.EthernetDestination == MacAddress.Broadcast && a.Operation == ArpOperation.Request && a.Target == x));
        var probes = rig.Arp.Take(3).ToList();
        var announcements = rig.Arp.Skip(3).ToList();
        Assert.That(probes.All(p => p.Sender.IsAny), "probes have sender 0.0.0.0");
        Assert.That(announcements.All(a => a.Sender == x), "announcements have sender = target");
        var step = TimeSpan.FromMilliseconds(10);
        Assert.That(probes[0].At, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(1) + step), "PROBE_WAIT");
        for (int i = 1; i < 3; i++)
            Assert.That(probes[i].At - probes[i - 1].At, Is.InRange(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2) + step), "PROBE_MIN..PROBE_MAX");
        Assert.That(announcements[0].At - probes[2].At, Is.InRange(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2) + step), "ANNOUNCE_WAIT");
        Assert.That(announcements[1].At - announcements[0].At, Is.InRange(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2) + step), "ANNOUNCE_INTERVAL");

        // The same MAC picks the same first address (RFC 3927 2.1); another MAC, another.
        using var again = new RawRig(NoAddress(), seed: 99);
        var auto2 = again.Add(new AutoIpClient());
        again.RunUntil(() => auto2.State == AutoIpState.Probing && !auto2.Address.IsAny, TimeSpan.FromSeconds(1), "picked");
        Assert.That(auto2.Address, Is.EqualTo(x));
        using var other = new RawRig(NoAddress("02:00:00:00:00:0c"));
        var auto3 = other.Add(new AutoIpClient());
        other.Step();
        Assert.That(auto3.Address, Is.Not.EqualTo(x));
    }

    [Test]
    public void A_conflict_while_probing_picks_another_address()
    {
        using var rig = new RawRig(NoAddress());
        var auto = rig.Add(new AutoIpClient());
        Ipv4Address first = default;
        rig.OnArp = a =>
        {
            // Answer the first probe as the address's owner would.
            if (first.IsAny && a.Sender.IsAny) { first = a.Target; rig.Forge(ArpOperation.Reply, OtherMac, a.Target, a.Target, a.SenderMac); }
        };
        rig.RunUntil(() => auto.State == AutoIpState.Bound, TimeSpan.FromSeconds(20), "bound");
        Assert.That(auto.Conflicts, Is.EqualTo(1));
        Assert.That(auto.Address, Is.Not.EqualTo(first));
        Assert.That(rig.Stack.Address, Is.EqualTo(auto.Address));
    }

    [Test]
    public void Defends_once_then_gives_up_on_a_second_conflict_within_DEFEND_INTERVAL()
    {
        using var rig = new RawRig(NoAddress());
        var auto = rig.Add(new AutoIpClient());
        rig.RunUntil(() => auto.State == AutoIpState.Bound, TimeSpan.FromSeconds(15), "bound");
        var x = auto.Address;
        int before = rig.Arp.Count;
        rig.Forge(ArpOperation.Request, OtherMac, x, x);
        rig.RunFor(TimeSpan.FromMilliseconds(50));
        Assert.That(rig.Arp.Skip(before).Count(a => a.Sender == x && a.Target == x), Is.EqualTo(1), "one defending announcement");
        Assert.That((auto.State, rig.Stack.Address), Is.EqualTo((AutoIpState.Bound, x)));

        // 11 s later a conflict is a first one again: defended.
        rig.RunFor(TimeSpan.FromSeconds(11));
        rig.Forge(ArpOperation.Request, OtherMac, x, x);
        rig.RunFor(TimeSpan.FromSeconds(5));
        Assert.That((auto.State, rig.Stack.Address), Is.EqualTo((AutoIpState.Bound, x)));
        // 5 s after that one: given up, and a new address probed and taken.
        rig.Forge(ArpOperation.Reply, OtherMac, x, x);
        rig.Step();
        rig.Step();
        Assert.That(rig.Stack.Address, Is.Not.EqualTo(x));
        Assert.That(auto.State, Is.EqualTo(AutoIpState.Probing));
        rig.RunUntil(() => auto.State == AutoIpState.Bound, TimeSpan.FromSeconds(15), "bound again");
        Assert.That(auto.Address, Is.Not.EqualTo(x));
        Assert.That(rig.Stack.Address, Is.EqualTo(auto.Address));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void Two_stacks_seeded_to_collide_end_with_distinct_addresses(int seed)
    {
        using var sim = new PairSim(NoAddress("02:00:00:00:00:0a"), NoAddress("02:00:00:00:00:0b"), seed);
        var log = new List<string>();
        AutoIpClient Make(string name)
        {
            var c = new AutoIpClient(new AutoIpOptions { Seed = 42 });
            c.StateChanged += (s, was) => log.Add($"{sim.Clock.Now.TotalSeconds,6:0.00}s {name}: {was} -> {s.State} {s.Address}");
            c.Conflict += (s, address, mac) => log.Add($"{sim.Clock.Now.TotalSeconds,6:0.00}s {name}: conflict for {address} with {mac}");
            return c;
        }
        var a = sim.AddA(Make("A"));
        var b = sim.AddB(Make("B"));
        Assert.That(a.Address, Is.EqualTo(b.Address), "the same seed picks the same first address");
        var first = a.Address;
        sim.RunUntil(() => a.State == AutoIpState.Bound && b.State == AutoIpState.Bound, TimeSpan.FromSeconds(60), "both bound");
        sim.RunFor(TimeSpan.FromSeconds(5));
        foreach (var line in log) TestContext.Out.WriteLine(line);
        Assert.That(a.Address, Is.Not.EqualTo(b.Address));
        Assert.That(a.Conflicts + b.Conflicts, Is.GreaterThanOrEqualTo(1));
        Assert.That((sim.A.Address, sim.B.Address), Is.EqualTo((a.Address, b.Address)));

        // And they reach each other on-link, without a gateway.
        var ua = sim.A.OpenUdp(7000);
        var ub = sim.B.OpenUdp(7000);
        ua.SendTo("hello"u8, sim.B.Address, 7000);
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        var buffer = new byte[16];
        Assert.That(ub.Receive(buffer, out var from, out _), Is.EqualTo(5));
        Assert.That(from, Is.EqualTo((IpAddress)sim.A.Address));
    }

    [Test]
    public void A_conflict_flood_is_rate_limited_after_MAX_CONFLICTS()
    {
        using var rig = new RawRig(NoAddress());
        var auto = rig.Add(new AutoIpClient());
        // A hostile host claims every address probed, and sprays claims for others besides.
        int sprayed = 0;
        rig.OnArp = a =>
        {
            if (a.Sender.IsAny) rig.Forge(ArpOperation.Reply, OtherMac, a.Target, a.Target, a.SenderMac);
        };
        var start = rig.Clock.Now;
        for (int second = 0; second < 600; second++)
        {
            for (int i = 0; i < 20; i++, sprayed++)
                rig.Forge(ArpOperation.Reply, OtherMac, new Ipv4Address(AutoIpClient.FirstAddress.Value + (uint)(sprayed * 7919 % 65024)), Ipv4Address.Any);
            rig.RunFor(TimeSpan.FromSeconds(1));
        }
        TestContext.Out.WriteLine($"10 minutes: {auto.AddressesTried} addresses tried, {auto.Conflicts} conflicts, {rig.Arp.Count} ARP frames sent, {sprayed} forged claims");
        Assert.That(auto.State, Is.EqualTo(AutoIpState.Probing));
        Assert.That(rig.Stack.Address, Is.EqualTo(Ipv4Address.Any));
        // Ten quick attempts, then one a minute: about 10 + 600/60.
        Assert.That(auto.AddressesTried, Is.InRange(18, 22));
        Assert.That(rig.Arp.Count, Is.LessThanOrEqualTo(auto.AddressesTried));
    }

    [Test]
    public void Dhcp_falls_back_to_link_local_and_hands_back_when_a_lease_arrives()
    {
        var serverIp = Ipv4Address.Parse("192.0.2.1");
        using var sim = new PairSim(NoAddress(), new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = serverIp });
        var dhcp = sim.AddA(new DhcpClient());
        var auto = sim.AddA(new AutoIpClient(dhcp: dhcp));
        sim.RunFor(TimeSpan.FromSeconds(9.9));
        Assert.That((auto.State, sim.A.Address), Is.EqualTo((AutoIpState.WaitingForDhcp, Ipv4Address.Any)), "DhcpFallbackAfter is 10 s");
        sim.RunUntil(() => auto.State == AutoIpState.Bound, TimeSpan.FromSeconds(10), "link-local bound");
        var linkLocal = sim.A.Address;
        TestContext.Out.WriteLine($"{sim.Clock.Now.TotalSeconds:0.00}s: link-local {linkLocal}, DHCP {dhcp.State}");
        Assert.That(AutoIpClient.IsLinkLocal(linkLocal), Is.True);
        Assert.That(dhcp.State, Is.EqualTo(DhcpState.Selecting), "DHCP keeps trying");

        var server = sim.AddB(new TestDhcpServer(Ipv4Address.Parse("192.0.2.50"), 4, 3600, [serverIp]));
        sim.RunUntil(() => dhcp.State == DhcpState.Bound, TimeSpan.FromSeconds(90), "the lease");
        sim.Step();
        TestContext.Out.WriteLine($"{sim.Clock.Now.TotalSeconds:0.00}s: lease {sim.A.Address}, AutoIP {auto.State}");
        Assert.That(sim.A.Address, Is.EqualTo(Ipv4Address.Parse("192.0.2.50")));
        Assert.That((auto.State, auto.Address), Is.EqualTo((AutoIpState.WaitingForDhcp, Ipv4Address.Any)));
        Assert.That(server.Acks, Is.EqualTo(1));
        sim.RunFor(TimeSpan.FromSeconds(30));
        Assert.That(sim.A.Address, Is.EqualTo(Ipv4Address.Parse("192.0.2.50")), "no fall-back while the lease is held");
    }

    [Test]
    public void Link_local_destinations_are_on_link_and_link_local_ARP_is_broadcast()
    {
        using var rig = new RawRig(new NetworkStackOptions
        {
            MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = Ipv4Address.Parse("192.0.2.10"), PrefixLength = 24, Gateway = Ipv4Address.Parse("192.0.2.1"),
        });
        rig.Step();
        int before = rig.Arp.Count;
        var udp = rig.Stack.OpenUdp();
        udp.SendTo([1, 2, 3], Ipv4Address.Parse("169.254.7.7"), 9);
        udp.SendTo([1, 2, 3], Ipv4Address.Parse("198.51.100.7"), 9);
        rig.Step();
        var asked = rig.Arp.Skip(before).Select(a => a.Target).ToList();
        Assert.That(asked, Is.EquivalentTo(new[] { Ipv4Address.Parse("169.254.7.7"), Ipv4Address.Parse("192.0.2.1") }), "169.254/16 asked for directly, the rest through the gateway");

        // With a link-local address, an ARP reply to a unicast request is broadcast (RFC 3927 2.5).
        var ll = Ipv4Address.Parse("169.254.3.3");
        rig.Stack.Configure(ll, 16, Ipv4Address.Any);
        rig.Step();
        before = rig.Arp.Count;
        rig.Forge(ArpOperation.Request, OtherMac, Ipv4Address.Parse("169.254.9.9"), ll, rig.Stack.MacAddress);
        rig.Step();
        var reply = rig.Arp.Skip(before).Single(a => a.Operation == ArpOperation.Reply);
        Assert.That((reply.EthernetDestination, reply.Sender), Is.EqualTo((MacAddress.Broadcast, ll)));
    }
}
