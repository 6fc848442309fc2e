using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>
/// Request/response on the stack (issue 18 item 5): a server that answers from its Ready callback sends the answer
/// with the acknowledgment of the request in one segment, and a server that closes first keeps accepting past
/// TcpMaxConnections connections in TIME-WAIT.
/// </summary>
public class RequestResponseTests
{
    private static readonly TcpConnectionOptions Small = new() { SendBufferSize = 4096, ReceiveBufferSize = 4096 };

    private static void Idle(TwoStacks net, TimeSpan time)
    {
        var end = net.Clock.Now + time;
        net.RunUntil(() => net.Clock.Now >= end, time + TimeSpan.FromMilliseconds(2));
    }

    private static long Counter(NetworkStack stack, string name) => stack.Statistics.TcpDetail.All().Single(c => c.Name == name).Read();

    [Test]
    public void A_request_answered_from_the_ready_callback_goes_out_as_one_segment_with_the_ack_and_no_pure_ack_follows()
    {
        using var net = new TwoStacks(options: new NetworkStackOptions { Tcp = Small });
        var listener = net.B.ListenTcp(7400, 8, Small);
        var buffer = new byte[512];
        listener.Ready = l =>
        {
            while (l.TryAccept(out var s))
                s.Ready = c => { int n = c.Receive(buffer); if (n > 0) c.Send(new byte[1000]); };
        };
        var client = net.A.ConnectTcp(TwoStacks.AddressB, 7400, Small);
        net.RunUntil(() => client.State == TcpState.Established, TimeSpan.FromSeconds(5));
        net.Clock.Advance(TimeSpan.FromMilliseconds(1));
        Idle(net, TimeSpan.FromMilliseconds(10));
        for (int i = 0; i < 3; i++)
        {
            long sentBefore = Counter(net.B, "tcp.segments_sent");
            client.Send(new byte[100]);
            var start = net.Clock.Now;
            net.RunUntil(() => client.Available == 1000, TimeSpan.FromSeconds(1));
            Assert.That(net.Clock.Now - start, Is.LessThan(TimeSpan.FromMilliseconds(5)), "answered without waiting for a timer");
            client.Receive(new byte[1000]);
            Assert.That(Counter(net.B, "tcp.segments_sent") - sentBefore, Is.EqualTo(1), "the answer carried the ACK of the request");
            // Past the delayed-ACK time (RFC 1122 4.2.3.2: at most 500 ms): the server sends no pure ACK of its own.
            Idle(net, TimeSpan.FromMilliseconds(600));
            Assert.That(Counter(net.B, "tcp.segments_sent") - sentBefore, Is.EqualTo(1), "no separate pure ACK followed");
        }
        client.Abort();
    }

    [Test]
    public void With_the_table_full_of_time_wait_a_new_connection_ends_the_oldest_time_wait_instead_of_being_refused()
    {
        using var net = new TwoStacks(options: new NetworkStackOptions { Tcp = Small, TcpMaxConnections = 2 });
        var listener = net.B.ListenTcp(7401, 8, Small);
        TcpConnection OpenAndCloseFromServer(ushort port)
        {
            var c = net.A.ConnectTcp(TwoStacks.AddressB, 7401, Small, localPort: port);
            net.RunUntil(() => c.State == TcpState.Established, TimeSpan.FromSeconds(5));
            Assert.That(listener.TryAccept(out var server), Is.True);
            server!.Close();   // the server closes first: its end waits in TIME-WAIT (60 s)
            net.RunUntil(() => c.IsEndOfStream, TimeSpan.FromSeconds(5));
            c.Close();
            net.RunUntil(() => server.State == TcpState.TimeWait && c.State == TcpState.Closed, TimeSpan.FromSeconds(5));
            net.Clock.Advance(TimeSpan.FromMilliseconds(5));
            return server;
        }
        var oldest = OpenAndCloseFromServer(40000);
        var second = OpenAndCloseFromServer(40001);
        Assert.That(net.B.Tcp.Count, Is.EqualTo(2), "the table is full of TIME-WAIT");

        var start = net.Clock.Now;
        var third = net.A.ConnectTcp(TwoStacks.AddressB, 7401, Small, localPort: 40002);
        net.RunUntil(() => third.State == TcpState.Established, TimeSpan.FromSeconds(5));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(net.Clock.Now - start, Is.LessThan(TimeSpan.FromMilliseconds(50)), "accepted at once, no SYN retransmission");
            Assert.That(listener.TryAccept(out _), Is.True);
            Assert.That(oldest.State, Is.EqualTo(TcpState.Closed), "the oldest TIME-WAIT gave its place");
            Assert.That(second.State, Is.EqualTo(TcpState.TimeWait), "the younger one stays");
            Assert.That(Counter(net.B, "tcp.time_wait_reclaimed"), Is.EqualTo(1));
            Assert.That(Counter(net.B, "tcp.connection_limit_refused"), Is.Zero);
        }
        third.Abort();
    }
}
