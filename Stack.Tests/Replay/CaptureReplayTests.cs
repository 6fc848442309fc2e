using TcpIpSharp.Capture;
using TcpIpSharp.Replay;
using TcpIpSharp.Tap.Commands;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Replay;

/// <summary>
/// The library's <see cref="CaptureReplay"/>: the verdict on the project's own captures (also with their ARP exchange
/// removed, as captures from a host with a warm neighbour cache are), mutations that must turn the verdict into the
/// expected difference, and frames the stack cannot take that must be counted, not crash.
/// </summary>
public class CaptureReplayTests
{
    private static readonly Ipv4Address B = Ipv4Address.Parse("192.0.2.2");

    private static IReadOnlyList<CaptureFrame> Own(string name) => CaptureFile.ReadEthernet(Path.Combine(TestPaths.OwnCaptures, name)).Frames;

    private static bool IsArp(CaptureFrame f) => f.Data.Length > 13 && f.Data[12] == 0x08 && f.Data[13] == 0x06;

    /// <summary>The example of docs/replay.md: three lines.</summary>
    [Test]
    public void Three_line_example()
    {
        var capture = CaptureFile.ReadEthernet(Path.Combine(TestPaths.OwnCaptures, "ping-frag.pcap"));
        var result = CaptureReplay.Run(capture.Frames, new ReplayOptions { Host = Ipv4Address.Parse("192.0.2.2") });
        Assert.That(result.Differences, Is.Empty, result.ToString());
    }

    [TestCase("ping.pcap", 5)]
    [TestCase("ping-frag.pcap", 9)]
    [TestCase("udp-echo.pcap", 9)]
    [TestCase("udp-closed.pcap", 1)]
    [TestCase("tcp-closed.pcap", 1)]
    public void Captures_without_ARP_replay_with_answers_made_from_the_capture(string file, int compared)
    {
        var frames = Own(file).Where(f => !IsArp(f)).ToList();
        var result = CaptureReplay.Run(frames, new ReplayOptions { Host = B, Services = ReplayCommand.Services(["echo"]) });
        Assert.That(result.Differences, Is.Empty, result.ToString());
        Assert.That(result.Compared, Is.EqualTo(compared));
        Assert.That(result.Matched, Is.EqualTo(compared));
        Assert.That(result.NeighbourAnswers.Select(a => (a.Address, a.Mac)).Distinct(),
            Is.EqualTo(new[] { ((IpAddress)Ipv4Address.Parse("192.0.2.1"), MacAddress.Parse("02:00:00:00:00:01")) }), "the one ARP answer, from the capture");
        Assert.That(result.Sent.Count(IsArp), Is.EqualTo(result.NeighbourAnswers.Count), "each ARP request of the stack was answered");
    }

    [Test]
    public void Fast_mode_gives_the_same_verdict()
    {
        var frames = Own("udp-echo.pcap").Where(f => !IsArp(f)).ToList();
        var result = CaptureReplay.Run(frames, new ReplayOptions { Host = B, Fast = true, Services = ReplayCommand.Services(["echo"]) });
        Assert.That(result.Differences, Is.Empty, result.ToString());
        Assert.That(result.Sent[^1].Time - result.Sent[0].Time, Is.LessThan(frames[^1].Time - frames[0].Time), "virtual time did not follow the recorded gaps");
    }

    // ---------------------------------------------------------------------------------------- mutations

