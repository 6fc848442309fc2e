using TcpIpSharp.Diagnostics;
using TcpIpSharp.Links;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>
/// Issue 18 item 2: an in-order data segment's checksum is summed while its payload is copied into the receive ring.
/// A corrupt one must still be dropped and counted exactly as before (TcpBadChecksum, tcp.errors, not tcp.received),
/// leave RCV.NXT and the readable bytes as they were, and its retransmission be taken; on the fast path (staged in the
/// ring) and off it (verified first).
/// </summary>
public class ChecksumOnCopyTests
{
    /// <summary>Corrupts the last byte of the next TCP frame with payload that B receives, once armed.</summary>
    private sealed class CorruptingLink(ILink inner, bool vouch) : ILink
    {
        public bool Armed;
        /// <summary>Armed for the next pure ACK (no payload, ACK alone) instead of the next frame with payload.</summary>
        public bool ArmedForPureAck;
        public int Corrupted;
        public LinkCapabilities Capabilities => vouch ? inner.Capabilities with { ChecksumOffload = true } : inner.Capabilities;

        public int TryReceive(Span<byte> buffer)
        {
            int n = inner.TryReceive(buffer);
            int tcp = n > 0 ? TcpOffset(buffer[..n]) : -1;
            if (tcp < 0) return n;   // not TCP (ARP, neighbour discovery): never corrupted
            int payload = n - tcp - (buffer[tcp + 12] >> 4) * 4;
            if (Armed && payload > 0)
            {
                buffer[n - 1] ^= 0x5A;
                Armed = false;
                Corrupted++;
            }
            else if (ArmedForPureAck && payload == 0 && buffer[tcp + 13] == 0x10)
            {
                buffer[n - 1] ^= 0x5A;   // the header's last byte (the timestamp echo, or the urgent pointer): covered by the sum
                ArmedForPureAck = false;
                Corrupted++;
            }
            return n;
        }

        // Where the TCP header of an IPv4 or IPv6 frame starts, or -1 for any other frame.
        private static int TcpOffset(ReadOnlySpan<byte> frame)
        {
            int type = frame[12] << 8 | frame[13];
            if (type == 0x0800 && frame[23] == 6) return 14 + (frame[14] & 15) * 4;
            if (type == 0x86DD && frame[20] == 6) return 54;
            return -1;
        }

        public bool TrySend(ReadOnlySpan<byte> frame) => inner.TrySend(frame);
        public bool TrySendTcpSegments(ReadOnlySpan<byte> frame, int segmentSize) => inner.TrySendTcpSegments(frame, segmentSize);
        public bool WaitReadable(TimeSpan timeout) => inner.WaitReadable(timeout);
        public void Interrupt() => inner.Interrupt();
        public void Dispose() => inner.Dispose();
    }

    private static (TwoStacks Net, CorruptingLink AtB) Create(IpFamily family, bool vouch = false)
    {
        CorruptingLink? atB = null;
        int wrapped = 0;
        var net = new TwoStacks(family: family, wrap: link => wrapped++ == 0 ? link : atB = new CorruptingLink(link, vouch));
        return (net, atB!);
    }

    // A sends data; polls until B has taken what it was sent or drops it (B polled once per frame).
    private static void Deliver(TwoStacks net)
    {
        for (int i = 0; i < 8; i++) { net.A.Poll(net.Clock.Now); net.B.Poll(net.Clock.Now); }
    }

    [TestCase(IpFamily.V4, true, true)]
    [TestCase(IpFamily.V6, true, true)]
    [TestCase(IpFamily.V4, false, true)]
    [TestCase(IpFamily.V6, false, true)]
    [TestCase(IpFamily.V4, true, false)]
    [TestCase(IpFamily.V6, true, false)]
    public void A_corrupt_in_order_segment_is_dropped_and_counted_and_its_retransmission_taken(IpFamily family, bool fastPath, bool warm)
    {
        // warm: B's ring already holds an array the segment fits in, so on the fast path it is staged and summed in the
        // copy; not warm: the ring would have to grow, and the segment is verified before it is copied.
        var (net, atB) = Create(family);
        using var _ = net;
        net.B.Tcp.FastPath = fastPath;
        var (client, server) = net.Connect();
        var random = new Random(18);
        var first = new byte[1000];
        random.NextBytes(first);
        if (warm)
        {
            client.Send(first);
            Deliver(net);
            Assert.That(server.Available, Is.EqualTo(first.Length));
            Assert.That(server.ReceiveStorageLength, Is.GreaterThanOrEqualTo(first.Length + 1460));
        }
        long fastData = net.B.Statistics.TcpDetail.FastPathDataCount;
        long received = net.B.Statistics.Tcp.Received, errors = net.B.Statistics.Tcp.Errors;
        uint rcvNxt = server.ReceiveNext;
        int available = server.Available;

        var second = new byte[1460];
        random.NextBytes(second);
        atB.Armed = true;
        client.Send(second);
        Deliver(net);

        Assert.That(atB.Corrupted, Is.EqualTo(1), "one frame corrupted on its way to B");
        Assert.That(net.B.Statistics.Drops(DropReason.TcpBadChecksum), Is.EqualTo(1));
        Assert.That(net.B.Statistics.Tcp.Errors, Is.EqualTo(errors + 1), "tcp.errors");
        Assert.That(net.B.Statistics.Tcp.Received, Is.EqualTo(received), "tcp.received: not counted");
        Assert.That(server.ReceiveNext, Is.EqualTo(rcvNxt), "RCV.NXT unchanged");
        Assert.That(server.Available, Is.EqualTo(available), "no byte made readable");
        Assert.That(net.B.Statistics.TcpDetail.FastPathDataCount, Is.EqualTo(fastData), "not taken on the fast path");

        // The retransmission (tail-loss probe or RTO) is taken, and the bytes are the sender's.
        int expected = available + second.Length;
        net.RunUntil(() => server.Available >= expected, TimeSpan.FromSeconds(10));
        var got = new byte[expected];
        Assert.That(server.Receive(got), Is.EqualTo(expected));
        Assert.That(got.AsSpan(available).SequenceEqual(second), Is.True, "the retransmitted bytes");
        if (warm) Assert.That(got.AsSpan(0, available).SequenceEqual(first), Is.True, "the bytes before");
        Assert.That(server.ReceiveNext, Is.EqualTo(rcvNxt + (uint)second.Length));
        Assert.That(net.B.Statistics.Drops(DropReason.TcpBadChecksum), Is.EqualTo(1));
    }

