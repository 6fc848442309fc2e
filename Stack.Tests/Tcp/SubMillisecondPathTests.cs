using TcpIpSharp.Links;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>
/// A path of a tenth of a millisecond, as the TAP to the kernel is (issue 16), in virtual time moving 10 µs a step:
/// two stacks with timestamps on, 50 µs each way. The timestamp echo counts whole milliseconds, so RTT samples taken
/// from it are 0 or 1 ms; SRTT must come from the transmit records' own times instead (as Linux's, in microseconds),
/// or it sinks towards 0 between millisecond edges and takes RACK's reordering window (at most SRTT, RFC 8985 6.2) with
/// it, so that no D-SACK can widen the window; and an ACK read at the clock reading its segment was sent at is no RTT
/// sample. (The packetdrill runner's clock moves in 1 ms steps and its peer answers in a later step: it cannot show
/// either.)
/// </summary>
public class SubMillisecondPathTests
{
    private static readonly TimeSpan Step = TimeSpan.FromTicks(100), OneWay = TimeSpan.FromTicks(500);

    // Sends size bytes from A to B over net; samples (B's bytes received so far) are taken each step.
    private static (TcpConnection Client, long Received) Upload(TwoStacks net, int size, Action<TcpConnection, long> sample, TimeSpan? step = null)
    {
        var (client, server) = net.Connect();
        var data = TcpTransferTests.Pattern(size, 16);
        var buffer = new byte[65536];
        int sent = 0;
        long received = 0;
        net.RunUntil(() => received == size, TimeSpan.FromSeconds(10), () =>
        {
            if (sent < size) sent += client.Send(data.AsSpan(sent));
            int n;
            while ((n = server.Receive(buffer)) > 0)
            {
                Assert.That(buffer.AsSpan(0, n).SequenceEqual(data.AsSpan((int)received, n)), "bytes arrive exactly");
                received += n;
            }
            sample(client, received);
        }, step ?? Step);
        return (client, received);
    }

    [Test]
    public void Srtt_follows_a_tenth_of_a_millisecond_path([Values] IpFamily family)
    {
        using var net = new TwoStacks(new FaultOptions { Delay = OneWay, MaxHeld = 4096 }, 1, family: family);
        TimeSpan low = TimeSpan.MaxValue, high = TimeSpan.Zero;
        Upload(net, 4 << 20, (client, received) =>
        {
            if (received < 256 << 10) return;   // after the handshake's sample has been averaged away
            var srtt = client.SmoothedRoundTripTime;
            if (srtt < low) low = srtt;
            if (srtt > high) high = srtt;
        });
        TestContext.Out.WriteLine($"SRTT {low.TotalMicroseconds} - {high.TotalMicroseconds} µs on a {2 * OneWay.TotalMicroseconds} µs path");
        // Above the round trip at times (a delayed ACK's wait counts, as in Linux), never below it.
        Assert.That(low, Is.GreaterThanOrEqualTo(2 * OneWay), "SRTT never below the path's round trip");
        Assert.That(high, Is.LessThan(TimeSpan.FromMilliseconds(5)), "SRTT within the round trip and a delayed ACK's wait");
    }

    [Test]
    public void Reordering_within_the_round_trip_stops_causing_retransmissions_once_dsack_widened_the_window([Values] IpFamily family)
    {
        // No delay, the clock moving 1 ms a step with many polls on each reading: the peer's ACK is read in the same
        // poll as the segment was sent, at the same clock reading, as the kernel's behind the TAP is. Such a 0 RTT
        // sample made RACK.min_RTT 0, and with it RACK.reo_wnd = min_RTT / 4 * reo_wnd_mult, whatever D-SACK said.
        // 2% of the frames overtaken by the 10 after them (at most 1 ms): the first few may be resent needlessly (RACK's
        // window is 0 once DupThresh segments are SACKed until reordering is seen, RFC 8985 6.2) and D-SACKed, which
        // shows reordering and widens the window (step 4); after that the late frames arrive within it.
        var faults = new FaultOptions { MaxHeld = 4096, ReorderRate = 0.02, ReorderDisplacement = 10, ReorderDelay = TimeSpan.FromMilliseconds(1) };
        using var net = new TwoStacks(faults, 3, family: family);
        var (client, _) = Upload(net, 32 << 20, (_, _) => { }, TimeSpan.FromMilliseconds(1));
        long reordered = net.FaultsA!.Reordered, dsacks = net.A.Statistics.TcpDetail.DsackReceivedCount;
        TestContext.Out.WriteLine($"frames reordered {reordered}, D-SACKs received {dsacks}, retransmissions {client.Retransmits}, SRTT {client.SmoothedRoundTripTime.TotalMicroseconds} µs");
        Assert.That(reordered, Is.GreaterThan(200), "the injector reordered frames");
        Assert.That(dsacks, Is.LessThan(reordered / 10), "most late frames arrived within the widened window");
    }
}
