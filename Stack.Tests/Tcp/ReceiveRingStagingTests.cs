using TcpIpSharp.Storage;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>The receive ring's staged write (copy and checksum in one pass, made readable only when committed).</summary>
public class ReceiveRingStagingTests
{
    [Test]
    public void A_staged_write_sums_as_the_reference_at_every_wrap_point_and_reads_back_once_committed()
    {
        var random = new Random(793);
        var pool = new BufferPool(1 << 20);
        foreach (int length in new[] { 1, 2, 3, 100, 1447, 1448, 1460, 1461 })
        {
            var payload = new byte[length];
            for (int start = 4096 - length - 2; start <= 4096 + 1; start++)
            {
                random.NextBytes(payload);
                var ring = new ReceiveRing(pool, 65536, 4);
                Assert.That(ring.Write(0, new byte[4096]), Is.EqualTo(4096));            // the 4 KB class, full
                Assert.That(ring.Read(new byte[start % 4096 == 0 ? 4096 : start % 4096]), Is.GreaterThan(0));
                ring.Read(new byte[4096]);                                                // empty, read position start % 4096
                Assert.That(ring.CanStage(length), Is.True);
                uint header = (uint)random.Next();
                uint sum = ring.StageAndSum(payload, header);
                Assert.That(InternetChecksum.Finish(sum), Is.EqualTo(InternetChecksum.Finish(InternetChecksum.Add(header, payload))), $"length {length} at {start % 4096}");
                Assert.That(ring.Readable, Is.Zero, "not readable before the commit");
                ring.CommitStaged(length);
                var back = new byte[length];
                Assert.That(ring.Read(back), Is.EqualTo(length));
                Assert.That(back, Is.EqualTo(payload));
            }
        }
    }

    [Test]
    public void An_abandoned_staged_write_leaves_the_ring_as_it_was()
    {
        var pool = new BufferPool(1 << 20);
        var ring = new ReceiveRing(pool, 65536, 4);
        var held = TcpTransferTests.Pattern(1000, 3);
        ring.Write(0, held);
        Assert.That(ring.CanStage(3000), Is.True);
        Assert.That(ring.CanStage(3097), Is.False, "would need the ring to grow");
        ring.StageAndSum(TcpTransferTests.Pattern(3000, 9), 0);
        Assert.That((ring.Readable, ring.Ranges, ring.StorageLength), Is.EqualTo((1000, 0, 4096)));
        Assert.That(ring.Write(0, TcpTransferTests.Pattern(500, 4)), Is.EqualTo(500), "the next in-order write goes where the staged bytes lay");
        var back = new byte[1500];
        Assert.That(ring.Read(back), Is.EqualTo(1500));
        Assert.That(back.AsSpan(0, 1000).SequenceEqual(held) && back.AsSpan(1000).SequenceEqual(TcpTransferTests.Pattern(500, 4)), Is.True);
        ring.Write(2000, new byte[10]);                                                  // out of order: a range
        Assert.That(ring.CanStage(10), Is.False, "never with out-of-order ranges");
    }
}

/// <summary>The send ring's copy-and-sum (a segment's payload copied out of the ring and summed in one pass).</summary>
public class SendRingCopyAndSumTests
{
    [Test]
    public void Copying_out_any_range_sums_as_the_reference_across_the_wrap()
    {
        var random = new Random(9293);
        var pool = new BufferPool(1 << 20);
        var ring = new SendRing(pool, 65536);
        var data = new byte[4096];
        random.NextBytes(data);
        Assert.That(ring.Write(data.AsSpan(0, 4096)), Is.EqualTo(4096));
        var copy = new byte[2000];
        for (int round = 0; round < 300; round++)
        {
            // Consume an odd amount and refill, so that offset 0 moves around the 4 KB array.
            int consumed = random.Next(1, 2000);
            ring.Consume(consumed);
            var more = new byte[consumed];
            random.NextBytes(more);
            Assert.That(ring.Write(more), Is.EqualTo(consumed));
            Assert.That(ring.StorageLength, Is.EqualTo(4096));
            int offset = random.Next(0, 2000), length = random.Next(0, 2000);
            var expected = new byte[length];
            ring.CopyTo(offset, expected);
            uint sum = ring.CopyAndSum(offset, copy.AsSpan(0, length));
            Assert.That(copy.AsSpan(0, length).SequenceEqual(expected), Is.True, "the copy");
            Assert.That(InternetChecksum.Finish(sum), Is.EqualTo(InternetChecksum.ComputeScalar(expected)), $"offset {offset} length {length}");
        }
    }
}
