using TcpIpSharp.Capture;
using TcpIpSharp.Replay;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Replay;

/// <summary>
/// Replay over IPv6: ipv6.pcap (two Linux namespaces, neighbour caches warm, so no Neighbour Discovery in it) replays
/// with a clean verdict for b, the replay answering the stack's neighbour solicitation from the capture; ICMPv6 echo
/// off turns the verdict into the missing echo replies; a dual-stack host plays both families at once; the shared
/// captures that hold IPv6 replay as each of their IPv6 hosts without an exception.
/// </summary>
public class Ipv6ReplayTests
{
    private static readonly IpAddress B6 = Ipv6Address.Parse("2001:db8::2");
    private static readonly IpAddress A6 = Ipv6Address.Parse("2001:db8::1");
    private static readonly MacAddress MacA = MacAddress.Parse("02:00:00:00:00:01");

    private static IReadOnlyList<CaptureFrame> Own(string name) => CaptureFile.ReadEthernet(Path.Combine(TestPaths.OwnCaptures, name)).Frames;

    [Test]
    public void Ipv6_capture_replays_clean_with_the_neighbour_answered_from_the_capture()
    {
        var result = CaptureReplay.Run(Own("ipv6.pcap"), new ReplayOptions { Host = B6, Services = TcpIpSharp.Tap.Commands.ReplayCommand.Services(["echo"]) });
        Assert.That(result.Differences, Is.Empty, result.ToString());
        // 3 echo replies, 2 replies of 3 fragments, 5 UDP echoes (1453 in 2 fragments, 3000 in 3), port unreachable, RST.
        Assert.That(result.Compared, Is.EqualTo(19), result.ToString());
        Assert.That(result.Matched, Is.EqualTo(19));
        Assert.That(result.NotSupported, Is.Zero);
        Assert.That(result.Ipv6Addresses, Is.EqualTo(new[] { B6.AsIpv6 }));
        Assert.That(result.NeighbourAnswers.Select(a => (a.Address, a.Mac)).Distinct(), Is.EqualTo(new[] { (A6, MacA) }),
            "the stack's solicitation for a, answered with a's MAC from the capture");
        Assert.That(result.ToString(), Does.Contain("answered the stack's neighbour solicitation for 2001:db8::1 with 02:00:00:00:00:01"));
    }

