using TcpIpSharp.Tests.Net;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp.Matrix;

/// <summary>
/// Out-of-order reassembly: all 120 arrival orders of five data segments, and every overlap pattern of two segments
/// (Allen's 13 interval relations and more, both arrival orders, with the first segment at RCV.NXT or beyond it).
/// The receiver must deliver exactly the stream, in order, once; every ACK must carry RCV.NXT = the contiguous prefix
/// and SACK blocks naming exactly the ranges held beyond it, the first block the one holding the segment that
/// triggered it (RFC 2018 4), after a D-SACK block for the part of the segment received before (RFC 2883 4); a
/// segment out of order or filling a gap is acknowledged at once (RFC 5681 4.2).
/// </summary>
public class ReassemblyMatrixTests
{
    private const uint Irs = 500_000;
    private const int Piece = 100;
    private static readonly TimeSpan Immediate = TimeSpan.FromMilliseconds(10);
    // RFC 9293 3.8.6.3: an ACK may be delayed (under 0.5 s; the issue bounds it at 200 ms).
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(210);

    // MSS 1460, SACK permitted, no timestamps: four SACK blocks fit.
    private static readonly byte[] SynOptions = [2, 4, 0x05, 0xb4, 4, 2, 1, 1];

    private static (RawPeer Peer, TcpConnection Connection, uint Iss) Established(IpFamily family)
    {
        var peer = new RawPeer(new TcpConnectionOptions { ReceiveBufferSize = 64 * 1024 }, family: family);
        try
        {
            var listener = peer.Stack.ListenTcp(8080);
            peer.Send(TcpFlags.Syn, Irs, 0, options: SynOptions);
            var synAck = peer.TakeOne("the SYN-ACK");
            Assert.That(synAck.Options.SackPermitted, Is.True, "SACK negotiated");
            peer.Run(TimeSpan.FromMilliseconds(5));
            peer.Send(TcpFlags.Ack, Irs + 1, synAck.Seq + 1);
            Assert.That(listener.TryAccept(out var connection), Is.True);
            return (peer, connection!, synAck.Seq);
        }
        catch { peer.Dispose(); throw; }
    }

    /// <summary>Sends stream bytes [from, to) (offsets from the first data byte; negative ones lie before it).</summary>
    private static void SendRange(RawPeer peer, uint iss, long from, long to)
    {
        var payload = new byte[to - from];
        for (long i = from; i < to; i++) payload[i - from] = RawPeer.Pattern(((i % 251) + 251) % 251);
        peer.Send(TcpFlags.Psh | TcpFlags.Ack, (uint)(Irs + 1 + from), iss + 1, payload: payload);
    }

    /// <summary>What the receiver holds: the contiguous prefix end and the maximal ranges beyond it (offsets).</summary>
    private sealed class Model
    {
        private readonly SortedSet<long> _bytes = [];
        public long Next { get; private set; }

        public void Add(long from, long to)
        {
            for (long i = Math.Max(from, 0); i < to; i++) if (i >= Next) _bytes.Add(i);
            while (_bytes.Remove(Next)) Next++;
        }

        public List<(long From, long To)> Ranges()
        {
            var list = new List<(long, long)>();
            long? start = null, last = null;
            foreach (long b in _bytes)
            {
                if (start is null) { start = last = b; continue; }
                if (b == last + 1) { last = b; continue; }
                list.Add((start.Value, last!.Value + 1));
                start = last = b;
            }
            if (start is not null) list.Add((start.Value, last!.Value + 1));
            return list;
        }
    }

    private static string Blocks(SentSegment s)
        => string.Join(" ", Enumerable.Range(0, s.Options.SackBlocks.Count).Select(i => $"{(long)(int)(s.Options.SackBlocks[i].Left - Irs - 1)}-{(long)(int)(s.Options.SackBlocks[i].Right - Irs - 1)}"));

