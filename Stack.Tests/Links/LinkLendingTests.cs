using TcpIpSharp.Links;
using TcpIpSharp.Tests.Interop;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Links;

/// <summary>
/// The lending contract of <see cref="ILink.Lend"/> on the in-memory pair, through the wrappers, through the copying
/// default, and as the stack uses it (the TAP's and pcap's are in Interop/, against the kernel).
/// </summary>
public class LinkLendingTests
{
    private static int s_frameNumber;

    // Distinct frames: a 60-byte "frame" whose bytes all carry its number, and a length that varies with it.
    private static byte[] NumberedFrame()
    {
        int number = Interlocked.Increment(ref s_frameNumber);
        var frame = new byte[60 + number % 40];
        frame.AsSpan().Fill((byte)number);
        frame[0] = (byte)(number >> 8);
        return frame;
    }

    private static Action<int> SendThrough(ILink sender, List<byte[]> sent) => count =>
    {
        for (int i = 0; i < count; i++)
        {
            var frame = NumberedFrame();
            Assert.That(sender.TrySend(frame), Is.True, "the queue had room");
            sent.Add(frame);
        }
    };

    [Test]
    public void The_in_memory_pair_lends_the_queued_frames_themselves_in_order_and_once()
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 64);
        var (stranger, _) = InMemoryLink.CreatePair();
        var sent = new List<byte[]>();
        var lent = LinkAssertions.LendingContract(b, SendThrough(a, sent), stranger);
        Assert.That(lent, Is.EqualTo(sent), "the frames sent, in order, each lent once");
        Assert.That(b.Pending, Is.Zero);
    }

    [Test]
    public void A_lent_frame_holds_its_queue_slot_until_returned_and_returned_slots_are_reused()
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 4);
        for (int i = 0; i < 4; i++) Assert.That(a.TrySend(NumberedFrame()), Is.True);
        var batch = new FrameBatch(8, 1514);
        Assert.That(b.Lend(batch), Is.EqualTo(4), "a lend takes every frame queued, up to the batch's limit");
        Assert.That(b.Pending, Is.Zero);
        Assert.That(a.TrySend(NumberedFrame()), Is.False, "the four lent frames still fill the four slots");
        Assert.That(b.Overflows, Is.EqualTo(1));
        b.Return(batch);
        var next = NumberedFrame();
        Assert.That(a.TrySend(next), Is.True, "a returned slot takes the next frame");
        Assert.That(b.Lend(batch), Is.EqualTo(1));
        Assert.That(batch[0].ToArray(), Is.EqualTo(next));
        b.Return(batch);
    }

    [Test]
    public void Returned_frames_are_poisoned_when_a_test_asks_so_that_a_kept_reference_reads_garbage()
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 4);
        var frame = NumberedFrame();
        a.TrySend(frame);
        var batch = new FrameBatch(4, 1514);
        Assert.That(b.Lend(batch), Is.EqualTo(1));
        // What a buggy stack would do: keep the span past the return.
        var kept = batch[0];
        b.Return(batch);
        Assert.That(kept.ToArray(), Is.EqualTo(frame), "without poisoning a kept reference still reads the old frame: the bug would hide");

        b.PoisonReturnedFrames = true;
        a.TrySend(frame);
        Assert.That(b.Lend(batch), Is.EqualTo(1));
        kept = batch[0];
        Assert.That(kept.ToArray(), Is.EqualTo(frame));
        b.Return(batch);
        Assert.That(kept.ToArray(), Is.All.EqualTo(0xA5), "with poisoning it reads garbage");
    }

    [Test]
    public void The_fault_injector_passes_lending_through_to_the_link_it_wraps()
    {
        var clock = new ManualClock();
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 64);
        var faults = new FaultInjectorLink(b, new FaultOptions(), seed: 1, clock);
        var sent = new List<byte[]>();
        var lent = LinkAssertions.LendingContract(faults, SendThrough(a, sent), stranger: InMemoryLink.CreatePair().A);
        Assert.That(lent, Is.EqualTo(sent));

        a.TrySend(NumberedFrame());
        var batch = new FrameBatch(4, 1514);
        Assert.That(faults.Lend(batch), Is.EqualTo(1));
        Assert.That(batch.Lender, Is.SameAs(b), "the frames are the wrapped link's, lent in place");
        faults.Return(batch);
    }

    [Test]
    public void The_fault_injector_reordering_received_frames_lends_a_batch_of_its_own_and_keeps_the_contract()
    {
        var clock = new ManualClock();
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 64);
        var faults = new FaultInjectorLink(b, new FaultOptions { ReceiveReorderRate = 0.3, ReceiveReorderDisplacement = 1, ReceiveReorderDelay = TimeSpan.FromMilliseconds(1) }, seed: 1, clock);
        var sent = new List<byte[]>();
        var lent = LinkAssertions.LendingContract(faults, SendThrough(a, sent), stranger: InMemoryLink.CreatePair().A);
        // A frame held for one more that never came goes at the time bound.
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var batch = new FrameBatch(8, 1514);
        for (int n; (n = faults.Lend(batch)) > 0; faults.Return(batch))
            for (int i = 0; i < n; i++) lent.Add(batch[i].ToArray());
        Assert.That(faults.ReorderedReceived, Is.GreaterThan(0), "frames were held back");
        Assert.That(lent, Is.EquivalentTo(sent), "every frame lent once");
        Assert.That(lent, Is.Not.EqualTo(sent), "not in the order they came");
        Assert.That(b.Pending, Is.Zero);

        // One more frame: lent at once, or held and lent at the time bound; either way in the injector's own batch.
        a.TrySend(NumberedFrame());
        if (faults.Lend(batch) == 0)
        {
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.That(faults.Lend(batch), Is.EqualTo(1), "the held frame, at its time bound");
        }
        Assert.That(batch.Count, Is.EqualTo(1));
        Assert.That(batch.Lender, Is.SameAs(faults), "the injector's own batch, not the wrapped link's");
        faults.Return(batch);
        Assert.That(b.Pending, Is.Zero);
    }

    [Test]
    public void The_tracer_passes_lending_through_and_writes_each_frame_lent_to_the_capture()
    {
        var clock = new ManualClock();
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 64);
        var output = new MemoryStream();
        using var tracer = new PcapTracerLink(b, output, clock, ownsOutput: false);
        var sent = new List<byte[]>();
        var lent = LinkAssertions.LendingContract(tracer, SendThrough(a, sent), stranger: InMemoryLink.CreatePair().A);
        tracer.Flush();
        Assert.That(lent, Is.EqualTo(sent));

        // The capture: a 24-byte file header, then per frame a 16-byte record header and the frame.
        var bytes = output.ToArray().AsSpan(24);
        var captured = new List<byte[]>();
        while (bytes.Length >= 16)
        {
            int length = BitConverter.ToInt32(bytes[8..12]);
            captured.Add(bytes.Slice(16, length).ToArray());
            bytes = bytes[(16 + length)..];
        }
        Assert.That(captured, Is.EqualTo(sent), "each frame written once, as lent");
    }

    /// <summary>A third-party link of the old shape: it implements TryReceive only.</summary>
    private sealed class CopyOnlyLink : ILink
    {
        private readonly Queue<byte[]> _frames = new();
        public LinkCapabilities Capabilities => LinkCapabilities.Ethernet;
        public int Receives { get; private set; }
        public void Put(byte[] frame) => _frames.Enqueue(frame);
        public int TryReceive(Span<byte> buffer)
        {
            if (!_frames.TryDequeue(out var frame)) return 0;
            Receives++;
            frame.CopyTo(buffer);
            return frame.Length;
        }
        public bool TrySend(ReadOnlySpan<byte> frame) => true;
        public bool WaitReadable(TimeSpan timeout) => _frames.Count > 0;
        public void Interrupt() { }
        public void Dispose() { }
    }

    [Test]
    public void A_link_that_only_copies_lends_through_the_default_one_copied_frame_at_a_time()
    {
        var link = new CopyOnlyLink();
        var sent = new List<byte[]>();
        void Arrive(int count)
        {
            for (int i = 0; i < count; i++)
            {
                var frame = NumberedFrame();
                link.Put(frame);
                sent.Add(frame);
            }
        }
        var lent = LinkAssertions.LendingContract(link, Arrive, stranger: new CopyOnlyLink(), lendsInPlace: false);
        Assert.That(lent, Is.EqualTo(sent));
        Assert.That(link.Receives, Is.EqualTo(sent.Count), "one TryReceive per frame");

        ILink asLink = link;
        link.Put(NumberedFrame());
        link.Put(NumberedFrame());
        var batch = new FrameBatch(8, 1514);
        Assert.That(asLink.Lend(batch), Is.EqualTo(1), "the default copies one frame per lend, into the batch's copy buffer");
        Assert.That(batch.Lender, Is.SameAs(link));
        asLink.Return(batch);
    }

    private static NetworkStackOptions Options(int budget = 256) => new()
    {
        MacAddress = MacAddress.Parse("02:00:00:00:00:0a"),
        Address = Ipv4Address.Parse("192.0.2.10"),
        ReceiveBudgetPerPoll = budget,
    };

    // A frame for no one: another host's MAC, dropped at the Ethernet layer.
    private static byte[] FrameForAnotherHost()
    {
        var frame = new byte[60];
        new EthernetHeader(MacAddress.Parse("02:00:00:00:00:99"), MacAddress.Parse("02:00:00:00:00:0b"), EtherType.Ipv4).WriteTo(frame);
        return frame;
    }

    [Test]
    public void A_poll_takes_frames_in_bounded_batches_up_to_its_budget_and_returns_every_batch()
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 256);
        using var stack = new NetworkStack(b, Options(budget: 70), new SeededRandomSource(1));
        int framesSeen = 0, batchOutDuringProcessing = 0;
        var probe = new FrameBatch(1, 1514);
        stack.AfterFrame = _ =>
        {
            framesSeen++;
            // While the stack processes, its batch is out: the link refuses a second one.
            try { b.Lend(probe); }
            catch (InvalidOperationException) { batchOutDuringProcessing++; }
        };
        for (int i = 0; i < 100; i++) a.TrySend(FrameForAnotherHost());

        stack.Poll(TimeSpan.FromSeconds(1));
        Assert.Multiple(() =>
        {
            Assert.That(framesSeen, Is.EqualTo(70), "the budget bounds a poll");
            Assert.That(batchOutDuringProcessing, Is.EqualTo(70));
            Assert.That(b.Pending, Is.EqualTo(30));
        });
        stack.AfterFrame = null;
        stack.Poll(TimeSpan.FromSeconds(2));
        Assert.That(b.Pending, Is.Zero);
        Assert.That(b.Lend(probe), Is.Zero, "after the poll no batch is out: the link lends again");
        Assert.That(stack.Statistics.Drops(Diagnostics.DropReason.EthernetNotForUs), Is.EqualTo(100));
    }

    [Test]
    public void A_poll_returns_the_batch_even_when_processing_a_frame_throws()
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 16);
        using var stack = new NetworkStack(b, Options(), new SeededRandomSource(1));
        stack.AfterFrame = _ => throw new InvalidOperationException("an invariant check failed");
        a.TrySend(FrameForAnotherHost());
        a.TrySend(FrameForAnotherHost());
        Assert.That(() => stack.Poll(TimeSpan.FromSeconds(1)), Throws.InvalidOperationException.With.Message.EqualTo("an invariant check failed"));
        var batch = new FrameBatch(4, 1514);
        Assert.That(() => b.Lend(batch), Throws.Nothing, "the stack returned its batch on the way out");
        if (batch.Count > 0) b.Return(batch);
    }
    /// <summary>Counts the lends a stack asks of the link it wraps.</summary>
    private sealed class CountingLink(ILink inner) : ILink
    {
        public int Lends { get; private set; }
        public LinkCapabilities Capabilities => inner.Capabilities;
        public int TryReceive(Span<byte> buffer) => inner.TryReceive(buffer);
        public int Lend(FrameBatch batch)
        {
            Lends++;
            return inner.Lend(batch);
        }
        public void Return(FrameBatch batch) => inner.Return(batch);
        public bool TrySend(ReadOnlySpan<byte> frame) => inner.TrySend(frame);
        public bool WaitReadable(TimeSpan timeout) => inner.WaitReadable(timeout);
        public void Interrupt() => inner.Interrupt();
        public void Dispose() => inner.Dispose();
    }

    [Test]
    public void The_in_memory_link_marks_a_batch_drained_only_when_its_queue_is_empty()
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 64);
        for (int i = 0; i < 40; i++) a.TrySend(FrameForAnotherHost());
        var batch = new FrameBatch(32, 1514);
        Assert.That(b.Lend(batch), Is.EqualTo(32));
        Assert.That(batch.Drained, Is.False, "eight frames are still queued");
        b.Return(batch);
        Assert.That(batch.Drained, Is.False, "a returned batch carries no mark");
        Assert.That(b.Lend(batch), Is.EqualTo(8));
        Assert.That(batch.Drained, Is.True, "the queue is empty now");
        b.Return(batch);
        Assert.That(b.Lend(batch), Is.Zero);
        Assert.That(batch.Drained, Is.True, "an empty lend is drained too (and is not returned)");
        a.TrySend(FrameForAnotherHost());
        a.TrySend(FrameForAnotherHost());
        batch.Limit = 1;
        Assert.That(batch.Drained, Is.False, "the next lend starts unmarked");
        Assert.That(b.Lend(batch), Is.EqualTo(1));
        Assert.That(batch.Drained, Is.False, "one frame is still queued: the mark of the empty lend did not carry over");
        b.Return(batch);
    }

    [Test]
    public void A_poll_lends_once_from_a_link_that_says_it_is_drained_and_again_from_one_that_cannot_tell()
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 64);
        var counting = new CountingLink(b);
        using var stack = new NetworkStack(counting, Options(), new SeededRandomSource(1));
        for (int i = 0; i < 5; i++) a.TrySend(FrameForAnotherHost());
        stack.Poll(TimeSpan.FromSeconds(1));
        Assert.That(counting.Lends, Is.EqualTo(1), "five frames, one lend: the link said it had no more (before: a second lend that found none)");
        stack.Poll(TimeSpan.FromSeconds(2));
        Assert.That(counting.Lends, Is.EqualTo(2), "nothing queued: one lend that finds nothing");
        for (int i = 0; i < 40; i++) a.TrySend(FrameForAnotherHost());
        stack.Poll(TimeSpan.FromSeconds(3));
        Assert.That(counting.Lends, Is.EqualTo(4), "forty frames: a full batch of 32, then the last 8 marked drained (the empty lend's mark did not stop the poll after 32)");
        Assert.That(stack.Statistics.Drops(Diagnostics.DropReason.EthernetNotForUs), Is.EqualTo(45));

        var copyOnly = new CopyOnlyLink();
        var countingCopy = new CountingLink(copyOnly);
        using var other = new NetworkStack(countingCopy, Options(), new SeededRandomSource(1));
        copyOnly.Put(FrameForAnotherHost());
        copyOnly.Put(FrameForAnotherHost());
        other.Poll(TimeSpan.FromSeconds(1));
        Assert.That(countingCopy.Lends, Is.EqualTo(3), "the copying default lends one frame a call and cannot tell: lent until a lend finds nothing");
        Assert.That(other.Statistics.Drops(Diagnostics.DropReason.EthernetNotForUs), Is.EqualTo(2));
    }
}