    [Test]
    public void Mutation_ICMPv6_echo_off_misses_the_echo_replies()
    {
        var result = CaptureReplay.Run(Own("ipv6.pcap"), new ReplayOptions
        {
            Host = B6, Services = TcpIpSharp.Tap.Commands.ReplayCommand.Services(["echo"]), Stack = new NetworkStackOptions { AnswerEchoRequests = false },
        });
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Differences.Select(d => d.Kind), Is.All.EqualTo(ReplayDifferenceKind.Missing), result.ToString());
        // Three single-frame replies and two replies of three fragments each.
        Assert.That(result.Differences, Has.Count.EqualTo(9), result.ToString());
        Assert.That(result.Matched, Is.EqualTo(10), "the UDP echoes, the port unreachable and the RST are still reproduced");
        Assert.That(result.Differences.Count(d => d.Description.Contains("echo reply", StringComparison.Ordinal)), Is.EqualTo(5), result.ToString());
        TestContext.Out.WriteLine(result.ToString());
    }

    [Test]
    public void A_dual_stack_host_plays_both_families_from_one_address()
    {
        // ping.pcap (IPv4, with its ARP) then ipv6.pcap, both recorded from b with the same MAC.
        var v4 = Own("ping.pcap");
        var v6 = Own("ipv6.pcap");
        var shift = v4[^1].Time - v6[0].Time + TimeSpan.FromSeconds(1);
        var frames = v4.Concat(v6.Select((f, i) => new CaptureFrame(v4.Count + i + 1, f.Time + shift, f.Data))).ToList();
        var result = CaptureReplay.Run(frames, new ReplayOptions { Host = Ipv4Address.Parse("192.0.2.2"), Services = TcpIpSharp.Tap.Commands.ReplayCommand.Services(["echo"]) });
        Assert.That(result.Differences, Is.Empty, result.ToString());
        Assert.That(result.Matched, Is.EqualTo(6 + 19), "ping.pcap's ARP reply and five echo replies, and ipv6.pcap's 19 frames");
        Assert.That(result.Ipv6Addresses, Is.EqualTo(new[] { B6.AsIpv6 }), "b's IPv6 address, found from its MAC");
        // Given the IPv6 address, the same host plays the IPv4 part too.
        var from6 = CaptureReplay.Run(frames, new ReplayOptions { Host = B6, Services = TcpIpSharp.Tap.Commands.ReplayCommand.Services(["echo"]) });
        Assert.That(from6.Differences, Is.Empty, from6.ToString());
        Assert.That(from6.Matched, Is.EqualTo(25));
    }

    [Test]
    public void List_hosts_shows_IPv6_hosts()
    {
        var hosts = CaptureHost.List(Own("ipv6.pcap"));
        Assert.That(hosts.Select(h => h.Address), Is.EquivalentTo(new[] { A6, B6 }));
        Assert.That(hosts.Single(h => h.Address == B6).FramesSent, Is.EqualTo(19));
    }

    /// <summary>A host's solicitation and its unsolicited advertisements and MLD reports are not compared; a peer's
    /// solicitation for the host is answered by the stack and the host's solicited advertisement compared.</summary>
    [Test]
    public void Neighbour_discovery_of_the_host_is_left_out_and_its_answers_compared()
    {
        var frames = Own("ipv6.pcap").ToList();
        var t = frames[0].Time;
        var b = MacAddress.Parse("02:00:00:00:00:02");
        // a asks for b (multicast NS), b answers (solicited NA), b asks for a (NS): the recorded host's ND.
        frames.Insert(0, new CaptureFrame(0, t, Nd(MacA, MacAddress.Parse("33:33:ff:00:00:02"), A6.AsIpv6, Ipv6Address.Parse("ff02::1:ff00:2"), 135, B6.AsIpv6, 0, 1, MacA)));
        frames.Insert(1, new CaptureFrame(0, t, Nd(b, MacA, B6.AsIpv6, A6.AsIpv6, 136, B6.AsIpv6, 0x60, 2, b)));
        frames.Insert(2, new CaptureFrame(0, t, Nd(b, MacAddress.Parse("33:33:ff:00:00:01"), B6.AsIpv6, Ipv6Address.Parse("ff02::1:ff00:1"), 135, A6.AsIpv6, 0, 1, b)));
        frames = frames.Select((f, i) => new CaptureFrame(i + 1, f.Time, f.Data)).ToList();
        var result = CaptureReplay.Run(frames, new ReplayOptions { Host = B6, Services = TcpIpSharp.Tap.Commands.ReplayCommand.Services(["echo"]) });
        Assert.That(result.Differences, Is.Empty, result.ToString());
        Assert.That(result.HostFrames.Single(o => o.Number == 2).Matched, Is.True, "b's solicited advertisement, reproduced");
        Assert.That(result.HostFrames.Single(o => o.Number == 3).NotCompared, Does.Contain("neighbour solicitation"));
    }

    private static byte[] Nd(MacAddress src, MacAddress dst, Ipv6Address from, Ipv6Address to, byte type, Ipv6Address target, byte flags, byte option, MacAddress lla)
    {
        var frame = new byte[14 + 40 + 32];
        dst.WriteTo(frame);
        src.WriteTo(frame.AsSpan(6));
        frame[12] = 0x86; frame[13] = 0xDD;
        var ip = frame.AsSpan(14);
        ip[0] = 0x60; ip[5] = 32; ip[6] = 58; ip[7] = 255;
        from.WriteTo(ip[8..]);
        to.WriteTo(ip[24..]);
        var icmp = ip[40..];
        icmp[0] = type;
        icmp[4] = flags;
        target.WriteTo(icmp[8..]);
        icmp[24] = option; icmp[25] = 1;
        lla.WriteTo(icmp[26..]);
        Icmpv6Header.FillChecksum(icmp, from, to);
        return frame;
    }

    [Test]
    public void Shared_captures_with_IPv6_replay_as_each_IPv6_host_without_an_exception()
    {
        string root = TestPaths.RequireSharedCaptures();
        int captures = 0, replays = 0;
        foreach (string file in TestPaths.CaptureFilesUnder(root))
        {
            IReadOnlyList<CaptureFrame> frames;
            try { frames = CaptureFile.ReadEthernet(file).Frames; }
            catch (CaptureFormatException) { continue; }
            if (!frames.Any(f => f.Data.Length > 13 && f.Data[12] == 0x86 && f.Data[13] == 0xDD)) continue;
            captures++;
            var hosts = CaptureHost.List(frames);
            foreach (var host in hosts.Where(h => h.Address.IsIpv6).Take(3).Concat(hosts.Take(1)))   // and the busiest, of either family
            {
                var result = CaptureReplay.Run(frames, new ReplayOptions { Host = host.Address, Fast = true });
                Assert.That(result.ToString(), Is.Not.Empty, file);
                replays++;
            }
        }
        TestContext.Out.WriteLine($"{captures} shared captures with IPv6 frames, {replays} replays");
        Assert.That(captures, Is.GreaterThan(0));
    }
}
