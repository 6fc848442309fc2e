using System.Diagnostics;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>
/// More than 2^31 bytes one way on one connection. Regression: the send side asked "is our SYN still unacknowledged?"
/// as Seq.Le(SND.UNA, ISS), which reads true again once SND.UNA is 2^31 past the ISS; the ring offsets then started
/// at ISS + 1 and the sender stalled (found by the per-packet benchmark, which acknowledges gigabytes quickly).
/// </summary>
public class LongTransferTests
{
    [Test]
    public void More_than_two_GiB_on_one_connection_arrive_byte_exact()
    {
        var options = new NetworkStackOptions { Tcp = new TcpConnectionOptions { SendBufferSize = 1 << 20, ReceiveBufferSize = 1 << 20 } };
        using var net = new TwoStacks(options: options);
        var (client, server) = net.Connect();
        const int Period = 251;   // a prime: a byte at the wrong offset shows
        var pattern = new byte[Period + 256 * 1024];
        for (int i = 0; i < pattern.Length; i++) pattern[i] = (byte)(i % Period);
        var sink = new byte[256 * 1024];
        long total = (1L << 31) + (32L << 20), sent = 0, received = 0;
        var watch = Stopwatch.StartNew();
        var now = net.Clock.Now;
        bool exact = true;
        while (received < total && watch.Elapsed < TimeSpan.FromSeconds(90))
        {
            while (sent < total && client.SendSpace > 0)
                sent += client.Send(pattern.AsSpan((int)(sent % Period), (int)Math.Min(256 * 1024, total - sent)));
            net.A.Poll(now);
            net.B.Poll(now);
            int n;
            while ((n = server.Receive(sink)) > 0)
            {
                exact &= sink.AsSpan(0, n).SequenceEqual(pattern.AsSpan((int)(received % Period), n));
                received += n;
            }
            net.B.Poll(now);
            net.A.Poll(now);
            now += TimeSpan.FromMilliseconds(0.1);
            net.Clock.Set(now);
        }
        TestContext.Out.WriteLine($"{received} bytes in {watch.Elapsed.TotalSeconds:0.0} s; {client}");
        Assert.That(received, Is.EqualTo(total), client.ToString());
        Assert.That(exact, Is.True, "some bytes arrived wrong");
    }
}
