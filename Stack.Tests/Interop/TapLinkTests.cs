using TcpIpSharp.Links;
using TcpIpSharp.Tests.Support;
using System.Runtime.Versioning;
using TcpIpSharp.Linux;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>TapLink against the real kernel, in a namespace each test makes and removes (needs root).</summary>
[SupportedOSPlatform("linux")]
[NonParallelizable]
public class TapLinkTests
{
    private static readonly MacAddress StackMac = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly Ipv4Address StackIp = Ipv4Address.Parse("192.0.2.2");
    private static readonly Ipv4Address KernelIp = Ipv4Address.Parse("192.0.2.1");

    [Test]
    public void Kernel_ping_is_answered_through_the_tap_by_a_hand_built_arp_and_echo_responder([Values(TapIoMode.PerFrame, TapIoMode.IoUring, TapIoMode.IoUringPolled)] TapIoMode io)
    {
        using var ns = NetNs.Create("tap");
        ns.AddTap("tap0", "192.0.2.1/24");
        using var link = ns.OpenTap("tap0", io: io);
        using var ping = ns.Start("ping", "-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2");

        var tally = MiniResponder.Serve(link, StackMac, StackIp, () => ping.HasExited, TimeSpan.FromSeconds(15));
        var result = ping.WaitForExit(TimeSpan.FromSeconds(5));

        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.True, result.ToString());
            Assert.That(result.StandardOutput, Does.Contain("3 packets transmitted, 3 received"), result.ToString());
            Assert.That(tally.ArpReplies, Is.GreaterThanOrEqualTo(1), tally.ToString());
            Assert.That(tally.EchoReplies, Is.EqualTo(3), tally.ToString());
            Assert.That(tally.FramesFromSelf, Is.Zero, "a TAP never hands back the frames written to it");
            Assert.That(link.FramesReceived, Is.EqualTo(tally.FramesIn));
            Assert.That(link.FramesSent, Is.EqualTo(tally.ArpReplies + tally.EchoReplies));
            Assert.That(link.BytesSent, Is.GreaterThan(3 * 98));
            Assert.That(link.ReceiveErrors + link.SendErrors, Is.Zero, $"errno {link.LastErrno}");
        });
    }

    [Test]
    public void Open_creates_a_tap_that_does_not_exist_and_it_goes_away_on_dispose([Values(TapIoMode.PerFrame, TapIoMode.IoUring, TapIoMode.IoUringPolled)] TapIoMode io)
    {
        // With io_uring, reads are in flight at Dispose and each holds the TAP's file: the device goes away only once
        // they are cancelled and drained.
        using var ns = NetNs.Create("tapnew");
        var link = ns.OpenTap("tapnew0", io: io);
        Assert.That(link.UsesIoUring, Is.EqualTo(io != TapIoMode.PerFrame), link.IoUringUnavailable);
        Assert.That(link.Name, Is.EqualTo("tapnew0"));
        Assert.That(ns.Ip("link", "show", "tapnew0"), Does.Contain("tapnew0"));
        link.Dispose();
        Assert.That(ns.Exec(NetNs.DefaultTimeout, "ip", "link", "show", "tapnew0").ExitCode, Is.Not.Zero, "a TAP the link created is not persistent");
    }

    [Test]
    public void Created_tells_a_tap_the_link_made_from_one_it_attached_to_and_the_transmit_queue_is_read_and_set()
    {
        using var ns = NetNs.Create("tapq");
        ns.AddTap("tap0");
        using var attached = ns.OpenTap("tap0");
        using var made = ns.OpenTap("tapq1");
        int kernelQueue = int.Parse(System.Text.RegularExpressions.Regex.Match(ns.Ip("link", "show", "tap0"), @"qlen (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int set = made.SetTransmitQueueLength(4321);
        Assert.Multiple(() =>
        {
            Assert.That(attached.Created, Is.False, "ip tuntap add made tap0");
            Assert.That(made.Created, Is.True);
            Assert.That(attached.TransmitQueueLength, Is.EqualTo(kernelQueue), "as ip link show says");
            Assert.That(set, Is.EqualTo(4321));
            Assert.That(ns.Ip("link", "show", "tapq1"), Does.Contain("qlen 4321"));
            Assert.That(attached.TransmitQueueLength, Is.EqualTo(kernelQueue), "the other device is untouched");
            Assert.Throws<ArgumentOutOfRangeException>(() => made.SetTransmitQueueLength(0));
        });
    }

    [Test]
    public void Capabilities_and_ReadMtu_follow_the_interface_mtu()
    {
        using var ns = NetNs.Create("tapmtu");
        ns.AddTap("tap0");
        ns.Ip("link", "set", "tap0", "mtu", "1400");
        using var link = ns.OpenTap("tap0");
        Assert.Multiple(() =>
        {
            Assert.That(link.Capabilities.Mtu, Is.EqualTo(1400));
            Assert.That(link.Capabilities.MaxFrameSize, Is.EqualTo(1414));
            Assert.That(TapLink.ReadMtu("tap0", ns.Path), Is.EqualTo(1400));
        });
    }

    [Test]
    public void Opening_a_tap_in_a_namespace_that_does_not_exist_names_the_problem()
    {
        NetNs.RequireRootAnd("ip", "iproute2");
        var error = Assert.Throws<IOException>(() => TapLink.Open("tap0", "/var/run/netns/tis-no-such-namespace"));
        Assert.That(error!.Message, Does.Contain("no such network namespace"));
    }

    [Test]
    public void WaitReadable_returns_early_when_another_thread_calls_Interrupt([Values(TapIoMode.PerFrame, TapIoMode.IoUring, TapIoMode.IoUringPolled)] TapIoMode io)
    {
        using var ns = NetNs.Create("tapwake");
        ns.AddTap("tap0");
        using var link = ns.OpenTap("tap0", io: io);
        LinkAssertions.InterruptWakesWaitReadable(link);
    }

    [Test]
    public void A_frame_longer_than_the_buffer_is_dropped_and_counted([Values(TapIoMode.PerFrame, TapIoMode.IoUring)] TapIoMode io)
    {
        using var ns = NetNs.Create("tapbig");
        ns.AddTap("tap0", "192.0.2.1/24");
        using var link = ns.OpenTap("tap0", io: io);
        var request = ArpRequest();
        Assert.That(link.TrySend(request), Is.True);
        Assert.That(link.WaitReadable(TimeSpan.FromSeconds(5)), Is.True, "the kernel answers an ARP request");

        var small = new byte[20];
        Assert.That(link.TryReceive(small), Is.Zero);
        Assert.That(link.OversizeDropped, Is.EqualTo(1));
        Assert.That(link.TryReceive(new byte[1514]), Is.Zero, "the long frame is gone, not left for the next read");
        Assert.That(link.FramesReceived, Is.Zero);
    }

    [Test]
    public void Receive_send_and_wait_allocate_nothing_over_10000_frames_after_warm_up([Values(TapIoMode.PerFrame, TapIoMode.IoUring, TapIoMode.IoUringPolled)] TapIoMode io,
        [Values] bool lend)
    {
        using var ns = NetNs.Create("tapalloc");
        ns.AddTap("tap0", "192.0.2.1/24");
        using var link = ns.OpenTap("tap0", io: io);
        var request = ArpRequest();
        var buffer = new byte[link.Capabilities.MaxFrameSize];
        var batch = lend ? new FrameBatch(32, link.Capabilities.MaxFrameSize) : null;
        var wait = TimeSpan.FromSeconds(1);

        // The kernel answers each ARP request with a reply: one frame out and one in per round.
        int RoundTrips(int count)
        {
            int received = 0;
            for (int i = 0; i < count; i++)
            {
                link.TrySend(request);
                if (link.WaitReadable(wait)) received += LinkAssertions.Drain(link, buffer, batch);
            }
            return received;
        }

        RoundTrips(200);
        int replies = 0;
        long allocated = AllocationMeter.BytesAllocatedBy(() => replies = RoundTrips(10_000));

        Assert.Multiple(() =>
        {
            Assert.That(allocated, Is.Zero, $"bytes allocated by 10,000 TrySend + WaitReadable + {(lend ? "Lend/Return" : "TryReceive")} rounds");
            Assert.That(replies, Is.GreaterThanOrEqualTo(9_900), "the kernel's ARP replies came back through the TAP");
            Assert.That(link.SendErrors, Is.Zero);
        });
        Assert.That(link.UsesIoUring, Is.EqualTo(io != TapIoMode.PerFrame), link.IoUringUnavailable);
        TestContext.Out.WriteLine($"10,000 ARP round trips through the TAP ({io}): {replies} replies, {allocated} bytes allocated, {link.IoUringEnters} io_uring_enter calls in all");
    }

    [Test]
    public void With_submission_polling_a_kernel_thread_of_the_process_issues_the_frames_without_a_system_call_each()
    {
        using var ns = NetNs.Create("tapsqp");
        ns.AddTap("tap0", "192.0.2.1/24");
        int before = PollingThreads();
        using var link = ns.OpenTap("tap0", io: TapIoMode.IoUringPolled);
        Assert.That(link.UsesIoUring, Is.True, link.IoUringUnavailable);
        Assert.That(PollingThreads(), Is.EqualTo(before + 1), "io_uring's polling thread (iou-sqp-PID) is one of this process's");

        // Bursts of 64 ARP requests, each burst flushed at once: without polling every burst costs at least two
        // io_uring_enter calls (the 32-frame batches); with it the polling thread, still spinning, takes them from the ring.
        var request = ArpRequest();
        var buffer = new byte[link.Capabilities.MaxFrameSize];
        int replies = 0;
        long enters = link.IoUringEnters;
        for (int burst = 0; burst < 20; burst++)
        {
            for (int i = 0; i < 64; i++) Assert.That(link.TrySend(request), Is.True);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            int want = replies + 64;
            while (replies < want && DateTime.UtcNow < deadline)
                if (link.WaitReadable(TimeSpan.FromMilliseconds(100))) replies += LinkAssertions.Drain(link, buffer, null);
        }
        Assert.Multiple(() =>
        {
            Assert.That(replies, Is.EqualTo(20 * 64), "the kernel answered every request through the TAP");
            Assert.That(link.FramesSent, Is.EqualTo(20 * 64));
            Assert.That(link.IoUringEnters - enters, Is.LessThan(40), "io_uring_enter calls for 1,280 frames sent and received");
            TestContext.Out.WriteLine($"20 bursts of 64 frames each way: {link.IoUringEnters - enters} io_uring_enter calls");
            Assert.That(link.SendErrors + link.ReceiveErrors, Is.Zero, $"errno {link.LastErrno}");
        });
        link.Dispose();
        // The kernel tears the ring down in a worker after the close, the polling thread with it.
        var gone = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (PollingThreads() > before && DateTime.UtcNow < gone) Thread.Sleep(20);
        Assert.That(PollingThreads(), Is.EqualTo(before), "the polling thread ends with the ring");
    }

    private static int PollingThreads() => Directory.GetDirectories("/proc/self/task")
        .Count(task => File.Exists(task + "/comm") && File.ReadAllText(task + "/comm").StartsWith("iou-sqp", StringComparison.Ordinal));

    [Test]
    public void Frames_are_lent_in_place_under_the_lending_contract([Values(TapIoMode.PerFrame, TapIoMode.IoUring, TapIoMode.IoUringPolled)] TapIoMode io, [Values] bool offloads)
    {
        using var ns = NetNs.Create("taplend");
        ns.AddTap("tap0", "192.0.2.1/24");
        using var link = ns.OpenTap("tap0", offloads: offloads, io: io);
        Assert.That(link.OffloadsEnabled, Is.EqualTo(offloads), link.OffloadsRefused);
        var sender = Ipv4Address.Parse("192.0.2.20");
        var lent = LinkAssertions.LendingContract(link, count => sender = LinkAssertions.ArpRepliesArrive(link, StackMac, sender, KernelIp, count));
        Assert.Multiple(() =>
        {
            Assert.That(LinkAssertions.ArpReplyTargets(lent), Is.EqualTo(Enumerable.Range(20, 8).Select(i => new Ipv4Address(192, 0, 2, (byte)i))),
                "every reply lent once, in the order the kernel sent them");
            Assert.That(link.FramesReceived, Is.EqualTo(lent.Count));
            Assert.That(link.ReceiveErrors + link.OversizeDropped + link.ChecksumErrors, Is.Zero, $"errno {link.LastErrno}");
        });
    }

    [Test]
    public void With_a_transmit_thread_every_frame_is_written_and_the_stack_thread_allocates_nothing()
    {
        using var ns = NetNs.Create("taptx");
        ns.AddTap("tap0", "192.0.2.1/24");
        using var link = ns.OpenTap("tap0", transmitThread: true);
        Assert.That(link.HasTransmitThread, Is.True);
        var buffer = new byte[link.Capabilities.MaxFrameSize];
        var wait = TimeSpan.FromSeconds(1);
        var request = ArpRequest();
        var requests = Enumerable.Repeat(request, 1000).ToArray();

        // Bursts of the whole array with no waiting between frames: more than the transmit ring's 256 slots, so the
        // stack's thread also waits for room.
        int Burst()
        {
            int replies = 0;
            foreach (var request in requests)
            {
                link.TrySend(request);
                int n;
                while ((n = link.TryReceive(buffer)) > 0) replies += Reply(buffer.AsSpan(0, n));
            }
            while (link.WaitReadable(TimeSpan.FromMilliseconds(200)))
            {
                int n;
                while ((n = link.TryReceive(buffer)) > 0) replies += Reply(buffer.AsSpan(0, n));
            }
            return replies;
        }
        int Reply(ReadOnlySpan<byte> frame) => frame.Length >= EthernetHeader.Size + ArpHeader.Size && frame[12] == 0x08 && frame[13] == 0x06 ? 1 : 0;

        Burst();
        long sentBefore = link.FramesSent;
        int got = 0;
        long allocated = AllocationMeter.BytesAllocatedBy(() => { for (int i = 0; i < 5; i++) got += Burst(); });
        for (int i = 0; i < 50 && link.FramesSent < sentBefore + 5 * requests.Length; i++) link.WaitReadable(TimeSpan.FromMilliseconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(allocated, Is.Zero, "bytes allocated on the stack's thread by 5,000 TrySend (through the ring) + TryReceive");
            Assert.That(link.FramesSent - sentBefore, Is.EqualTo(5 * requests.Length), "every frame queued was written");
            Assert.That(link.SendErrors, Is.Zero);
            Assert.That(got, Is.GreaterThanOrEqualTo(5 * requests.Length * 99 / 100), "the kernel answered the requests");
        });
        TestContext.Out.WriteLine($"5,000 frames through the transmit thread: {got} ARP replies; the stack's thread waited for room {link.TransmitRingFullWaits} times, the writer slept {link.TransmitThreadSleeps} times");
    }

    [Test]
    public void With_a_transmit_thread_replies_come_back_in_the_order_the_requests_were_queued()
    {
        using var ns = NetNs.Create("taptxord");
        ns.AddTap("tap0", "192.0.2.1/24");
        using var link = ns.OpenTap("tap0", transmitThread: true);
        var buffer = new byte[link.Capabilities.MaxFrameSize];
        // ARP requests from 600 different sender addresses (all for the kernel's address): each reply goes back to
        // the address that asked, so the replies' targets show the order in which the kernel took the requests.
        const int count = 600;
        var targets = new List<uint>(count);
        for (int i = 0; i < count; i++)
        {
            var request = ArpRequest();
            ArpSenderOf(request, new Ipv4Address(0xC0000200u + 10 + (uint)(i % 200)));
            link.TrySend(request);
            int n;
            while ((n = link.TryReceive(buffer)) > 0) Collect(buffer.AsSpan(0, n));
        }
        while (link.WaitReadable(TimeSpan.FromMilliseconds(300)))
        {
            int n;
            while ((n = link.TryReceive(buffer)) > 0) Collect(buffer.AsSpan(0, n));
        }
        void Collect(ReadOnlySpan<byte> frame)
        {
            if (frame.Length < EthernetHeader.Size + ArpHeader.Size || frame[12] != 0x08 || frame[13] != 0x06) return;
            targets.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame[(EthernetHeader.Size + 24)..]));
        }

        Assert.That(targets, Has.Count.GreaterThanOrEqualTo(count * 99 / 100), "the kernel answered the requests");
        // Each reply's target is the next sender address after the previous reply's (a step of 1, or a few if the kernel
        // dropped one); a step of 0 or backwards would be a frame overtaking another in the ring.
        int outOfOrder = 0;
        for (int i = 1; i < targets.Count; i++)
            if ((targets[i] - targets[i - 1] + 200) % 200 is 0 or > 10) outOfOrder++;
        Assert.That(outOfOrder, Is.Zero, "replies out of the order their requests were queued in");
    }

    private static void ArpSenderOf(byte[] frame, Ipv4Address sender)
        => System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(EthernetHeader.Size + 14), sender.Value);

    private static byte[] ArpRequest()
    {
        var frame = new byte[EthernetHeader.Size + ArpHeader.Size];
        int n = new EthernetHeader(MacAddress.Broadcast, StackMac, EtherType.Arp).WriteTo(frame);
        new ArpHeader(ArpOperation.Request, StackMac, StackIp, MacAddress.Zero, KernelIp).WriteTo(frame.AsSpan(n));
        return frame;
    }
}