    [Test]
    public void Mutation_a_different_TTL_turns_every_echo_reply_into_a_difference()
    {
        var result = CaptureReplay.Run(Own("ping.pcap"), new ReplayOptions
        {
            Host = B, KeepTimeToLive = true, Stack = new NetworkStackOptions { TimeToLive = 128 },
        });
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Differences.Count(d => d.Kind == ReplayDifferenceKind.Missing && d.Description.Contains("ICMP echo reply", StringComparison.Ordinal)), Is.EqualTo(5), result.ToString());
        Assert.That(result.Differences.Count(d => d.Kind == ReplayDifferenceKind.Extra && d.Description.Contains("ttl 128", StringComparison.Ordinal)), Is.EqualTo(5), result.ToString());
    }

    [Test]
    public void Mutation_no_echo_service_gives_port_unreachable_instead_of_the_echoes()
    {
        var result = CaptureReplay.Run(Own("udp-echo.pcap"), new ReplayOptions { Host = B, Services = ReplayCommand.Services([]) });
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Differences.Where(d => d.Kind == ReplayDifferenceKind.Missing).Select(d => d.Description), Has.All.Contains("proto UDP"), result.ToString());
        Assert.That(result.Differences.Where(d => d.Kind == ReplayDifferenceKind.Extra).Select(d => d.Description), Has.All.Contains("port unreachable"), result.ToString());
        Assert.That(result.Differences.Count(d => d.Kind == ReplayDifferenceKind.Missing), Is.EqualTo(9), "the six echoes, three of them in two or three fragments");
        Assert.That(result.Differences.Count(d => d.Kind == ReplayDifferenceKind.Extra), Is.EqualTo(6), "one port unreachable per datagram");
    }

    [Test]
    public void Mutation_a_service_on_the_closed_port_answers_what_Linux_refused()
    {
        // udp-closed sends to port 9; with the discard service there, the stack stays silent where Linux sent an ICMP error.
        var result = CaptureReplay.Run(Own("udp-closed.pcap"), new ReplayOptions { Host = B, Services = ReplayCommand.Services(["discard"]) });
        Assert.That(result.Differences.Select(d => (d.Kind, d.Description.Contains("port unreachable", StringComparison.Ordinal))),
            Is.EqualTo(new[] { (ReplayDifferenceKind.Missing, true) }), result.ToString());
    }

    [Test]
    public void Mutation_a_wrong_host_MAC_is_a_difference_on_every_frame()
    {
        var frames = Own("ping.pcap");
        var result = CaptureReplay.Run(frames, new ReplayOptions { Host = B, HostMac = MacAddress.Parse("02:00:00:00:00:99") });
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Compared, Is.Zero, "nothing in the capture came from that MAC");
    }

    // ---------------------------------------------------------------------------------------- inputs it cannot take

    [Test]
    public void Ipv6_jumbo_and_runt_frames_are_counted_not_fatal()
    {
        var frames = Own("ping.pcap").ToList();
        var t = frames[^1].Time;
        var ipv6 = new byte[14 + 40 + 8];
        MacAddress.Parse("02:00:00:00:00:02").WriteTo(ipv6);
        MacAddress.Parse("02:00:00:00:00:01").WriteTo(ipv6.AsSpan(6));
        ipv6[12] = 0x86; ipv6[13] = 0xDD; ipv6[14] = 0x60;
        var jumbo = new byte[70_000];
        frames[2].Data.CopyTo(jumbo, 0);   // a request, padded past the largest frame the link takes
        var runt = new byte[5];
        frames.Add(new CaptureFrame(100, t, ipv6));
        frames.Add(new CaptureFrame(101, t, jumbo));
        frames.Add(new CaptureFrame(102, t, runt));
        var reply = (byte[])ipv6.Clone();   // the host's own IPv6 frame
        MacAddress.Parse("02:00:00:00:00:01").WriteTo(reply);
        MacAddress.Parse("02:00:00:00:00:02").WriteTo(reply.AsSpan(6));
        frames.Add(new CaptureFrame(103, t, reply));
        var result = CaptureReplay.Run(frames, new ReplayOptions { Host = B });
        Assert.That(result.Differences, Is.Empty, result.ToString());
        Assert.That(result.NotSupported, Is.EqualTo(1), "the host's own unparsable IPv6 frame (what goes in is the stack's to drop)");
        Assert.That(result.HostFrames.Single(o => o.Number == 103).NotCompared, Does.Contain("IPv6"));
    }

    [Test]
    public void A_host_that_never_sends_needs_its_MAC()
    {
        Assert.That(() => CaptureReplay.Run(Own("ping.pcap"), new ReplayOptions { Host = Ipv4Address.Parse("192.0.2.77") }),
            Throws.ArgumentException.With.Message.Contains("sends nothing in the capture"));
    }

    [Test]
    public void Json_verdict_is_one_object()
    {
        var result = CaptureReplay.Run(Own("ping.pcap"), new ReplayOptions { Host = B });
        using var doc = System.Text.Json.JsonDocument.Parse(result.ToJson());
        Assert.That(doc.RootElement.GetProperty("passed").GetBoolean(), Is.True);
        Assert.That(doc.RootElement.GetProperty("matched").GetInt32(), Is.EqualTo(6));
    }
}
