using System.Security.Cryptography;
using TcpIpSharp.Tests.Tcp;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>
/// ECN (RFC 3168) under faults: two stacks that both ask for ECN, the seed's random fault mix (loss, duplication,
/// reordering, corruption, delay, a rate limit: TcpSimulationTests' mix) and a CE marker on each side marking 2% of
/// ECT(0) data frames; 512 KB each way at once must arrive byte-exact, the marks must reach the receivers and make the
/// senders reduce (or, where a lost SYN was sent again without asking, ECN is off on both ends), and every connection must be freed after close. Over IPv4 and IPv6; TCPIPSHARP_ECN_SIM_SEEDS sets
/// the seed count (40 by default).
/// </summary>
public class EcnSimulationTests
{
    private static IEnumerable<TestCaseData> Seeds()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("TCPIPSHARP_ECN_SIM_SEEDS"), out int n) && n > 0 ? n : 40;
        foreach (var family in new[] { IpFamily.V4, IpFamily.V6 })
            foreach (int seed in Enumerable.Range(3168, count))
                yield return new TestCaseData(seed, family);
    }

    [TestCaseSource(nameof(Seeds))]
    public void Concurrent_transfers_with_ECN_survive_faults_and_CE_marks(int seed, IpFamily family)
    {
        var random = new Random(seed);
        var faults = TcpSimulationTests.RandomFaults(random);
        var markers = new List<CeMarkingLink>();
        var options = new NetworkStackOptions { Tcp = new TcpConnectionOptions { Ecn = TcpEcnMode.Request } };
        using var net = new TwoStacks(faults, seed, options, family, link =>
        {
            var marker = new CeMarkingLink(link, probability: 0.02, seed: seed + markers.Count);
            markers.Add(marker);
            return marker;
        });
        var ab = new byte[512 * 1024];
        var ba = new byte[512 * 1024];
        random.NextBytes(ab);
        random.NextBytes(ba);
        var (atB, atA, client, server) = TcpTransferTests.Exchange(net, ab, ba, TimeSpan.FromMinutes(30));
        Assert.That(SHA256.HashData(atB), Is.EqualTo(SHA256.HashData(ab)), $"A->B, faults {faults}");
        Assert.That(SHA256.HashData(atA), Is.EqualTo(SHA256.HashData(ba)), $"B->A, faults {faults}");
        long Read(NetworkStack s, string name) => s.Statistics.TcpDetail.All().Single(c => c.Name == name).Read();
        Assert.That(client.EcnNegotiated, Is.EqualTo(server.EcnNegotiated), "both ends agree on ECN");
        if (client.EcnNegotiated)
        {
            Assert.Multiple(() =>
            {
                Assert.That(markers.Sum(m => m.Marked), Is.GreaterThan(0), "the markers marked");
                // Not bounded by the marks: the fault mix duplicates frames.
                Assert.That(Read(net.A, "tcp.ecn_ce_received") + Read(net.B, "tcp.ecn_ce_received"), Is.GreaterThan(0), "CE marks arrived");
                Assert.That(Read(net.A, "tcp.ecn_reductions") + Read(net.B, "tcp.ecn_reductions"), Is.GreaterThan(0), "a sender reduced on ECE");
            });
        }
        else
        {
            // A lost SYN is sent again without asking (as Linux's tcp_ecn_fallback, RFC 3168 6.1.1.1): then no ECN at all.
            Assert.That(client.Retransmits + server.Retransmits, Is.GreaterThan(0), "ECN off only after a handshake retransmission");
            Assert.That(markers.Sum(m => m.DataFrames - m.NotEctDataFrames), Is.Zero, "without ECN no data frame is ECT");
        }
        client.Close();
        server.Close();
        try { net.RunUntil(() => net.A.Tcp.Count + net.B.Tcp.Count == 0, TimeSpan.FromMinutes(10)); }
        catch (TimeoutException e)
        {
            throw new InvalidOperationException($"connections not freed after close: A [{string.Join("; ", net.A.TcpSnapshot())}] B [{string.Join("; ", net.B.TcpSnapshot())}]", e);
        }
    }
}
