using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

public class ReassemblyTests
{
    private static byte[] EchoPayload(int dataLength, ushort seq = 1) => Frames.EchoMessage(IcmpType.EchoRequest, 0x77, seq, dataLength);

    private static IEnumerable<int[]> Permutations(int n)
    {
        var a = Enumerable.Range(0, n).ToArray();
        return Permute(a, 0);
        static IEnumerable<int[]> Permute(int[] a, int k)
        {
            if (k == a.Length) { yield return (int[])a.Clone(); yield break; }
            for (int i = k; i < a.Length; i++)
            {
                (a[k], a[i]) = (a[i], a[k]);
                foreach (var p in Permute(a, k + 1)) yield return p;
                (a[k], a[i]) = (a[i], a[k]);
            }
        }
    }

    private static byte[] ReplyData(StackHarness h)
    {
        // Reassemble the stack's (possibly fragmented) reply by hand.
        var frames = h.Drain();
        var whole = new byte[70000];
        int total = 0;
        foreach (var f in frames)
        {
            EthernetFrame.TryParse(f, out var eth);
            if (eth.EtherType != EtherType.Ipv4) continue;
            Ipv4Packet.TryParse(eth.Payload, out var ip);
            ip.Payload.CopyTo(whole.AsSpan(ip.FragmentOffset));
            total = Math.Max(total, ip.FragmentOffset + ip.Payload.Length);
        }
        return whole[..total];
    }

    [Test]
    public void Reassembles_in_every_order_of_five_fragments()
    {
        var message = EchoPayload(4 * 400 + 100);
        foreach (var order in Permutations(5))
        {
            using var h = new StackHarness();
            h.Learn(Frames.PeerIp, Frames.PeerMac);
            var frags = Frames.Fragments(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, message, 400, 9);
            Assert.That(frags, Has.Count.EqualTo(5));
            foreach (int i in order) h.Inject(frags[i]);
            var reply = ReplyData(h);
            Assert.That(reply.AsSpan(8).SequenceEqual(message.AsSpan(8)), Is.True, $"order {string.Join(",", order)}");
            Assert.That(reply[0], Is.EqualTo((byte)IcmpType.EchoReply));
            Assert.That(h.Stack.Ipv4.Reassembler.BytesHeld, Is.Zero);
        }
    }