    /// <summary>Checks one ACK against the model: ACK = RCV.NXT, SACK blocks = the held ranges (first the triggering one).</summary>
    private static void CheckAck(SentSegment ack, Model model, (long From, long To) trigger, string context, (long From, long To)? duplicate)
    {
        Assert.That(ack.Flags, Is.EqualTo(TcpFlags.Ack), $"{context}: a pure ACK ({ack})");
        Assert.That((long)(ack.Ack - Irs - 1), Is.EqualTo(model.Next), $"{context}: ACK = RCV.NXT ({ack})");
        var ranges = model.Ranges();
        var blocks = Enumerable.Range(0, ack.Options.SackBlocks.Count)
            .Select(i => ((long)(int)(ack.Options.SackBlocks[i].Left - Irs - 1), (long)(int)(ack.Options.SackBlocks[i].Right - Irs - 1))).ToList();
        if (duplicate is { } d)
        {
            // RFC 2883 4: the duplicate part of the segment first (a D-SACK block), then the SACK blocks as usual.
            Assert.That(blocks, Is.Not.Empty, $"{context}: the duplicate {d} is reported in a D-SACK block");
            Assert.That(blocks[0], Is.EqualTo(d), $"{context}: SACK blocks [{Blocks(ack)}] start with the D-SACK block {d} (RFC 2883 4)");
            blocks.RemoveAt(0);
        }
        // RFC 2018 4: report as many held ranges as fit (four without timestamps); here there are never more than that.
        Assert.That(blocks, Is.EquivalentTo(ranges), $"{context}: SACK blocks [{Blocks(ack)}] must be exactly the held ranges");
        var first = ranges.FirstOrDefault(r => r.From < trigger.To && trigger.From < r.To);
        if (blocks.Count > 0 && first != default)
            Assert.That(blocks[0], Is.EqualTo(first), $"{context}: the first SACK block holds the segment that triggered the ACK (RFC 2018 4)");
    }

    /// <summary>Sends one segment and checks the ACKs that follow within <see cref="Settle"/>.</summary>
    private static void Deliver(RawPeer peer, uint iss, Model model, long from, long to, string context)
    {
        long before = model.Next;
        var heldRanges = model.Ranges();
        bool heldBeyond = heldRanges.Count > 0;
        // RFC 2883 4: what of the segment was received before: the part below RCV.NXT (4.1.1), else the part inside
        // the first range held beyond it that it overlaps (4.1.2).
        (long, long)? duplicate = from < before ? (from, Math.Min(to, before)) : null;
        if (from > before && heldRanges.FirstOrDefault(r => r.From < to && from < r.To) is { } r && r != default)
            duplicate = (Math.Max(from, r.From), Math.Min(to, r.To));
        var sentAt = peer.Clock.Now;
        SendRange(peer, iss, from, to);
        model.Add(from, to);
        peer.Run(Settle);
        var acks = peer.Take();
        bool outOfOrder = from > before;
        bool fillsGap = from <= before && to > before && heldBeyond;
        bool old = to <= before;
        Assert.That(acks, Is.Not.Empty, $"{context}: [{from},{to}) drew no ACK within {Settle.TotalMilliseconds} ms");
        if (outOfOrder || fillsGap || old)
            Assert.That(acks[0].At - sentAt, Is.LessThanOrEqualTo(Immediate),
                $"{context}: [{from},{to}) ({(outOfOrder ? "out of order" : fillsGap ? "filling a gap" : "old")}) must be acknowledged at once (RFC 5681 4.2, RFC 9293 3.10.7.4)");
        // The duplicate is reported once, in the first ACK after the segment.
        for (int i = 0; i < acks.Count; i++) CheckAck(acks[i], model, (from, to), $"{context}: after [{from},{to})", i == 0 ? duplicate : null);
    }

    private static void ReadAll(RawPeer peer, TcpConnection connection, long length, string context)
    {
        Assert.That(connection.Available, Is.EqualTo(length), $"{context}: every byte available exactly once");
        var buffer = new byte[length + 10];
        int n = connection.Receive(buffer);
        Assert.That(n, Is.EqualTo(length), context);
        for (int i = 0; i < length; i++)
            if (buffer[i] != RawPeer.Pattern(i)) Assert.Fail($"{context}: byte {i} is {buffer[i]}, expected {RawPeer.Pattern(i)}");
        Assert.That(connection.Available, Is.Zero, context);
        peer.Run(TimeSpan.FromMilliseconds(1));
    }

    // ------------------------------------------------------------------ 120 orders of five segments

    public static IEnumerable<TestCaseData> Orders() => IpFamilies.OverBoth(OrdersOneFamily());

    private static IEnumerable<TestCaseData> OrdersOneFamily()
    {
        static IEnumerable<int[]> Permute(int[] items)
        {
            if (items.Length <= 1) { yield return items; yield break; }
            for (int i = 0; i < items.Length; i++)
                foreach (var rest in Permute([.. items[..i], .. items[(i + 1)..]]))
                    yield return [items[i], .. rest];
        }
        foreach (var order in Permute([0, 1, 2, 3, 4]))
            yield return new TestCaseData((object)order).SetArgDisplayNames(string.Concat(order));
    }

