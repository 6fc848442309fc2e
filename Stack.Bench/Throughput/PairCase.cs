using System.Runtime.Versioning;
using TcpIpSharp.Links;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench.Throughput;

/// <summary>(d) Two stacks over the in-memory link pair, one TCP connection, both stacks and both applications on one thread, in real time.</summary>
[SupportedOSPlatform("linux")]
internal static class PairCase
{
    public static Measurement Run(TimeSpan length, CancellationToken token)
    {
        var worker = new Worker("pair", Transfer);
        try
        {
            var s = MeasurementWindow.Run("(d) in-memory pair", length, () => worker.Bytes, () => worker.Failure, token);
            return new Measurement("(d) two stacks, in-memory pair", "stack→stack", s.Gbps, s.User, s.System, s.Bytes, s.Elapsed, "CPU: the one thread running both stacks");
        }
        finally
        {
            worker.Stop(TimeSpan.FromSeconds(5));
        }
    }

    private static void Transfer(Worker w)
    {
        var clock = new SystemClock();
        var (linkA, linkB) = InMemoryLink.CreatePair(queueFrames: 4096);
        var addressA = Ipv4Address.Parse("192.0.2.10");
        var addressB = Ipv4Address.Parse("192.0.2.11");
        using var a = new NetworkStack(linkA, new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = addressA, PrefixLength = 24 });
        using var b = new NetworkStack(linkB, new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = addressB, PrefixLength = 24 });
        var listener = b.ListenTcp(5001);
        var client = a.ConnectTcp(addressB, 5001);
        TcpConnection? server = null;
        var chunk = new byte[64 * 1024];
        var sink = new byte[256 * 1024];
        var started = clock.Now;
        while (!w.Stopping)
        {
            var now = clock.Now;
            while (client.SendSpace > 0 && client.Send(chunk) > 0) { }
            a.Poll(now);
            b.Poll(now);
            if (server is null)
            {
                if (!listener.TryAccept(out var accepted))
                {
                    if (now - started > TimeSpan.FromSeconds(5)) throw new TimeoutException("the pair did not connect within 5 s: " + client);
                    continue;
                }
                server = accepted;
            }
            int n;
            long got = 0;
            while ((n = server.Receive(sink)) > 0) got += n;
            if (got > 0) w.Add(got);
            b.Poll(now);
            a.Poll(now);
            if (client.Error != NetError.None) throw new InvalidOperationException("the connection failed: " + client.Error);
        }
    }
}
