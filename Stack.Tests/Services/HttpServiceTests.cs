using System.Text;
using TcpIpSharp.Tap.Services;
using TcpIpSharp.Tests.Tcp;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Services;

/// <summary>
/// The HTTP service of <c>tcpipsharp up</c> on stack B, a client connection on stack A, in virtual time (issue 18 item 5):
/// Connection: keep-alive keeps the connection for the next request, answered in the poll that delivered it; without it
/// the service closes after the response as before.
/// </summary>
public class HttpServiceTests
{
    private static (TwoStacks Net, TcpConnection Client) Open()
    {
        var net = new TwoStacks();
        new TcpServices(echo: false, discard: false, chargen: false, http: true).Start(net.B, net.Clock.Now);
        var client = net.A.ConnectTcp(TwoStacks.AddressB, 80);
        net.RunUntil(() => client.State == TcpState.Established, TimeSpan.FromSeconds(5));
        return (net, client);
    }

    private static string Read(TwoStacks net, TcpConnection client, int responses)
    {
        var text = new StringBuilder();
        var buffer = new byte[65536];
        net.RunUntil(() =>
        {
            int n;
            while ((n = client.Receive(buffer)) > 0) text.Append(Encoding.ASCII.GetString(buffer, 0, n));
            return CountOf(text.ToString(), "HTTP/1.1 ") >= responses && Complete(text.ToString(), responses);
        }, TimeSpan.FromSeconds(2));
        return text.ToString();
    }

    private static int CountOf(string text, string what) => (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;

    // Every response's body (Content-Length bytes) is in.
    private static bool Complete(string text, int responses)
    {
        int at = 0;
        for (int i = 0; i < responses; i++)
        {
            int head = text.IndexOf("\r\n\r\n", at, StringComparison.Ordinal);
            if (head < 0) return false;
            int cl = text.IndexOf("Content-Length: ", at, StringComparison.Ordinal) + 16;
            int length = int.Parse(text.AsSpan(cl, text.IndexOf('\r', cl) - cl));
            at = head + 4 + length;
            if (at > text.Length) return false;
        }
        return true;
    }

    [Test]
    public void Keep_alive_requests_pipelined_in_one_segment_are_all_answered_on_the_same_connection()
    {
        var (net, client) = Open();
        using (net)
        {
            const string Get = "GET /bytes/1024 HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: x\r\n\r\n";
            client.Send(Encoding.ASCII.GetBytes(Get + Get + Get));
            var text = Read(net, client, 3);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(CountOf(text, "HTTP/1.1 200 OK"), Is.EqualTo(3));
                Assert.That(CountOf(text, "Connection: keep-alive"), Is.EqualTo(3));
                Assert.That(client.IsEndOfStream, Is.False, "the connection stays open");
            }
            // The next request, split over two segments, on the same connection.
            client.Send(Encoding.ASCII.GetBytes("GET /bytes/10 HTTP/1.1\r\nConne"));
            var later = net.Clock.Now + TimeSpan.FromMilliseconds(50);
            net.RunUntil(() => net.Clock.Now >= later, TimeSpan.FromSeconds(1));   // the first part is in, alone
            client.Send(Encoding.ASCII.GetBytes("ction: keep-alive\r\n\r\n"));
            text = Read(net, client, 1);
            Assert.That(text, Does.StartWith("HTTP/1.1 200 OK").And.EndWith("\r\n\r\n" + Encoding.ASCII.GetString([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])));
            // The last one asks to close.
            client.Send(Encoding.ASCII.GetBytes("GET /bytes/5 HTTP/1.1\r\nConnection: close\r\n\r\n"));
            text = Read(net, client, 1);
            Assert.That(text, Does.Contain("Connection: close"));
            net.RunUntil(() => client.IsEndOfStream, TimeSpan.FromSeconds(1));
            client.Abort();
        }
    }

    [Test]
    public void Without_connection_keep_alive_the_service_closes_after_the_response_with_the_fin_on_the_response_segment()
    {
        var (net, client) = Open();
        using (net)
        {
            long sentBefore = Counter(net.B, "tcp.segments_sent");
            client.Send(Encoding.ASCII.GetBytes("GET /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\n"));
            var text = Read(net, client, 1);
            Assert.That(text, Does.Contain("Connection: close"));
            net.RunUntil(() => client.IsEndOfStream, TimeSpan.FromSeconds(1));
            // The response and the close are in one callback: the FIN rides on the response (as Linux's tcp_send_fin),
            // so the server sent one segment for both, and the client's one ACK covers both.
            Assert.That(Counter(net.B, "tcp.segments_sent") - sentBefore, Is.EqualTo(1), "the response and the FIN in one segment");
            client.Abort();
        }
    }