    [Test]
    public void Exact_duplicates_are_ignored()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var message = EchoPayload(2000);
        var frags = Frames.Fragments(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, message, 800, 5);
        h.Inject(frags[0]); h.Inject(frags[0]); h.Inject(frags[1]); h.Inject(frags[1]); h.Inject(frags[2]);
        Assert.That(ReplyData(h).AsSpan(8).SequenceEqual(message.AsSpan(8)), Is.True);
        Assert.That(h.Stack.Statistics.EchoRepliesSent, Is.EqualTo(1));
    }

    [Test]
    public void An_overlapping_fragment_drops_the_datagram()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var message = EchoPayload(2000);
        var frags = Frames.Fragments(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, message, 800, 5);
        h.Inject(frags[0]);
        // A fragment overlapping the first (teardrop-style): offset 400, 800 bytes, different data.
        var evil = new byte[800];
        Array.Fill(evil, (byte)0xEE);
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, evil, 5, true, 400));
        h.Inject(frags[1]); h.Inject(frags[2]);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Stack.Statistics.Drops(DropReason.ReassemblyOverlap), Is.EqualTo(1));
            Assert.That(h.Stack.Statistics.EchoRepliesSent, Is.Zero, "what remains never completes");
        }
        h.Advance(TimeSpan.FromSeconds(31));
        Assert.That(h.Stack.Ipv4.Reassembler.BytesHeld, Is.Zero);
    }

    [Test]
    public void A_hole_times_out_and_a_time_exceeded_quotes_the_first_fragment()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var frags = Frames.Fragments(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, EchoPayload(2000), 800, 5);
        h.Inject(frags[0]); h.Inject(frags[2]);
        h.Advance(TimeSpan.FromSeconds(29));
        Assert.That(h.Drain(), Is.Empty);
        h.Advance(TimeSpan.FromSeconds(2));
        var sent = h.Drain();
        Assert.That(sent, Has.Count.EqualTo(1));
        EthernetFrame.TryParse(sent[0], out var eth);
        Ipv4Packet.TryParse(eth.Payload, out var ip);
        IcmpPacket.TryParse(ip.Payload, out var icmp);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(icmp.Type, Is.EqualTo(IcmpType.TimeExceeded));
            Assert.That(icmp.Code, Is.EqualTo(1));
            Assert.That(icmp.IsChecksumValid, Is.True);
            Assert.That(icmp.TryGetQuote(out var q), Is.EqualTo(WireError.None));
            Assert.That(h.Stack.Statistics.Drops(DropReason.ReassemblyTimeout), Is.EqualTo(1));
            Assert.That(h.Stack.Ipv4.Reassembler.BytesHeld, Is.Zero);
        }
    }

    [Test]
    public void A_datagram_past_65535_bytes_is_rejected()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        // Ping of death: the last fragment at offset 65528 with 100 bytes.
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, EchoPayload(1000).AsSpan(0, 1000), 6, true, 0));
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, new byte[100], 6, false, 65528));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Stack.Statistics.Drops(DropReason.ReassemblyTooLarge), Is.EqualTo(1));
            Assert.That(h.Stack.Ipv4.Reassembler.BytesHeld, Is.Zero);
            Assert.That(h.Drain(), Is.Empty);
        }
    }

    [Test]
    public void Largest_echo_65507_bytes_reassembles_and_is_answered_in_fragments()
    {
        using var h = new StackHarness();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var message = EchoPayload(65507 - 8);
        foreach (var f in Frames.Fragments(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, message, 1480, 11)) h.Inject(f);
        var reply = ReplyData(h);
        Assert.That(reply, Has.Length.EqualTo(message.Length));
        Assert.That(reply.AsSpan(8).SequenceEqual(message.AsSpan(8)), Is.True);
        Assert.That(h.Stack.Statistics.Drops(DropReason.ReassemblyTooLarge), Is.Zero);
    }

    [Test]
    public void Thousands_of_unfinished_trains_stay_within_the_memory_bound()
    {
        using var h = new StackHarness();
        for (int i = 0; i < 5000; i++)
            h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, new byte[1480], (ushort)i, true, 0));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(h.Stack.Ipv4.Reassembler.DatagramsInProgress, Is.LessThanOrEqualTo(8));
            Assert.That(h.Stack.Ipv4.Reassembler.BytesHeld, Is.LessThanOrEqualTo(256 * 1024));
            Assert.That(h.Stack.Statistics.Drops(DropReason.ReassemblyEvicted), Is.GreaterThanOrEqualTo(5000 - 8), "the oldest evicted for each new one");
        }
    }

    [TestCase(8, 256 * 1024, 1480)]        // every slot taken by single-fragment trains
    [TestCase(8, 64 * 1024, 8 * 1480)]     // the byte budget taken: eight trains of eight fragments (94 KB > 64 KB)
    public void A_flood_of_unfinished_trains_does_not_keep_an_honest_fragmented_ping_out(int slots, int bytes, int trainBytes)
    {
        using var h = new StackHarness(new NetworkStackOptions
        {
            MacAddress = Frames.StackMac, Address = Frames.StackIp, ReassemblyMaxDatagrams = slots, ReassemblyMaxBytes = bytes,
        });
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var attacker = Ipv4Address.Parse("192.0.2.66");
        // Trains that never complete (no last fragment), filling every slot and as many bytes as they can.
        for (ushort id = 1; id <= 3 * slots; id++)
            for (int offset = 0; offset < trainBytes; offset += 1480)
                h.Inject(Frames.Ipv4(attacker, Frames.StackIp, IpProtocol.Udp, new byte[1480], id, more: true, offset: offset));
        h.Drain();
        var r = h.Stack.Ipv4.Reassembler;
        Assert.That(r.DatagramsInProgress == slots || r.BytesHeld + trainBytes > bytes, Is.True, $"the flood holds every slot or the byte budget (no room for one more train) ({r.DatagramsInProgress} datagrams, {r.BytesHeld} bytes)");
        // An honest 4,000-byte ping in three fragments, still within the flood's 30 s.
        h.Advance(TimeSpan.FromSeconds(1));
        var message = EchoPayload(4000);
        foreach (var f in Frames.Fragments(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, message, 1480, 4242)) h.Inject(f);
        var reply = ReplyData(h);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply, Has.Length.EqualTo(message.Length), "the honest datagram was reassembled and answered");
            Assert.That(reply.AsSpan(8).SequenceEqual(message.AsSpan(8)), Is.True);
            Assert.That(h.Stack.Statistics.Drops(DropReason.ReassemblyEvicted), Is.GreaterThan(0), "the oldest trains evicted, counted");
            Assert.That(h.Stack.Ipv4.Reassembler.BytesHeld, Is.LessThanOrEqualTo(bytes));
        }
    }
}