    // The pure ACK's sum is its header's alone (TcpTable.Process adds no empty payload): a corrupt one must still be
    // dropped and counted, and acknowledge nothing.
    [TestCase(IpFamily.V4)]
    [TestCase(IpFamily.V6)]
    public void A_corrupt_pure_ack_is_dropped_and_counted_and_acknowledges_nothing(IpFamily family)
    {
        var (net, atB) = Create(family);
        using var _ = net;
        var (client, server) = net.Connect();
        Deliver(net);
        int free = server.SendSpace;
        long fastAcks = net.B.Statistics.TcpDetail.FastPathAcksCount;
        long received = net.B.Statistics.Tcp.Received, errors = net.B.Statistics.Tcp.Errors;

        atB.ArmedForPureAck = true;
        Assert.That(server.Send(new byte[1000]), Is.EqualTo(1000));
        net.RunUntil(() => atB.Corrupted == 1, TimeSpan.FromSeconds(2));

        Assert.That(atB.Corrupted, Is.EqualTo(1), "A's ACK corrupted on its way to B");
        Assert.That(net.B.Statistics.Drops(DropReason.TcpBadChecksum), Is.EqualTo(1));
        Assert.That(net.B.Statistics.Tcp.Errors, Is.EqualTo(errors + 1), "tcp.errors");
        Assert.That(net.B.Statistics.Tcp.Received, Is.EqualTo(received), "tcp.received: not counted");
        Assert.That(net.B.Statistics.TcpDetail.FastPathAcksCount, Is.EqualTo(fastAcks), "not taken on the fast path");
        Assert.That(server.SendSpace, Is.EqualTo(free - 1000), "the 1,000 bytes still unacknowledged");

        // The resend draws another ACK, and that one is taken.
        net.RunUntil(() => server.SendSpace == free, TimeSpan.FromSeconds(10));
        Assert.That(server.SendSpace, Is.EqualTo(free), "acknowledged after the resend");
        Assert.That(net.B.Statistics.Drops(DropReason.TcpBadChecksum), Is.EqualTo(1));
    }

    [TestCase(IpFamily.V4)]
    [TestCase(IpFamily.V6)]
    public void In_order_segments_across_the_ring_wrap_are_summed_in_the_copy_and_arrive_intact(IpFamily family)
    {
        // 200 KB with B reading in odd-sized pieces, so that staged copies start at every alignment and wrap the ring.
        var (net, _) = Create(family);
        using var __ = net;
        var (client, server) = net.Connect();
        var data = new byte[200_000];
        new Random(1071).NextBytes(data);
        var got = new List<byte>();
        int sent = 0;
        var piece = new byte[777];
        net.RunUntil(() => got.Count == data.Length, TimeSpan.FromSeconds(60), () =>
        {
            if (sent < data.Length) sent += client.Send(data.AsSpan(sent));
            int n = server.Available > 0 ? server.Receive(piece) : 0;
            got.AddRange(piece.AsSpan(0, n).ToArray());
        });
        Assert.That(got.ToArray().AsSpan().SequenceEqual(data), Is.True);
        Assert.That(net.B.Statistics.Drops(DropReason.TcpBadChecksum), Is.Zero);
        Assert.That(net.B.Statistics.TcpDetail.FastPathDataCount, Is.GreaterThan(50), "taken (and summed in the copy) on the fast path");
    }

    [TestCase(IpFamily.V4)]
    [TestCase(IpFamily.V6)]
    public void Where_the_link_vouches_for_checksums_none_is_computed(IpFamily family)
    {
        // The link says it verified the checksum (offload): the stack sums nothing, so a payload changed after the
        // link's check is taken as it is (which is what trusting the link means).
        var (net, atB) = Create(family, vouch: true);
        using var _ = net;
        var (client, server) = net.Connect();
        var data = new byte[1000];
        new Random(3).NextBytes(data);
        atB.Armed = true;
        client.Send(data);
        Deliver(net);
        Assert.That(atB.Corrupted, Is.EqualTo(1));
        Assert.That(net.B.Statistics.Drops(DropReason.TcpBadChecksum), Is.Zero);
        Assert.That(server.Available, Is.EqualTo(data.Length));
    }
}