    [Test]
    public void Keep_alive_requests_for_bytes_allocate_nothing_on_the_stack_thread_after_warm_up()
    {
        var (net, client) = Open();
        using (net)
        {
            var request = Encoding.ASCII.GetBytes("GET /bytes/1024 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
            var buffer = new byte[65536];
            int expected = "HTTP/1.1 200 OK\r\nServer: tcpipsharp\r\nContent-Type: application/octet-stream\r\nContent-Length: 1024\r\nConnection: keep-alive\r\n\r\n".Length + 1024;
            int received = 0, wrong = 0;
            bool Done()
            {
                int n;
                while ((n = client.Receive(buffer)) > 0) received += n;
                return received >= expected;
            }
            Func<bool> done = Done;
            void Exchange(int count)
            {
                for (int i = 0; i < count; i++)
                {
                    client.Send(request);
                    received = 0;
                    net.RunUntil(done, TimeSpan.FromSeconds(1));
                    if (received != expected) wrong++;
                }
            }
            Exchange(50);   // warm-up
            long before = GC.GetAllocatedBytesForCurrentThread();
            Exchange(200);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            // The string way allocated about 1.5 KB a request (the head as a string, its lines, the response headers).
            Assert.That(wrong, Is.Zero, "responses of another length");
            Assert.That(allocated, Is.LessThan(200 * 64), $"{allocated} B over 200 requests");
            client.Abort();
        }
    }

    [Test]
    public void A_large_body_fills_a_send_ring_of_four_megabytes_while_the_client_does_not_read()
    {
        var (net, client) = Open();
        using (net)
        {
            client.Send(Encoding.ASCII.GetBytes("GET /bytes/100000000 HTTP/1.1\r\nHost: x\r\n\r\n"));
            // The client reads nothing: its window (256 KB) closes, and the service keeps queueing until the ring is full.
            var server = net.B.Tcp.Connections.Single();
            net.RunUntil(() => server.SendSpace == 0, TimeSpan.FromSeconds(1));
            using (Assert.EnterMultipleScope())
            {
                Assert.That(server.SendBufferCapacity, Is.EqualTo(TcpServices.BulkSendBufferSize), "the HTTP listener's connections");
                Assert.That(server.SendQueued, Is.EqualTo(4 << 20), "queued before the client read a byte");
                Assert.That(new TcpConnectionOptions().SendBufferSize, Is.EqualTo(256 * 1024), "the stack's own default is unchanged");
            }
            // Then everything arrives, in order, once the client reads.
            var buffer = new byte[65536];
            long received = 0;
            int wrong = 0;
            net.RunUntil(() =>
            {
                int n;
                while ((n = client.Receive(buffer)) > 0)
                {
                    received += n;
                    if (n >= 2 && received > 200_000 && received <= 6_000_000 && buffer[n - 1] == buffer[n - 2]) wrong++;
                }
                return received >= 6_000_000;
            }, TimeSpan.FromSeconds(10));
            Assert.That(received, Is.GreaterThanOrEqualTo(6_000_000));
            Assert.That(wrong, Is.Zero, "the body's bytes are i % 251, never two alike in a row");
            client.Abort();
        }
    }

    private static long Counter(NetworkStack stack, string name) => stack.Statistics.TcpDetail.All().Single(c => c.Name == name).Read();

    [Test]
    public void A_keep_alive_post_to_the_sink_is_answered_and_the_connection_serves_the_next_request()
    {
        var (net, client) = Open();
        using (net)
        {
            client.Send(Encoding.ASCII.GetBytes("POST /sink HTTP/1.1\r\nConnection: keep-alive\r\nContent-Length: 3000\r\n\r\n"));
            client.Send(new byte[3000]);
            var text = Read(net, client, 1);
            Assert.That(text, Does.Contain("\r\n\r\n3000 "));
            client.Send(Encoding.ASCII.GetBytes("GET /bytes/3 HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"));
            text = Read(net, client, 1);
            Assert.That(text, Does.StartWith("HTTP/1.1 200 OK").And.Contain("Content-Length: 3\r\n"));
            client.Abort();
        }
    }
}
