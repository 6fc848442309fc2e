using TcpIpSharp.Links;

namespace TcpIpSharp.Tests.Links;

/// <summary>The fault injector's reordering of degree K (<see cref="FaultOptions.ReorderDisplacement"/>), of frames sent and of frames received.</summary>
public class FaultInjectorReorderTests
{
    // Sends frames 0..count-1 (the number in the first byte) through an injector with these options; returns the
    // numbers in the order they came out once the clock moved by `after`.
    private static List<int> Through(FaultOptions options, int count, TimeSpan after)
    {
        var clock = new ManualClock();
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 1024);
        var faults = new FaultInjectorLink(a, options, seed: 5, clock);
        var frame = new byte[60];
        for (int i = 0; i < count; i++)
        {
            frame[0] = (byte)i;
            faults.TrySend(frame);
        }
        clock.Advance(after);
        var buffer = new byte[1514];
        faults.TryReceive(buffer);   // releases what is due by time (nothing comes the other way)
        var order = new List<int>();
        int n;
        while ((n = b.TryReceive(buffer)) > 0) order.Add(buffer[0]);
        return order;
    }

    [Test]
    public void A_held_frame_goes_out_right_after_the_K_frames_that_overtook_it()
    {
        var order = Through(new FaultOptions { ReorderRate = 0.1, ReorderDisplacement = 3, ReorderDelay = TimeSpan.FromSeconds(1) }, 200, TimeSpan.Zero);
        Assert.That(order, Is.EquivalentTo(Enumerable.Range(0, 200)), "every frame out once, none waiting for the time bound");
        // A frame held goes out once 3 frames went out after it was held: frames sent after it, or held frames sent
        // before it and released in between. So at most 3 higher-numbered frames come out before any frame, and
        // exactly 3 before a held frame that nothing else held overlapped.
        var overtaken = order.Select((f, i) => order.Take(i).Count(g => g > f)).ToList();
        Assert.That(overtaken, Has.All.InRange(0, 3), string.Join(",", order));
        Assert.That(overtaken.Count(o => o == 3), Is.GreaterThan(5), "frames were overtaken by 3: " + string.Join(",", order));
    }

    // Frames 0..count-1 arrive at the injector's link (sent by its peer) and are taken through the injector, by lends
    // of up to `limit` frames or one TryReceive at a time; the numbers in the order the caller got them, once the clock
    // moved by `after`.
    private static List<int> Received(FaultOptions options, int count, TimeSpan after, int limit)
    {
        var clock = new ManualClock();
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 1024);
        var faults = new FaultInjectorLink(b, options, seed: 5, clock);
        var frame = new byte[60];
        var order = new List<int>();
        var batch = new FrameBatch(64, 1514);
        var buffer = new byte[1514];
        void Take()
        {
            if (limit == 0)
            {
                while (faults.TryReceive(buffer) > 0) order.Add(buffer[0]);
                return;
            }
            batch.Limit = limit;
            for (int n; (n = faults.Lend(batch)) > 0; faults.Return(batch))
            {
                Assert.That(n, Is.AtMost(limit));
                for (int i = 0; i < n; i++) order.Add(batch[i][0]);
            }
        }
        for (int i = 0; i < count; i++)
        {
            frame[0] = (byte)i;
            a.TrySend(frame);
            if (i % 7 == 6) Take();   // frames come in bursts of 7
        }
        Take();
        clock.Advance(after);
        Take();
        Assert.That(faults.Reordered, Is.Zero, "frames sent are not touched by receive faults");
        return order;
    }

    [TestCase(0), TestCase(1), TestCase(3), TestCase(64)]
    public void A_received_frame_held_reaches_the_caller_right_after_the_K_frames_that_overtook_it(int limit)
    {
        var order = Received(new FaultOptions { ReceiveReorderRate = 0.1, ReceiveReorderDisplacement = 3, ReceiveReorderDelay = TimeSpan.FromSeconds(1) }, 200, TimeSpan.Zero, limit);
        Assert.That(order, Is.EquivalentTo(Enumerable.Range(0, 200)), "every frame once, none waiting for the time bound");
        var overtaken = order.Select((f, i) => order.Take(i).Count(g => g > f)).ToList();
        Assert.That(overtaken, Has.All.InRange(0, 3), string.Join(",", order));
        Assert.That(overtaken.Count(o => o == 3), Is.GreaterThan(5), "frames were overtaken by 3: " + string.Join(",", order));
    }

    [TestCase(0), TestCase(8)]
    public void A_received_frame_that_too_few_frames_follow_reaches_the_caller_at_the_time_bound(int limit)
    {
        var options = new FaultOptions { ReceiveReorderRate = 1, ReceiveReorderDisplacement = 3, ReceiveReorderDelay = TimeSpan.FromMilliseconds(1) };
        Assert.That(Received(options, 2, TimeSpan.FromMilliseconds(0.5), limit), Is.Empty, "both held: fewer than 3 followed, the bound not reached");
        Assert.That(Received(options, 2, TimeSpan.FromMilliseconds(1), limit), Is.EqualTo(new[] { 0, 1 }), "both out at the bound, in order");
    }

    [Test]
    public void A_driver_waiting_on_the_link_wakes_when_a_held_received_frame_is_due()
    {
        var clock = new ManualClock();
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 16);
        var faults = new FaultInjectorLink(b, new FaultOptions { ReceiveReorderRate = 1, ReceiveReorderDelay = TimeSpan.FromMilliseconds(2) }, seed: 5, clock);
        a.TrySend(new byte[60]);
        var batch = new FrameBatch(8, 1514);
        Assert.That(faults.Lend(batch), Is.Zero, "held");
        Assert.That(faults.NextRelease, Is.Not.Null.And.LessThanOrEqualTo(TimeSpan.FromMilliseconds(2)));
        clock.Advance(TimeSpan.FromMilliseconds(2));
        Assert.That(faults.WaitReadable(TimeSpan.FromSeconds(1)), Is.True, "the held frame is due: readable at once");
        Assert.That(faults.Lend(batch), Is.EqualTo(1));
        faults.Return(batch);
        Assert.That(faults.NextRelease, Is.Null);
    }

    [Test]
    public void A_held_frame_that_too_few_frames_follow_goes_out_at_the_time_bound()
    {
        var options = new FaultOptions { ReorderRate = 1, ReorderDisplacement = 3, ReorderDelay = TimeSpan.FromMilliseconds(1) };
        Assert.That(Through(options, 2, TimeSpan.FromMilliseconds(0.5)), Is.Empty, "both held: fewer than 3 followed, the bound not reached");
        Assert.That(Through(options, 2, TimeSpan.FromMilliseconds(1)), Is.EqualTo(new[] { 0, 1 }), "both out at the bound, in order");
    }
}