    [Test]
    public void There_are_120_orders() => Assert.That(Orders().Count(), Is.EqualTo(120 * 2), "120 orders over IPv4 and IPv6");

    [TestCaseSource(nameof(Orders))]
    public void Five_segments_in_any_order(int[] order, IpFamily family)
    {
        var (peer, connection, iss) = Established(family);
        using (peer)
        {
            var model = new Model();
            foreach (int i in order)
                Deliver(peer, iss, model, i * Piece, (i + 1) * Piece, $"order {string.Concat(order)}");
            Assert.That(model.Next, Is.EqualTo(5 * Piece));
            ReadAll(peer, connection, 5 * Piece, $"order {string.Concat(order)}");
        }
    }

    // ------------------------------------------------------------------ overlap patterns of two segments

    // Segment A is [100, 200) from the base; B runs between any two of these points, which gives every relation of
    // B's start and end to A's (before with a gap, meeting, overlapping, starting, equal, inside, finishing, containing,
    // met by, after): Allen's 13 relations and their variants.
    private static readonly long[] Points = [25, 50, 100, 150, 175, 200, 250, 300];

    internal static string Relation(long s, long e, long a1, long a2)
    {
        static string Where(long p, long a1, long a2) => p < a1 ? "before" : p == a1 ? "at-start" : p < a2 ? "inside" : p == a2 ? "at-end" : "after";
        return $"start-{Where(s, a1, a2)}_end-{Where(e, a1, a2)}";
    }

    public static IEnumerable<TestCaseData> Overlaps() => IpFamilies.OverBoth(OverlapsOneFamily());

    private static IEnumerable<TestCaseData> OverlapsOneFamily()
    {
        foreach (long shift in new long[] { 0, -100 })   // 0: A lies beyond RCV.NXT; -100: A starts at RCV.NXT (B may reach left of it)
            for (int i = 0; i < Points.Length; i++)
                for (int j = i + 1; j < Points.Length; j++)
                    foreach (bool aFirst in new[] { true, false })
                    {
                        long s = Points[i] + shift, e = Points[j] + shift;
                        string name = $"{(shift == 0 ? "A-beyond-RCV.NXT" : "A-at-RCV.NXT")}_{Relation(Points[i], Points[j], 100, 200)}_B[{s},{e})_{(aFirst ? "A-first" : "B-first")}";
                        yield return new TestCaseData(100 + shift, 200 + shift, s, e, aFirst).SetArgDisplayNames(name);
                    }
    }

    [Test]
    public void Every_relation_of_two_segments_is_covered()
    {
        var relations = new HashSet<string>();
        for (int i = 0; i < Points.Length; i++)
            for (int j = i + 1; j < Points.Length; j++) relations.Add(Relation(Points[i], Points[j], 100, 200));
        // Start and end each before, at the start of, inside, at the end of or after A, with start < end: 5 + 3 + 3 + 1 + 1
        // = 13 combinations (Allen's 13 relations), all present.
        Assert.That(relations, Has.Count.EqualTo(13));
    }

    [TestCaseSource(nameof(Overlaps))]
    public void Two_overlapping_segments(long a1, long a2, long b1, long b2, bool aFirst, IpFamily family)
    {
        var (peer, connection, iss) = Established(family);
        using (peer)
        {
            var model = new Model();
            string context = $"A [{a1},{a2}) B [{b1},{b2})";
            if (aFirst) { Deliver(peer, iss, model, a1, a2, context); Deliver(peer, iss, model, b1, b2, context); }
            else { Deliver(peer, iss, model, b1, b2, context); Deliver(peer, iss, model, a1, a2, context); }
            // Then the gaps below 300 (after the shift, below a2 + 100), each once, in order.
            long end = Math.Max(a2 + 100, b2);
            var held = model.Ranges();
            long cursor = model.Next;
            foreach (var (from, to) in held.Append((end, end)))
            {
                if (from > cursor) Deliver(peer, iss, model, cursor, from, context + " filling");
                cursor = Math.Max(cursor, to);
            }
            if (cursor < end) Deliver(peer, iss, model, cursor, end, context + " filling");
            Assert.That(model.Next, Is.EqualTo(end));
            ReadAll(peer, connection, end, context);
        }
    }
}
