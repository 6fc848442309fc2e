using System.Security.Cryptography;
using TcpIpSharp.Links;
using TcpIpSharp.Tests.Simulation;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>
/// The header-prediction fast path (<c>TcpConnection.TryFastPath</c>) must change nothing but speed: the same
/// transfer through the same faults, in virtual time, sends exactly the same frames with it and without it, and in a
/// steady transfer it takes most segments.
/// </summary>
public class FastPathTests
{
    private static IEnumerable<int> Seeds() => Enumerable.Range(1, 12);

    /// <summary>Every frame both stacks sent (SHA-256 of each, in order) and the TCP counters at the end.</summary>
    private static (List<string> Frames, long FastAcks, long FastData, byte[] AtB, byte[] AtA) Run(int seed, bool fastPath, FaultOptions? faults, int abBytes = 300_000, int baBytes = 200_000)
    {
        using var net = new TwoStacks(faults, seed);
        net.A.Tcp.FastPath = fastPath;
        net.B.Tcp.FastPath = fastPath;
        var frames = new List<string>();
        net.A.FrameObserver = (frame, outgoing, now) => { if (outgoing) frames.Add($"A {now.Ticks} {Convert.ToHexString(SHA256.HashData(frame))}"); };
        net.B.FrameObserver = (frame, outgoing, now) => { if (outgoing) frames.Add($"B {now.Ticks} {Convert.ToHexString(SHA256.HashData(frame))}"); };
        var random = new Random(seed);
        var ab = new byte[abBytes];
        var ba = new byte[baBytes];
        random.NextBytes(ab);
        random.NextBytes(ba);
        var (atB, atA, _, _) = TcpTransferTests.Exchange(net, ab, ba, TimeSpan.FromMinutes(10));
        Assert.That(atB, Is.EqualTo(ab), "A->B");
        Assert.That(atA, Is.EqualTo(ba), "B->A");
        var a = net.A.Statistics.TcpDetail;
        var b = net.B.Statistics.TcpDetail;
        return (frames, a.FastPathAcksCount + b.FastPathAcksCount, a.FastPathDataCount + b.FastPathDataCount, atB, atA);
    }

    [TestCaseSource(nameof(Seeds))]
    public void Frames_sent_through_a_random_fault_mix_are_identical_with_and_without_the_fast_path(int seed)
    {
        var faults = TcpSimulationTests.RandomFaults(new Random(seed));
        var with = Run(seed, fastPath: true, faults);
        var without = Run(seed, fastPath: false, faults);
        // Whether the fast path is taken at all depends on the mix (seed 2: 15% loss with data both ways leaves a hole or
        // a SACK block on almost every segment); that the comparison is not empty is checked across the seeds below.
        TestContext.Out.WriteLine($"fast path: {with.FastAcks} ACKs, {with.FastData} data segments; faults {faults}");
        Assert.That(without.FastAcks + without.FastData, Is.Zero, "the fast path was off");
        Assert.That(with.Frames.Count, Is.EqualTo(without.Frames.Count), $"frames sent, faults {faults}");
        int first = Enumerable.Range(0, with.Frames.Count).FirstOrDefault(i => with.Frames[i] != without.Frames[i], -1);
        Assert.That(first, Is.EqualTo(-1), $"first different frame at {first}: {(first >= 0 ? with.Frames[first] + " vs " + without.Frames[first] : "")}");
    }

    [Test]
    public void The_fast_path_is_taken_under_most_fault_mixes()
    {
        // The comparison above shows something only where the fast path was taken: in at least 10 of the 12 mixes.
        int taken = Seeds().Count(seed => Run(seed, fastPath: true, TcpSimulationTests.RandomFaults(new Random(seed))) is var run && run.FastAcks + run.FastData > 0);
        Assert.That(taken, Is.GreaterThanOrEqualTo(10), "seeds whose transfer took the fast path");
    }

    [Test]
    public void A_clean_transfer_takes_most_segments_on_the_fast_path()
    {
        // 1 MB one way (725 segments of 1448 bytes; the receiver ACKs every second one), the other way nothing: the
        // receiver has nothing to send and closes at once, so the sender takes its ACKs in CLOSE-WAIT.
        var run = Run(1, fastPath: true, faults: null, abBytes: 1 << 20, baBytes: 0);
        int fromReceiver = run.Frames.Count(f => f[0] == 'B');   // its ACKs (one per poll's batch here), SYN-ACK, FIN, window updates
        TestContext.Out.WriteLine($"fast path: {run.FastAcks} ACKs, {run.FastData} data segments; the receiver sent {fromReceiver} frames");
        Assert.That(run.FastData, Is.GreaterThan(700), "in-order data segments on the fast path");
        Assert.That(run.FastAcks, Is.GreaterThanOrEqualTo(fromReceiver * 3 / 4), "most of the receiver's ACKs taken on the fast path");
    }
}
