using TcpIpSharp.Services.AutoIp;
using TcpIpSharp.Services.Sntp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>Regression tests for three faults a review found in SNTP and AutoIP (each failed before its fix).</summary>
public class ZeroconfRegressionTests
{
    private static readonly Ipv4Address ServerIp = Ipv4Address.Parse("192.0.2.11");

    // Two ntptime.settime() calls in flight at once: both measure +5 s against the same wall clock, both are applied.
    [Test]
    public void Two_overlapping_SetTime_calls_apply_the_offset_once()
    {
        using var sim = new PairSim().WarmArp();
        var client = sim.AddA(new SntpClient(new SntpClientOptions { Servers = [ServerIp] }));
        var server = sim.AddB(new TestNtpServer { Offset = TimeSpan.FromSeconds(5) });
        var q1 = client.Query(sim.Clock.Now);
        var q2 = client.Query(sim.Clock.Now);
        sim.RunUntil(() => q1.IsCompleted && q2.IsCompleted, TimeSpan.FromSeconds(10), "both");
        Assert.That((q1.Error, q2.Error), Is.EqualTo((SntpError.None, SntpError.None)));
        client.SetTime(q1);
        client.SetTime(q2);
        TestContext.Out.WriteLine($"offset after both: {sim.A.WallClockOffset}");
        Assert.That(sim.A.WallClockOffset.TotalSeconds, Is.EqualTo(5).Within(0.01));
    }

    // A query still waiting on a server that lost its request hides the answers to a later query to the same server.
    [Test]
    public void A_second_query_to_a_server_is_answered_while_an_earlier_one_waits()
    {
        using var sim = new PairSim().WarmArp();
        var client = sim.AddA(new SntpClient(new SntpClientOptions { Servers = [ServerIp], Timeout = TimeSpan.FromSeconds(3), Attempts = 1 }));
        var server = sim.AddB(new TestNtpServer { Mode = NtpServerMode.Silent });
        var q1 = client.Query(sim.Clock.Now);
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        server.Mode = NtpServerMode.Normal;
        var q2 = client.Query(sim.Clock.Now);
        sim.RunUntil(() => q2.IsCompleted, TimeSpan.FromSeconds(10), "q2");
        TestContext.Out.WriteLine($"q1 {q1.Error}, q2 {q2.Error}, rejected origin {client.Statistics.RejectedOrigin}");
        Assert.That(q2.Error, Is.EqualTo(SntpError.None));
    }

    // RFC 3927 2.2.1 / RFC 5227 2.1.1: a host joining later must find the address in use through the holder's ARP reply.
    [Test]
    public void A_later_prober_finds_a_held_link_local_address_in_use()
    {
        using var sim = new PairSim(new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0a") },
                                    new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0b") });
        var log = new List<string>();
        AutoIpClient Make(string name)
        {
            var c = new AutoIpClient(new AutoIpOptions { Seed = 42 });
            c.StateChanged += (s, was) => log.Add($"{sim.Clock.Now.TotalSeconds,6:0.00}s {name}: {was} -> {s.State} {s.Address}");
            c.Conflict += (s, address, mac) => log.Add($"{sim.Clock.Now.TotalSeconds,6:0.00}s {name}: conflict for {address} with {mac}");
            return c;
        }
        var a = sim.AddA(Make("A"));
        sim.RunUntil(() => a.State == AutoIpState.Bound, TimeSpan.FromSeconds(30), "A bound");
        var held = a.Address;
        var b = sim.AddB(Make("B"));
        sim.RunFor(TimeSpan.FromSeconds(40));
        foreach (var line in log) TestContext.Out.WriteLine(line);
        Assert.That(a.Address, Is.EqualTo(held), "the holder keeps its address");
        Assert.That(a.Conflicts, Is.Zero, "the holder is never disturbed");
        Assert.That(log.Any(l => l.Contains("B: Probing -> Announcing " + held)), Is.False, "B never configures A's address");
    }
}
