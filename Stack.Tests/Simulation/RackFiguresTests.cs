using System.Security.Cryptography;
using TcpIpSharp.Links;
using TcpIpSharp.Tests.Tcp;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>
/// Issue 16's simulation figures for RACK-TLP (RFC 8985), on the same seeds with RACK and with the duplicate-ACK
/// threshold it replaced (<see cref="TcpConnectionOptions.RackLossDetection"/> false: RFC 6675's IsLost):
/// - reordering only (no loss, duplication or corruption): a one-way delay of 1-5 ms, 0-10% of frames held back by
///   one, two or three quarters of the RTT more (the fault injector's ReorderDelay, times 0.5-1). Every D-SACK the
///   senders receive reports a retransmission whose data the receiver already had: a spurious retransmission. RACK
///   must at least halve them.
/// - loss only (0-10% of frames dropped, the same delays): the virtual time both 1 MB transfers take, summed over the
///   seeds, must be no worse with RACK (5% allowed for the seeds' chaos).
/// Every transfer must arrive byte-exact. TCPIPSHARP_RACK_SEEDS sets the seed count (200 by default); the per-seed
/// figures go to TestContext's output, and to the file named by TCPIPSHARP_RACK_FIGURES when set.
/// </summary>
[Category("Figures")]
// Parallelizable (Parallelism.cs): virtual time, its own stacks and seeded fault injectors; nothing static is written.
[Parallelizable(ParallelScope.Self)]
public class RackFiguresTests
{
    private static int SeedCount => int.TryParse(Environment.GetEnvironmentVariable("TCPIPSHARP_RACK_SEEDS"), out int n) && n > 0 ? n : 200;

    internal readonly record struct Run(long SpuriousRetransmissions, long Retransmissions, TimeSpan Took, long Reordered, long Dropped);

    internal static FaultOptions ReorderingOnly(Random random)
    {
        var delay = TimeSpan.FromMilliseconds(random.Next(1, 6));
        return new FaultOptions
        {
            Delay = delay,
            ReorderRate = random.NextDouble() * 0.1,
            // RTT = 2 * delay; one, two or three quarters of it.
            ReorderDelay = delay * 2 * random.Next(1, 4) / 4,
        };
    }

    internal static FaultOptions LossOnly(Random random) => new()
    {
        Delay = TimeSpan.FromMilliseconds(random.Next(1, 6)),
        DropRate = random.NextDouble() * 0.1,
    };

    internal static Run Transfer(int seed, FaultOptions faults, bool rack)
    {
        var random = new Random(seed);
        var options = new NetworkStackOptions { Tcp = new TcpConnectionOptions { RackLossDetection = rack } };
        using var net = new TwoStacks(faults, seed, options);
        var ab = new byte[1 << 20];
        var ba = new byte[1 << 20];
        random.NextBytes(ab);
        random.NextBytes(ba);
        var start = net.Clock.Now;
        var (atB, atA, client, server) = TcpTransferTests.Exchange(net, ab, ba, TimeSpan.FromMinutes(30));
        var took = net.Clock.Now - start;
        Assert.That(SHA256.HashData(atB), Is.EqualTo(SHA256.HashData(ab)), $"seed {seed} A->B, faults {faults}, rack {rack}");
        Assert.That(SHA256.HashData(atA), Is.EqualTo(SHA256.HashData(ba)), $"seed {seed} B->A, faults {faults}, rack {rack}");
        long spurious = net.A.Statistics.TcpDetail.DsackReceivedCount + net.B.Statistics.TcpDetail.DsackReceivedCount;
        return new Run(spurious, client.Retransmits + server.Retransmits, took,
            net.FaultsA!.Reordered + net.FaultsB!.Reordered, net.FaultsA.Dropped + net.FaultsB.Dropped);
    }

