using TcpIpSharp.Links;

namespace TcpIpSharp.Tests.Links;

/// <summary>The fault injector's reordering of degree K (<see cref="FaultOptions.ReorderDisplacement"/>).</summary>
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

    [Test]
    public void A_held_frame_that_too_few_frames_follow_goes_out_at_the_time_bound()
    {
        var options = new FaultOptions { ReorderRate = 1, ReorderDisplacement = 3, ReorderDelay = TimeSpan.FromMilliseconds(1) };
        Assert.That(Through(options, 2, TimeSpan.FromMilliseconds(0.5)), Is.Empty, "both held: fewer than 3 followed, the bound not reached");
        Assert.That(Through(options, 2, TimeSpan.FromMilliseconds(1)), Is.EqualTo(new[] { 0, 1 }), "both out at the bound, in order");
    }
}
