using TcpIpSharp.Links;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>
/// <see cref="TcpConnection.DirectReceiver"/>: an application on the stack's thread takes in-order data straight from
/// the lent frame (the gateway's relay, one copy fewer). The byte stream it and the ring give together must be the one
/// sent, in order, whatever share it takes; it is asked only while the ring is empty; what it leaves is readable from
/// the ring as usual.
/// </summary>
public class DirectReceiveTests
{
    /// <summary>A link end that says it verifies checksums (as the TAP with offloads does), so data takes the unstaged fast path.</summary>
    private sealed class VouchingLink(ILink inner) : ILink
    {
        public LinkCapabilities Capabilities => inner.Capabilities with { ChecksumOffload = true };
        public int TryReceive(Span<byte> buffer) => inner.TryReceive(buffer);
        public bool TrySend(ReadOnlySpan<byte> frame) => inner.TrySend(frame);
        public bool TrySendTcpSegments(ReadOnlySpan<byte> frame, int segmentSize) => inner.TrySendTcpSegments(frame, segmentSize);
        public bool WaitReadable(TimeSpan timeout) => inner.WaitReadable(timeout);
        public void Interrupt() => inner.Interrupt();
        public void Dispose() => inner.Dispose();
    }

    // Sends `data` from A to B; B's application takes up to `takeAtMost` bytes per call directly (or none: -1 means
    // "refuse every other call") and reads the ring after every poll round; returns what it got, in order, and the calls.
    private static (byte[] Got, int Calls, long DirectBytes, int CallsWithRingNotEmpty) Transfer(IpFamily family, byte[] data, int takeAtMost, bool vouch)
    {
        using var net = new TwoStacks(family: family, wrap: vouch ? link => new VouchingLink(link) : null);
        var (client, server) = net.Connect();
        var got = new MemoryStream();
        int calls = 0, callsWithRingNotEmpty = 0;
        server.DirectReceiver = span =>
        {
            calls++;
            if (server.Available != 0) callsWithRingNotEmpty++;
            int n = takeAtMost < 0 ? (calls % 2 == 0 ? 0 : span.Length) : Math.Min(takeAtMost, span.Length);
            got.Write(span[..n]);
            return n;
        };
        var buffer = new byte[7000];
        int sent = 0;
        net.RunUntil(() => got.Length == data.Length, TimeSpan.FromSeconds(30), () =>
        {
            if (sent < data.Length) sent += Math.Max(0, client.Send(data.AsSpan(sent)));
            int n;
            while ((n = server.Receive(buffer)) > 0) got.Write(buffer, 0, n);
        });
        return (got.ToArray(), calls, net.B.Statistics.TcpDetail.DirectReceivedBytes, callsWithRingNotEmpty);
    }

    private static byte[] Data(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [TestCase(IpFamily.V4)]
    [TestCase(IpFamily.V6)]
    public void A_receiver_that_takes_everything_gets_the_whole_stream_in_order_and_the_ring_stays_unused(IpFamily family)
    {
        var data = Data(300_000, 1);
        var (got, calls, direct, ringNotEmpty) = Transfer(family, data, int.MaxValue, vouch: true);
        Assert.That(got, Is.EqualTo(data));
        Assert.That(calls, Is.GreaterThan(100), "about one call per segment");
        Assert.That(direct, Is.EqualTo(data.Length), "tcp.direct_received_bytes counts them all");
        Assert.That(ringNotEmpty, Is.Zero);
    }

    [TestCase(IpFamily.V4, 100)]
    [TestCase(IpFamily.V6, 100)]
    [TestCase(IpFamily.V4, 0)]
    [TestCase(IpFamily.V4, -1)]
    public void What_the_receiver_leaves_is_read_from_the_ring_and_the_stream_keeps_its_order(IpFamily family, int takeAtMost)
    {
        var data = Data(200_000, 2);
        var (got, calls, direct, ringNotEmpty) = Transfer(family, data, takeAtMost, vouch: true);
        Assert.That(got, Is.EqualTo(data));
        Assert.That(calls, Is.GreaterThan(0));
        Assert.That(ringNotEmpty, Is.Zero, "asked only while the ring is empty");
        Assert.That(direct, Is.LessThan(data.Length));
        if (takeAtMost == 0) Assert.That(direct, Is.Zero);
        else Assert.That(direct, Is.GreaterThan(0));
    }

    [Test]
    public void Without_checksum_offload_the_stream_is_still_whole_and_in_order()
    {
        // Staged segments (summed while copied into the ring) are never offered; unstaged ones only after their sum.
        var data = Data(200_000, 3);
        var (got, _, _, ringNotEmpty) = Transfer(IpFamily.V4, data, int.MaxValue, vouch: false);
        Assert.That(got, Is.EqualTo(data));
        Assert.That(ringNotEmpty, Is.Zero);
    }
}
