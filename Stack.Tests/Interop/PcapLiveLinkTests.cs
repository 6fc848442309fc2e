using TcpIpSharp.Links;
using TcpIpSharp.Tests.Support;
using System.Runtime.Versioning;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>PcapLiveLink on a veth end against the real kernel on the other end, in a namespace each test makes and removes (needs root).</summary>
[SupportedOSPlatform("linux")]
[NonParallelizable]
public class PcapLiveLinkTests
{
    private static readonly MacAddress StackMac = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly Ipv4Address StackIp = Ipv4Address.Parse("192.0.2.2");

    [Test]
    public void Kernel_ping_is_answered_over_a_veth_by_a_hand_built_arp_and_echo_responder()
    {
        using var ns = NetNs.Create("pcap");
        // veth-k is the kernel's end (192.0.2.1); veth-s is the stack's, with no address so the kernel stays quiet on it.
        ns.AddVethPair("veth-k", "veth-s", address: "192.0.2.1/24");
        using var link = ns.OpenPcap("veth-s", StackMac);
        using var ping = ns.Start("ping", "-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2");

        var tally = MiniResponder.Serve(link, StackMac, StackIp, () => ping.HasExited, TimeSpan.FromSeconds(15));
        var result = ping.WaitForExit(TimeSpan.FromSeconds(5));

        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.True, result.ToString());
            Assert.That(result.StandardOutput, Does.Contain("3 packets transmitted, 3 received"), result.ToString());
            Assert.That(tally.ArpReplies, Is.GreaterThanOrEqualTo(1), tally.ToString());
            Assert.That(tally.EchoReplies, Is.EqualTo(3), tally.ToString());
            Assert.That(tally.FramesFromSelf, Is.Zero, "the link never hands back the frames it sent");
            Assert.That(link.FiltersByDirection, Is.True, "pcap_setdirection(PCAP_D_IN) works on Linux");
            Assert.That(link.FramesSent, Is.EqualTo(tally.ArpReplies + tally.EchoReplies));
            Assert.That(link.ReceiveErrors + link.SendErrors, Is.Zero, link.LastError);
        });
    }

    [Test]
    public void Frames_others_send_through_the_interface_are_not_received_by_direction_or_by_source_mac_in_the_fallback()
    {
        // A packet socket never gets back its own transmissions, but libpcap does see what other sockets (and the
        // kernel) send through the interface. Here a second handle injects frames from the stack's MAC.
        using var ns = NetNs.Create("pcapdir");
        ns.AddVethPair("veth-k", "veth-s");
        using var byDirection = ns.OpenPcap("veth-s", StackMac);
        using var bySource = ns.OpenPcapFilteringBySource("veth-s", StackMac);
        using var injector = ns.OpenPcap("veth-s");
        var frame = new byte[60];
        // EtherType 0x88B5 (IEEE 802 local experimental) to an unknown unicast MAC: the kernel on veth-k drops it silently.
        new EthernetHeader(MacAddress.Parse("02:00:00:00:00:99"), StackMac, (EtherType)0x88B5).WriteTo(frame);
        for (int i = 0; i < 5; i++) Assert.That(injector.TrySend(frame), Is.True, injector.LastError);

        Thread.Sleep(200);
        var buffer = new byte[1514];
        int seenByDirection = 0, seenBySource = 0;
        while (byDirection.TryReceive(buffer) > 0) seenByDirection++;
        while (bySource.TryReceive(buffer) > 0) seenBySource++;

        Assert.Multiple(() =>
        {
            Assert.That(byDirection.FiltersByDirection, Is.True);
            Assert.That(seenByDirection, Is.Zero, "pcap_setdirection(PCAP_D_IN) hides frames sent through the interface");
            Assert.That(bySource.FiltersByDirection, Is.False);
            Assert.That(seenBySource, Is.Zero, "the fallback drops frames from the stack's own MAC");
            Assert.That(bySource.OwnFramesDropped, Is.EqualTo(5), "and counts them");
        });
    }

    [Test]
    public void Receive_send_and_wait_allocate_nothing_over_10000_frames_after_warm_up([Values] bool lend)
    {
        using var ns = NetNs.Create("pcapalloc");
        ns.AddVethPair("veth-k", "veth-s", address: "192.0.2.1/24");
        using var link = ns.OpenPcap("veth-s", StackMac);
        var request = new byte[EthernetHeader.Size + ArpHeader.Size];
        int n = new EthernetHeader(MacAddress.Broadcast, StackMac, EtherType.Arp).WriteTo(request);
        new ArpHeader(ArpOperation.Request, StackMac, StackIp, MacAddress.Zero, Ipv4Address.Parse("192.0.2.1")).WriteTo(request.AsSpan(n));
        var buffer = new byte[link.Capabilities.MaxFrameSize];
        var batch = lend ? new FrameBatch(32, link.Capabilities.MaxFrameSize) : null;
        var wait = TimeSpan.FromSeconds(1);

        // The kernel on veth-k answers each ARP request: one frame injected and one captured per round.
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

        TestContext.Out.WriteLine($"10,000 ARP round trips over the veth with pcap: {replies} replies, {allocated} bytes allocated");
        Assert.Multiple(() =>
        {
            Assert.That(allocated, Is.Zero, $"bytes allocated by 10,000 TrySend + WaitReadable + {(lend ? "Lend/Return" : "TryReceive")} rounds (SharpPcap included)");
            Assert.That(replies, Is.GreaterThanOrEqualTo(9_900), "the kernel's ARP replies were captured");
            Assert.That(link.SendErrors, Is.Zero, link.LastError);
        });
    }

    [Test]
    public void Frames_are_lent_in_place_one_per_lend_under_the_lending_contract()
    {
        using var ns = NetNs.Create("pcaplend");
        ns.AddVethPair("veth-k", "veth-s", address: "192.0.2.1/24");
        using var link = ns.OpenPcap("veth-s", StackMac);
        var kernel = Ipv4Address.Parse("192.0.2.1");
        var sender = Ipv4Address.Parse("192.0.2.20");
        var lent = LinkAssertions.LendingContract(link, count => sender = LinkAssertions.ArpRepliesArrive(link, StackMac, sender, kernel, count));
        Assert.That(LinkAssertions.ArpReplyTargets(lent), Is.EqualTo(Enumerable.Range(20, 8).Select(i => new Ipv4Address(192, 0, 2, (byte)i))),
            "every reply lent once, in order");

        // libpcap keeps a frame only until its next read: one frame per lend, and no read of any kind while it is out.
        LinkAssertions.ArpRepliesArrive(link, StackMac, sender, kernel, 3);
        var batch = new FrameBatch(8, 1518);
        Assert.That(link.Lend(batch), Is.EqualTo(1));
        Assert.That(() => link.TryReceive(new byte[1518]), Throws.InvalidOperationException, "a copy read would overwrite the lent frame");
        link.Return(batch);
        Assert.That(LinkAssertions.Drain(link, new byte[1518], batch), Is.EqualTo(2));
        Assert.That(link.ReceiveErrors + link.OversizeDropped, Is.Zero, link.LastError);
    }

    [Test]
    public void WaitReadable_returns_early_when_another_thread_calls_Interrupt()
    {
        using var ns = NetNs.Create("pcapwake");
        ns.AddVethPair("veth-k", "veth-s");
        using var link = ns.OpenPcap("veth-s");
        LinkAssertions.InterruptWakesWaitReadable(link);
    }

    [Test]
    public void Opening_an_interface_that_is_not_in_the_namespace_names_what_pcap_sees()
    {
        using var ns = NetNs.Create("pcapnone");
        var error = Assert.Throws<IOException>(() => ns.OpenPcap("veth-missing"));
        Assert.That(error!.Message, Does.Contain("no interface 'veth-missing'").And.Contain("lo"));
    }
}
