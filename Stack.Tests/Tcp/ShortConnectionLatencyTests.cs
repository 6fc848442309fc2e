using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Tcp;

public class ShortConnectionLatencyTests
{
    [Test]
    public void Open_request_response_close_takes_no_timer_wait()
    {
        var options = new TcpConnectionOptions { SendBufferSize = 1024, ReceiveBufferSize = 1024 };
        using var net = new TwoStacks(options: new NetworkStackOptions { Tcp = options });
        var listener = net.B.ListenTcp(7200, 16, options);
        var warm = net.A.ConnectTcp(TwoStacks.AddressB, 7200, options);   // ARP first
        net.RunUntil(() => warm.State == TcpState.Established, TimeSpan.FromSeconds(5));
        listener.TryAccept(out var warmServer);
        var buffer = new byte[64];
        var start = net.Clock.Now;
        var client = net.A.ConnectTcp(TwoStacks.AddressB, 7200, options);
        client.Send(new byte[64]);
        TcpConnection? server = null;
        var log = new List<string>();
        net.RunUntil(() =>
        {
            if (server is null && listener.TryAccept(out var s)) { server = s; log.Add($"{(net.Clock.Now - start).TotalMilliseconds} ms accepted, available {s.Available}"); }
            if (server is not null && server.Available == 64 && server.IsSendOpen)
            {
                server.Receive(buffer);
                server.Send(new byte[64]);
                server.Close();
                log.Add($"{(net.Clock.Now - start).TotalMilliseconds} ms server answered and closed");
            }
            return client.Available == 64;
        }, TimeSpan.FromSeconds(5));
        log.Add($"{(net.Clock.Now - start).TotalMilliseconds} ms client has the response");
        TestContext.Out.WriteLine(string.Join("\n", log));
        Assert.That(net.Clock.Now - start, Is.LessThan(TimeSpan.FromMilliseconds(5)), string.Join("\n", log));
    }
}
