using System.Security.Cryptography;
using TcpIpSharp.Links;
using TcpIpSharp.Tests.Tcp;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>
/// Two stacks through fault injectors in virtual time, a random fault mix per seed: 1 MB each way at once must arrive
/// byte-exact and in order, and every connection must be freed after close. TCPIPSHARP_SIM_SEEDS sets the seed count
/// (200 by default; 10000 for a long run). Every seed runs over IPv4 and over IPv6 (the same faults, the same code).
/// </summary>
// Parallelizable (Parallelism.cs): virtual time, its own stacks and seeded fault injectors; nothing static is written.
[Parallelizable(ParallelScope.Self)]
public class TcpSimulationTests
{
    private static IEnumerable<TestCaseData> Seeds()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("TCPIPSHARP_SIM_SEEDS"), out int n) && n > 0 ? n : 200;
        foreach (var family in new[] { IpFamily.V4, IpFamily.V6 })
            foreach (int seed in Enumerable.Range(1000, count))
                yield return new TestCaseData(seed, family);
    }

    /// <summary>The fault mix of one seed: drop up to 20%, duplication, reordering, corruption, delay, jitter, a rate limit.</summary>
    internal static FaultOptions RandomFaults(Random random) => new()
    {
        DropRate = random.NextDouble() * 0.2,
        DuplicateRate = random.NextDouble() * 0.05,
        ReorderRate = random.NextDouble() * 0.1,
        CorruptRate = random.NextDouble() * 0.02,
        Jitter = TimeSpan.FromMilliseconds(random.Next(0, 5)),
        Delay = TimeSpan.FromMilliseconds(random.Next(0, 3)),
        RateBytesPerSecond = random.Next(2) == 0 ? 0 : random.Next(2, 50) * 1_000_000,
    };

    [TestCaseSource(nameof(Seeds))]
    public void Concurrent_megabytes_survive_a_random_fault_mix_and_a_link_cut(int seed, IpFamily family)
    {
        var random = new Random(seed);
        var faults = RandomFaults(random);
        using var net = new TwoStacks(faults, seed, family: family);
        var cutAt = TimeSpan.FromMilliseconds(random.Next(50, 500));
        var cutFor = TimeSpan.FromMilliseconds(random.Next(500, 3000));
        var ab = new byte[1 << 20];
        var ba = new byte[1 << 20];
        random.NextBytes(ab);
        random.NextBytes(ba);
        // The cut starts once the connection is up: a cut during the handshake that outlasts address resolution ends the
        // connect with EHOSTUNREACH, as on Linux (SocketSemantics: Connect_to_a_silent_on_link_address_raises_ehostunreach),
        // which is a reported error rather than the transfer this test is about.
        TimeSpan? start = null;
        void Cut()
        {
            if (start is null)
            {
                bool established = false;
                foreach (var c in net.A.Tcp.Connections) established |= c.State == TcpIpSharp.Transport.Tcp.TcpState.Established;
                if (established) start = net.Clock.Now;
                else return;
            }
            bool cut = net.Clock.Now - start >= cutAt && net.Clock.Now - start < cutAt + cutFor;
            net.FaultsA!.Options.Cut = cut;
            net.FaultsB!.Options.Cut = cut;
        }
        var (atB, atA, client, server) = TcpTransferTests.Exchange(net, ab, ba, TimeSpan.FromMinutes(30), Cut);
        Assert.That(SHA256.HashData(atB), Is.EqualTo(SHA256.HashData(ab)), $"A->B, faults {faults}");
        Assert.That(SHA256.HashData(atA), Is.EqualTo(SHA256.HashData(ba)), $"B->A, faults {faults}");
        client.Close();
        server.Close();
        // The cut goes on running its course while the connections close: a transfer that ends inside the cut window
        // would otherwise leave the link cut for ever (seed 1017 over IPv6 did once Eifel detection made it faster).
        try { net.RunUntil(() => net.A.Tcp.Count + net.B.Tcp.Count == 0, TimeSpan.FromMinutes(10), Cut); }
        catch (TimeoutException e)
        {
            throw new InvalidOperationException($"connections not freed after close: A [{string.Join("; ", net.A.TcpSnapshot())}] B [{string.Join("; ", net.B.TcpSnapshot())}]", e);
        }
    }

    [Test]
    public void A_cut_longer_than_the_user_timeout_ends_both_sides_with_timed_out([Values] IpFamily family)
    {
        var options = new NetworkStackOptions { Tcp = new TcpConnectionOptions { UserTimeout = TimeSpan.FromSeconds(5) } };
        using var net = new TwoStacks(new FaultOptions(), 1, options, family);
        var listener = net.B.ListenTcp(5001);
        var client = net.A.ConnectTcp(net.AddressOfB, 5001);
        TcpConnection? server = null;
        net.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(5));
        net.FaultsA!.Options.Cut = true;
        net.FaultsB!.Options.Cut = true;
        client.Send(new byte[100_000]);
        server!.Send(new byte[100_000]);
        var took = net.RunUntil(() => client.State == TcpState.Closed && server.State == TcpState.Closed, TimeSpan.FromSeconds(60));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.Error, Is.EqualTo(NetError.TimedOut));
            Assert.That(server.Error, Is.EqualTo(NetError.TimedOut));
            Assert.That(took, Is.InRange(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(7)), "ended by the 5 s user timeout");
            Assert.That(net.A.Tcp.Count + net.B.Tcp.Count, Is.Zero, "state freed");
            Assert.That(client.RemoteAddress, Is.EqualTo(net.AddressOfB), "the family asked for");
        }
    }
}
