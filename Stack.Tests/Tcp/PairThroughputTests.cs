using System.Diagnostics;
namespace TcpIpSharp.Tests.Tcp;

/// <summary>A smoke measurement, not a timed test: one TCP connection between two stacks over the in-memory pair on one thread.</summary>
public class PairThroughputTests
{
    [Test]
    public void One_connection_over_the_in_memory_pair_reports_its_throughput()
    {
        using var net = new TwoStacks();
        var (client, server) = net.Connect();
        var chunk = new byte[64 * 1024];
        var sink = new byte[256 * 1024];
        long total = 64L << 20, sent = 0, received = 0;
        var watch = Stopwatch.StartNew();
        var now = net.Clock.Now;
        while (received < total && watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            while (sent < total && client.SendSpace > 0) sent += client.Send(chunk.AsSpan(0, (int)Math.Min(chunk.Length, total - sent)));
            net.A.Poll(now);
            net.B.Poll(now);
            int n;
            while ((n = server.Receive(sink)) > 0) received += n;
            net.B.Poll(now);
            net.A.Poll(now);
            now += TimeSpan.FromMilliseconds(0.1);
            net.Clock.Set(now);
        }
        double seconds = watch.Elapsed.TotalSeconds;
        TestContext.Out.WriteLine($"in-memory pair, one connection, one thread: {received >> 20} MiB in {seconds:0.00} s = {received * 8 / seconds / 1e9:0.00} Gbit/s ({client.Retransmits} retransmits)");
        Assert.That(received, Is.EqualTo(total));
    }
}
