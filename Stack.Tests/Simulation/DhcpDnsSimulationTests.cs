using TcpIpSharp.Links;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Services.Dns;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>
/// A DHCP client and a resolver on one stack, a DHCP and a DNS server on another, joined through fault injectors that
/// drop 30% of the frames each way (and duplicate and reorder a few), in virtual time: the client binds, keeps its
/// lease through renewals, releases it, and every lookup completes correctly within the resolver's retry bound.
/// </summary>
public class DhcpDnsSimulationTests
{
    private static readonly Ipv4Address ServerIp = Ipv4Address.Parse("192.0.2.1");

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(5)]
    public void Dhcp_and_dns_converge_at_30_percent_loss(int seed)
    {
        var clock = new ManualClock();
        var faults = new FaultOptions { DropRate = 0.3, DuplicateRate = 0.05, ReorderRate = 0.05, Jitter = TimeSpan.FromMilliseconds(2) };
        var (a, b) = InMemoryLink.CreatePair();
        using var client = new NetworkStack(new FaultInjectorLink(a, faults, seed, clock),
            new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0a") }, new SeededRandomSource(seed));
        using var server = new NetworkStack(new FaultInjectorLink(b, faults, seed + 1000, clock),
            new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = ServerIp, PrefixLength = 24 }, new SeededRandomSource(seed + 1));
        client.AfterFrame = server.AfterFrame = TcpIpSharp.Diagnostics.StackInvariants.Check;

        var names = Enumerable.Range(0, 20).ToDictionary(i => $"host{i}.test", i => new[] { new Ipv4Address(192, 0, 2, (byte)(100 + i)) });
        names["multi.test"] = [new(192, 0, 2, 10), new(192, 0, 2, 11)];
        var dhcpServer = new TestDhcpServer(Ipv4Address.Parse("192.0.2.50"), 10, leaseSeconds: 60, [ServerIp]);
        var dnsServer = new TestDnsServer(names, new Dictionary<string, string> { ["alias.test"] = "host3.test" });
        // At 30% loss each way a query and its answer both arrive half the time: twelve tries make a failure about 3 in 10,000.
        var resolverOptions = new DnsResolverOptions { Attempts = 12 };
        var dhcp = new DhcpClient(new DhcpClientOptions { MinimumRenewRetransmission = TimeSpan.FromSeconds(2) });
        var resolver = new DnsResolver(resolverOptions);
        IStackService[] clientServices = [dhcp, resolver];
        IStackService[] serverServices = [dhcpServer, dnsServer];
        foreach (var s in clientServices) s.Start(client, clock.Now);
        foreach (var s in serverServices) s.Start(server, clock.Now);

        void Step()
        {
            clock.Advance(TimeSpan.FromMilliseconds(10));
            client.Poll(clock.Now);
            foreach (var s in clientServices) s.Poll(client, clock.Now);
            server.Poll(clock.Now);
            foreach (var s in serverServices) s.Poll(server, clock.Now);
        }

        void RunUntil(Func<bool> done, TimeSpan limit, string what)
        {
            var end = clock.Now + limit;
            while (!done())
            {
                if (clock.Now >= end) Assert.Fail($"seed {seed}: {what} not within {limit.TotalSeconds} s of virtual time; {Report()}");
                Step();
            }
        }

        string Report() => $"dhcp {dhcp.State}, {string.Join(", ", dhcp.Statistics.Snapshot().Where(p => p.Value > 0).Select(p => $"{p.Key}={p.Value}"))}; " +
                           $"dns {string.Join(", ", resolver.Statistics.Snapshot().Where(p => p.Value > 0).Select(p => $"{p.Key}={p.Value}"))}";

        // DHCP retransmits DISCOVER forever (4, 8, 16, 32, 64 s...) and REQUEST five times: it binds well within 10 minutes.
        RunUntil(() => dhcp.Status == DhcpStatus.GotIp, TimeSpan.FromMinutes(10), "binding");
        var boundAfter = clock.Now;
        Assert.That(client.Address.Value >> 8, Is.EqualTo(ServerIp.Value >> 8));
        Assert.That(client.DnsServers, Is.EqualTo(new[] { ServerIp }));

        // Twenty-two lookups, one after the other; each must complete within the resolver's bound and be right.
        var bound = TimeSpan.Zero;
        for (int round = 0; round < resolverOptions.Attempts; round++)
            bound += TimeSpan.FromTicks(Math.Min(resolverOptions.QueryTimeout.Ticks << Math.Min(round, 20), resolverOptions.MaximumQueryTimeout.Ticks));
        var lookups = names.Keys.Append("alias.test").ToList();
        int ok = 0;
        var slowest = TimeSpan.Zero;
        foreach (var name in lookups)
        {
            var started = clock.Now;
            var lookup = resolver.Resolve(name, DnsType.A, clock.Now);
            RunUntil(() => lookup.IsCompleted, bound + TimeSpan.FromSeconds(1), $"lookup of {name}");
            if (clock.Now - started > slowest) slowest = clock.Now - started;
            Assert.That(lookup.Error, Is.EqualTo(DnsError.None), $"seed {seed}: {name}; {Report()}");
            var expected = names[name == "alias.test" ? "host3.test" : name];
            Assert.That(lookup.Addresses.Select(x => x.Ipv4), Is.EqualTo(expected), name);
            ok++;
        }

        // Run on through several lease periods (60 s, T1 30 s): renewals at 30% loss keep the lease.
        var address = client.Address;
        RunUntil(() => clock.Now - boundAfter > TimeSpan.FromMinutes(6), TimeSpan.FromMinutes(7), "six minutes");
        Assert.That(dhcp.Statistics.LeasesExpired, Is.Zero, Report());
        Assert.That(client.Address, Is.EqualTo(address));

        dhcp.Stop(client, clock.Now);
        TestContext.Out.WriteLine($"seed {seed}: bound after {boundAfter.TotalSeconds:0.0} s; {ok} lookups right, slowest {slowest.TotalSeconds:0.0} s (bound {bound.TotalSeconds} s); " +
                                  $"server offers {dhcpServer.Offers}, acks {dhcpServer.Acks}, dns answers {dnsServer.Answered}; {Report()}");
    }
}
