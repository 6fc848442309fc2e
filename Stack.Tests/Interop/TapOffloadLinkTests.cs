using TcpIpSharp.Links;
using TcpIpSharp.Tests.Support;
using System.Runtime.Versioning;
using TcpIpSharp.Linux;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>TapLink opened with the virtio-net header and offloads, against the real kernel (needs root).</summary>
[SupportedOSPlatform("linux")]
[NonParallelizable]
public class TapOffloadLinkTests
{
    private static readonly MacAddress StackMac = MacAddress.Parse("02:00:00:00:00:02");
    private static readonly Ipv4Address StackIp = Ipv4Address.Parse("192.0.2.2");
    private static readonly Ipv4Address KernelIp = Ipv4Address.Parse("192.0.2.1");

    [Test]
    public void Offloads_are_enabled_and_shown_as_capabilities()
    {
        using var ns = NetNs.Create("tapoff");
        ns.AddTap("tap0", "192.0.2.1/24");
        using var link = ns.OpenTap("tap0", offloads: true);
        Assert.Multiple(() =>
        {
            Assert.That(link.OffloadsEnabled, Is.True, link.OffloadsRefused);
            Assert.That(link.Capabilities.Mtu, Is.EqualTo(1500));
            Assert.That(link.Capabilities.MaxFrameSize, Is.EqualTo(14 + 40 + 65535), "an Ethernet header, an IPv6 header and 65,535 bytes of payload");
            Assert.That(link.Capabilities.ChecksumOffload, Is.True);
            Assert.That(link.Capabilities.TcpSegmentationOffload, Is.True);
        });
        // TUNSETOFFLOAD turns TSO on for the device by itself (no ethtool needed); TUN_F_TSO_ECN too (frames with CWR).
        var features = ns.Exec(NetNs.DefaultTimeout, "ethtool", "-k", "tap0").StandardOutput;
        Assert.That(features, Does.Contain("tcp-segmentation-offload: on"), features);
        Assert.That(link.TsoEcn, Is.True, "the kernel took TUN_F_TSO_ECN");
        Assert.That(features, Does.Contain("tx-tcp-ecn-segmentation: on"), features);
    }

    [Test]
    public void A_plain_open_clears_the_offloads_an_earlier_owner_left_on_a_persistent_TAP()
    {
        using var ns = NetNs.Create("tapoff");
        ns.AddTap("tap0", "192.0.2.1/24");
        using (var first = ns.OpenTap("tap0", offloads: true))
            Assert.That(first.OffloadsEnabled, Is.True, first.OffloadsRefused);
        // Left on, the kernel would hand the plain reader TCP frames with partial checksums (tcpipsharp up, then a program).
        using var link = ns.OpenTap("tap0");
        var features = ns.Exec(NetNs.DefaultTimeout, "ethtool", "-k", "tap0").StandardOutput;
        Assert.That(features, Does.Contain("tx-checksumming: off").And.Contain("tcp-segmentation-offload: off"), features);
    }

    [Test]
    public void Kernel_ping_is_answered_through_the_virtio_header_by_a_hand_built_responder([Values(TapIoMode.PerFrame, TapIoMode.IoUring)] TapIoMode io)
    {
        using var ns = NetNs.Create("tapoffping");
        ns.AddTap("tap0", "192.0.2.1/24");
        using var link = ns.OpenTap("tap0", offloads: true, io: io);
        using var ping = ns.Start("ping", "-c", "5", "-i", "0.2", "-W", "2", StackIp.ToString());
        var tally = MiniResponder.Serve(link, StackMac, StackIp, () => ping.HasExited, TimeSpan.FromSeconds(15));
        var result = ping.WaitForExit(TimeSpan.FromSeconds(5));
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.StandardOutput, Does.Contain("5 received"), result.ToString());
            Assert.That(tally.EchoReplies, Is.GreaterThanOrEqualTo(5));
            Assert.That(link.ChecksumErrors, Is.Zero);
        });
    }

    [Test]
    public void Receive_send_and_wait_allocate_nothing_over_10000_frames_with_offloads([Values(TapIoMode.PerFrame, TapIoMode.IoUring)] TapIoMode io,
        [Values] bool lend)
    {
        using var ns = NetNs.Create("tapoffalloc");
        ns.AddTap("tap0", "192.0.2.1/24");
        using var link = ns.OpenTap("tap0", offloads: true, io: io);
        var request = new byte[EthernetHeader.Size + ArpHeader.Size];
        int n = new EthernetHeader(MacAddress.Broadcast, StackMac, EtherType.Arp).WriteTo(request);
        new ArpHeader(ArpOperation.Request, StackMac, StackIp, MacAddress.Zero, KernelIp).WriteTo(request.AsSpan(n));
        var buffer = new byte[link.Capabilities.MaxFrameSize];
        var batch = lend ? new FrameBatch(32, link.Capabilities.MaxFrameSize) : null;
        var wait = TimeSpan.FromSeconds(1);

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
            Assert.That(allocated, Is.Zero, $"bytes allocated by 10,000 TrySend + WaitReadable + {(lend ? "Lend/Return" : "TryReceive")} rounds with the virtio-net header");
            Assert.That(replies, Is.GreaterThanOrEqualTo(9_900), "the kernel's ARP replies came back through the TAP");
            Assert.That(link.SendErrors, Is.Zero);
        });
    }
}
