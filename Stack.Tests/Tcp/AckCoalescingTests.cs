using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>
/// Batching (issue 7): a poll takes every frame that is ready (up to its budget) and a connection acknowledges at the end
/// of the poll, and within it after a batch once 64 KB have come in, so segments that arrive in one batch draw one ACK;
/// across polls, still at least every second full-sized segment (RFC 9293 3.8.6.3).
/// </summary>
public class AckCoalescingTests
{
    private static (NetworkStack A, NetworkStack B, Transport.Tcp.TcpConnection Client, Transport.Tcp.TcpConnection Server, ManualClock Clock) Connected(int receiveBudget, int initialWindow = 10)
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 1024);
        var clock = new ManualClock();
        var stackA = new NetworkStack(a, new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = Ipv4Address.Parse("192.0.2.10"), PrefixLength = 24 }, new SeededRandomSource(1));
        var stackB = new NetworkStack(b, new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = Ipv4Address.Parse("192.0.2.11"), PrefixLength = 24, ReceiveBudgetPerPoll = receiveBudget }, new SeededRandomSource(2));
        var listener = stackB.ListenTcp(5001);
        var client = stackA.ConnectTcp(stackB.Address, 5001, new Transport.Tcp.TcpConnectionOptions { InitialWindowSegments = initialWindow });
        Transport.Tcp.TcpConnection? server = null;
        for (int i = 0; i < 1000 && server is null; i++)
        {
            stackA.Poll(clock.Now);
            stackB.Poll(clock.Now);
            listener.TryAccept(out server);
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.That(server, Is.Not.Null, "connected");
        for (int i = 0; i < 20; i++) { stackA.Poll(clock.Now); stackB.Poll(clock.Now); clock.Advance(TimeSpan.FromMilliseconds(1)); }
        return (stackA, stackB, client, server!, clock);
    }

    [Test]
    public void Ten_segments_arriving_in_one_batch_draw_one_ack()
    {
        var (a, b, client, _, clock) = Connected(receiveBudget: 256);
        using (a) using (b)
        {
            client.Send(new byte[10 * 1448]);   // the initial window: ten full-sized segments in one poll
            a.Poll(clock.Now);
            long sentBefore = b.Statistics.Tcp.Sent, receivedBefore = b.Statistics.Tcp.Received;
            b.Poll(clock.Now);
            Assert.That(b.Statistics.Tcp.Received - receivedBefore, Is.EqualTo(10), "one poll took the whole batch");
            Assert.That(b.Statistics.Tcp.Sent - sentBefore, Is.EqualTo(1), "one ACK for the batch");
        }
    }

    [Test]
    public void A_poll_of_several_batches_acks_every_64_kb()
    {
        // 100 segments waiting (144,800 bytes): one poll takes them in batches of 32, 32, 32 and 4 and sends an ACK once
        // 64 KB have come in (after the second batch, as Linux's receiver ACKs each GRO packet of up to 64 KB) and one at
        // the end, not a single one at the end (which left a sender waiting on its window for up to 256 frames:
        // docs/benchmarks.md).
        var (a, b, client, server, clock) = Connected(receiveBudget: 256, initialWindow: 100);
        using (a) using (b)
        {
            server.Send(new byte[1]);   // a segment from the server: the client learns its scaled window (the SYN-ACK's is 64 KB at most)
            b.Poll(clock.Now);
            a.Poll(clock.Now);
            client.Send(new byte[100 * 1448]);
            a.Poll(clock.Now);
            long sentBefore = b.Statistics.Tcp.Sent, receivedBefore = b.Statistics.Tcp.Received;
            b.Poll(clock.Now);
            Assert.That(b.Statistics.Tcp.Received - receivedBefore, Is.EqualTo(100), "one poll took every segment");
            Assert.That(b.Statistics.Tcp.Sent - sentBefore, Is.EqualTo(2), "an ACK after 64 KB and one at the end of the poll");
        }
    }

    [Test]
    public void Segments_arriving_one_per_poll_are_acknowledged_every_second_one()
    {
        var (a, b, client, _, clock) = Connected(receiveBudget: 1);
        using (a) using (b)
        {
            client.Send(new byte[10 * 1448]);
            a.Poll(clock.Now);
            long sentBefore = b.Statistics.Tcp.Sent;
            for (int i = 0; i < 10; i++) b.Poll(clock.Now);
            Assert.That(b.Statistics.Tcp.Sent - sentBefore, Is.EqualTo(5), "an ACK at least every second full-sized segment across polls");
        }
    }

    [Test]
    public void A_batch_of_acks_gives_the_rtt_estimator_one_sample_that_of_the_oldest_segment()
    {
        // Issue 18 item 4: the ACKs a poll takes in one batch give one RTT sample, the first ACK's (the oldest segment
        // they acknowledge), taken when the batch is settled; not one per ACK (RFC 6298 asks for one per RTT at least).
        var (a, b, client, _, clock) = Connected(receiveBudget: 4);
        using (a) using (b)
        {
            client.Send(new byte[4 * 1448]);   // sent at t0
            a.Poll(clock.Now);
            clock.Advance(TimeSpan.FromMilliseconds(4));
            client.Send(new byte[4 * 1448]);   // sent at t0 + 4 ms
            a.Poll(clock.Now);
            b.Poll(clock.Now);                 // four segments a poll: an ACK for each flight, both waiting for A
            b.Poll(clock.Now);
            clock.Advance(TimeSpan.FromMilliseconds(6));
            var before = client.SmoothedRoundTripTime;
            long receivedBefore = a.Statistics.Tcp.Received;
            a.Poll(clock.Now);   // both ACKs in one batch: 10 ms and 6 ms after what they acknowledge was sent
            Assert.That(a.Statistics.Tcp.Received - receivedBefore, Is.EqualTo(2), "the two ACKs came in one poll");
            long expected = (before.Ticks * 7 + TimeSpan.FromMilliseconds(10).Ticks) / 8;   // RFC 6298 2.3, one sample of 10 ms
            Assert.That(client.SmoothedRoundTripTime.Ticks, Is.EqualTo(expected), $"SRTT {before.TotalMilliseconds} ms -> {client.SmoothedRoundTripTime.TotalMilliseconds} ms");
        }
    }
}