    private static void Record(string line)
    {
        TestContext.Out.WriteLine(line);
        if (Environment.GetEnvironmentVariable("TCPIPSHARP_RACK_FIGURES") is { Length: > 0 } path) File.AppendAllText(path, line + "\n");
    }

    [Test]
    public void Rack_at_least_halves_spurious_retransmissions_under_reordering()
    {
        long spuriousRack = 0, spuriousDupThresh = 0, retransmitsRack = 0, retransmitsDupThresh = 0, reordered = 0;
        int seeds = SeedCount;
        for (int seed = 1000; seed < 1000 + seeds; seed++)
        {
            var faults = ReorderingOnly(new Random(seed));
            var dupThresh = Transfer(seed, faults, rack: false);
            var rack = Transfer(seed, faults, rack: true);
            Record($"reorder seed {seed} rate {faults.ReorderRate:0.000} delay {faults.Delay.TotalMilliseconds} ms reorder-delay {faults.ReorderDelay.TotalMilliseconds} ms: " +
                   $"spurious dupthresh {dupThresh.SpuriousRetransmissions} rack {rack.SpuriousRetransmissions}; retransmits {dupThresh.Retransmissions} / {rack.Retransmissions}; " +
                   $"took {dupThresh.Took.TotalMilliseconds} / {rack.Took.TotalMilliseconds} ms");
            spuriousRack += rack.SpuriousRetransmissions;
            spuriousDupThresh += dupThresh.SpuriousRetransmissions;
            retransmitsRack += rack.Retransmissions;
            retransmitsDupThresh += dupThresh.Retransmissions;
            reordered += rack.Reordered;
        }
        Record($"reorder total over {seeds} seeds: spurious retransmissions dupthresh {spuriousDupThresh} rack {spuriousRack}; " +
               $"retransmissions {retransmitsDupThresh} / {retransmitsRack}; frames reordered {reordered}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reordered, Is.GreaterThan(0), "the fault injector reordered frames");
            Assert.That(spuriousDupThresh, Is.GreaterThan(0), "the duplicate-ACK rule retransmitted reordered segments");
            Assert.That(spuriousRack * 2, Is.LessThanOrEqualTo(spuriousDupThresh), "RACK at least halves the spurious retransmissions");
        }
    }

    [Test]
    public void Rack_completes_loss_only_transfers_no_slower()
    {
        TimeSpan tookRack = TimeSpan.Zero, tookDupThresh = TimeSpan.Zero;
        long retransmitsRack = 0, retransmitsDupThresh = 0, dropped = 0;
        int seeds = SeedCount;
        for (int seed = 1000; seed < 1000 + seeds; seed++)
        {
            var faults = LossOnly(new Random(seed));
            var dupThresh = Transfer(seed, faults, rack: false);
            var rack = Transfer(seed, faults, rack: true);
            Record($"loss seed {seed} drop {faults.DropRate:0.000} delay {faults.Delay.TotalMilliseconds} ms: took dupthresh {dupThresh.Took.TotalMilliseconds} rack {rack.Took.TotalMilliseconds} ms; " +
                   $"retransmits {dupThresh.Retransmissions} / {rack.Retransmissions}");
            tookRack += rack.Took;
            tookDupThresh += dupThresh.Took;
            retransmitsRack += rack.Retransmissions;
            retransmitsDupThresh += dupThresh.Retransmissions;
            dropped += rack.Dropped;
        }
        Record($"loss total over {seeds} seeds: completion dupthresh {tookDupThresh.TotalSeconds:0.000} s rack {tookRack.TotalSeconds:0.000} s; " +
               $"retransmissions {retransmitsDupThresh} / {retransmitsRack}; frames dropped {dropped}");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(dropped, Is.GreaterThan(0), "the fault injector dropped frames");
            Assert.That(tookRack.Ticks, Is.LessThanOrEqualTo(tookDupThresh.Ticks * 105 / 100), "RACK's loss-only completion time no worse");
        }
    }
}
