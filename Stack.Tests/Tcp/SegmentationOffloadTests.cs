using System.Buffers.Binary;
using TcpIpSharp.Links;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>
/// TCP over a link with segmentation offload, in virtual time: the stack hands the link segments of up to 64 KB, which
/// a software segmenter cuts as the kernel does (checking the partial checksum it was given), or which pass whole to a
/// peer that trusts partial checksums (as the kernel hands coalesced segments up a TAP).
/// </summary>
public class SegmentationOffloadTests
{
    /// <summary>A link end with TSO: large TCP frames are checked, then cut into MSS pieces or passed whole.</summary>
    private sealed class OffloadLink(InMemoryLink inner, bool passWhole, bool refuse = false) : ILink
    {
        public LinkCapabilities Capabilities { get; } = inner.Capabilities with { MaxFrameSize = 14 + 65535, ChecksumOffload = true, TcpSegmentationOffload = true };
        public int LargeSent, Pieces, BadPartialChecksums, PiecesOverSegmentSize;
        public int LargestPiecePayload;
        private readonly byte[] _piece = new byte[1514];

        public int TryReceive(Span<byte> buffer) => inner.TryReceive(buffer);
        public bool WaitReadable(TimeSpan timeout) => inner.WaitReadable(timeout);
        public void Interrupt() => inner.Interrupt();
        public void Dispose() => inner.Dispose();

        public int Refused, LargestFrame;
        public readonly List<int> LargePayloads = [];

        public bool TrySend(ReadOnlySpan<byte> frame)
        {
            LargestFrame = Math.Max(LargestFrame, frame.Length);
            return inner.TrySend(frame);
        }

        public bool TrySendTcpSegments(ReadOnlySpan<byte> frame, int segmentSize)
        {
            if (refuse) { Refused++; return false; }
            LargeSent++;
            int ip = 14, ipLength = (frame[ip] & 0x0F) * 4, tcp = ip + ipLength, tcpLength = (frame[tcp + 12] >> 4) * 4;
            var source = Ipv4Address.Read(frame[(ip + 12)..]);
            var destination = Ipv4Address.Read(frame[(ip + 16)..]);
            ushort expected = (ushort)~InternetChecksum.Finish(InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Tcp, frame.Length - tcp));
            if (BinaryPrimitives.ReadUInt16BigEndian(frame[(tcp + 16)..]) != expected) BadPartialChecksums++;
            var payload = frame[(tcp + tcpLength)..];
            LargePayloads.Add(payload.Length);
            if (passWhole) return inner.TrySend(frame);
            uint sequence = BinaryPrimitives.ReadUInt32BigEndian(frame[(tcp + 4)..]);
            ushort id = BinaryPrimitives.ReadUInt16BigEndian(frame[(ip + 4)..]);
            for (int offset = 0, n = 0; offset < payload.Length; offset += segmentSize, n++)
            {
                int length = Math.Min(segmentSize, payload.Length - offset);
                bool last = offset + length == payload.Length;
                frame[..(tcp + tcpLength)].CopyTo(_piece);
                var p = _piece.AsSpan(0, tcp + tcpLength + length);
                payload.Slice(offset, length).CopyTo(p[(tcp + tcpLength)..]);
                BinaryPrimitives.WriteUInt16BigEndian(p[(ip + 2)..], (ushort)(ipLength + tcpLength + length));
                BinaryPrimitives.WriteUInt16BigEndian(p[(ip + 4)..], (ushort)(id + n));
                BinaryPrimitives.WriteUInt16BigEndian(p[(ip + 10)..], 0);
                BinaryPrimitives.WriteUInt16BigEndian(p[(ip + 10)..], InternetChecksum.Compute(p.Slice(ip, ipLength)));
                BinaryPrimitives.WriteUInt32BigEndian(p[(tcp + 4)..], sequence + (uint)offset);
                if (!last) p[tcp + 13] &= unchecked((byte)~(byte)(TcpFlags.Fin | TcpFlags.Psh));
                BinaryPrimitives.WriteUInt16BigEndian(p[(tcp + 16)..], 0);
                TcpHeader.FillChecksum(p[tcp..], source, destination);
                if (length > segmentSize) PiecesOverSegmentSize++;
                LargestPiecePayload = Math.Max(LargestPiecePayload, length);
                Pieces++;
                if (!inner.TrySend(p)) return false;
            }
            return true;
        }
    }

    private static readonly Ipv4Address AddressA = Ipv4Address.Parse("192.0.2.10"), AddressB = Ipv4Address.Parse("192.0.2.11");

    private static readonly Ipv6Address Address6A = Ipv6Address.Parse("2001:db8::a"), Address6B = Ipv6Address.Parse("2001:db8::b");

    // With ipv6, both stacks also hold static IPv6 addresses (DAD off, so they are usable at once).
    private static (NetworkStack A, NetworkStack B, OffloadLink LinkA, ManualClock Clock) Pair(bool passWhole, int mtuB = 1500, bool refuse = false, bool ipv6 = false)
    {
        var frameSize = passWhole ? 14 + 65535 : 1514;
        var (a, b) = InMemoryLink.CreatePair(new LinkCapabilities(1500, frameSize, passWhole), queueFrames: 256);
        var linkA = new OffloadLink(a, passWhole, refuse);
        ILink linkB = passWhole ? new OffloadLink(b, passWhole) : b;
        var clock = new ManualClock();
        TcpIpSharp.Net.Ipv6.Ipv6Options? V6(Ipv6Address a) => ipv6 ? new TcpIpSharp.Net.Ipv6.Ipv6Options { StaticAddresses = [(a, 64)], DupAddrDetectTransmits = 0, RouterSolicitations = 0 } : null;
        var stackA = new NetworkStack(linkA, new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = AddressA, PrefixLength = 24, Ipv6 = V6(Address6A) }, new SeededRandomSource(1));
        var stackB = new NetworkStack(linkB, new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = AddressB, PrefixLength = 24, Mtu = mtuB, Ipv6 = V6(Address6B) }, new SeededRandomSource(2));
        return (stackA, stackB, linkA, clock);
    }

    // A sends `total` bytes of a pattern to B; returns what B received.
    private static byte[] Transfer(NetworkStack a, NetworkStack b, ManualClock clock, int total)
    {
        var listener = b.ListenTcp(5001);
        if (b.Ipv6Enabled) { a.Poll(clock.Now); b.Poll(clock.Now); }   // IPv6 starts on the first poll
        var client = a.ConnectTcp(b.Ipv6Enabled ? Address6B : AddressB, 5001);
        TcpConnection? server = null;
        var data = new byte[total];
        for (int i = 0; i < total; i++) data[i] = (byte)(i * 7 + i / 251);
        var received = new byte[total];
        int sent = 0, got = 0;
        var limit = TimeSpan.FromSeconds(60);
        while (got < total)
        {
            Assert.That(clock.Now, Is.LessThan(limit), $"not done after {limit} of virtual time: {got} of {total} bytes; {client}\nA:\n{a.Statistics}\nB:\n{b.Statistics}");
            for (int round = 0; round < 64; round++)
            {
                if (sent < total && client.SendSpace > 0) sent += client.Send(data.AsSpan(sent));
                bool worked = a.Poll(clock.Now) | b.Poll(clock.Now);
                if (server is null && listener.TryAccept(out var accepted)) server = accepted;
                if (server is not null && got < total) { int n = server.Receive(received.AsSpan(got)); if (n > 0) { got += n; worked = true; } }
                if (!worked) break;
            }
            clock.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.That(received, Is.EqualTo(data), "the bytes arrive unchanged");
        return received;
    }

    [Test]
    public void Large_segments_are_cut_at_the_mss_by_the_link_and_arrive_byte_exact()
    {
        var (a, b, link, clock) = Pair(passWhole: false);
        using (a) using (b)
        {
            Transfer(a, b, clock, 4 << 20);
            Assert.That(link.LargeSent, Is.GreaterThan(0), "the stack handed the link segments larger than the MTU");
            Assert.That(a.Statistics.TcpLargeSegmentsSent, Is.EqualTo(link.LargeSent));
            Assert.That(link.BadPartialChecksums, Is.Zero, "each large segment carries the folded pseudo-header sum over its whole TCP length");
            Assert.That(link.LargestPiecePayload, Is.EqualTo(1448), "pieces carry the MSS less the timestamp option");
            Assert.That(b.Statistics.Drops(Diagnostics.DropReason.TcpBadChecksum), Is.Zero);
        }
    }

    [Test]
    public void Large_segments_follow_a_smaller_peer_mss()
    {
        var (a, b, link, clock) = Pair(passWhole: false, mtuB: 1000);
        using (a) using (b)
        {
            Transfer(a, b, clock, 1 << 20);
            Assert.That(link.LargeSent, Is.GreaterThan(0));
            Assert.That(link.LargestPiecePayload, Is.EqualTo(1000 - 40 - 12), "the peer's MSS less the timestamp option");
        }
    }

    [Test]
    public void Whole_64_KB_segments_with_partial_checksums_are_accepted_by_a_peer_that_trusts_the_link()
    {
        var (a, b, link, clock) = Pair(passWhole: true);
        using (a) using (b)
        {
            Transfer(a, b, clock, 4 << 20);
            Assert.That(link.LargeSent, Is.GreaterThan(0));
            Assert.That(b.Statistics.TcpLargeSegmentsReceived, Is.EqualTo(link.LargeSent), "every large segment was taken whole");
            Assert.That(b.Statistics.Tcp.Errors, Is.Zero);
        }
    }

    [Test]
    public void A_link_that_refuses_a_large_segment_gets_it_cut_by_the_stack_instead([Values] bool ipv6)
    {
        var (a, b, link, clock) = Pair(passWhole: false, refuse: true, ipv6: ipv6);
        using (a) using (b)
        {
            Transfer(a, b, clock, 2 << 20);
            Assert.That(link.Refused, Is.GreaterThan(0));
            if (ipv6) Assert.That(b.Statistics.Ipv6.Received, Is.GreaterThan(1000), "the transfer went over IPv6");
            Assert.That(link.LargestFrame, Is.EqualTo(1514), "cut into MTU-sized frames");
            Assert.That(b.Statistics.Drops(Diagnostics.DropReason.TcpBadChecksum), Is.Zero, "with full checksums");
        }
    }

    [Test]
    public void A_small_tail_is_held_by_nagle_while_data_is_unacknowledged()
    {
        var (a, b, link, clock) = Pair(passWhole: false);
        using (a) using (b)
        {
            var listener = b.ListenTcp(5001);
            var client = a.ConnectTcp(AddressB, 5001);
            TcpConnection? server = null;
            for (int i = 0; i < 100 && server is null; i++)
            {
                a.Poll(clock.Now);
                b.Poll(clock.Now);
                listener.TryAccept(out server);
                clock.Advance(TimeSpan.FromMilliseconds(1));
            }
            Assert.That(server, Is.Not.Null);
            long sentBefore = a.Statistics.Tcp.Sent;
            client.Send(new byte[3 * 1448 + 500]);
            a.Poll(clock.Now);   // nothing outstanding: all of it, tail included, in one large segment
            client.Send(new byte[2 * 1448 + 300]);
            a.Poll(clock.Now);   // data outstanding: two whole segments; the 300-byte tail waits for the ACK
            Assert.That(link.LargePayloads, Is.EqualTo(new[] { 3 * 1448 + 500, 2 * 1448 }));
            Assert.That(a.Statistics.Tcp.Sent - sentBefore, Is.EqualTo(2), "nothing else left: the tail was held");
            Assert.That(server!.Available, Is.Zero);
            b.Poll(clock.Now);
            a.Poll(clock.Now);
            b.Poll(clock.Now);
            Assert.That(server.Available, Is.EqualTo(5 * 1448 + 800), "the tail followed the ACK");
        }
    }

    [Test]
    public void Without_the_capability_no_segment_exceeds_the_mtu()
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 1024);
        var clock = new ManualClock();
        using var stackA = new NetworkStack(a, new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = AddressA, PrefixLength = 24 }, new SeededRandomSource(1));
        using var stackB = new NetworkStack(b, new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = AddressB, PrefixLength = 24 }, new SeededRandomSource(2));
        Transfer(stackA, stackB, clock, 1 << 20);
        Assert.That(stackA.Statistics.TcpLargeSegmentsSent, Is.Zero);
        Assert.That(stackB.Statistics.TcpLargeSegmentsReceived, Is.Zero);
    }
    // RFC 3168 6.1.2 with a link that refuses large segments: the stack cuts them itself, keeping the ECN field on every
    // piece and CWR on the first piece of a large segment only (as Linux's GSO does), so there are exactly as many CWR
    // frames on the wire as CWRs sent; CE marks on the way make the receiver echo ECE and the sender reduce.
    [Test]
    public void A_large_segment_cut_in_software_keeps_ECT_on_every_piece_and_CWR_on_the_first([Values] bool ipv6)
    {
        var (a, b) = InMemoryLink.CreatePair(new LinkCapabilities(1500, 1514, false), queueFrames: 256);
        var marking = new CeMarkingLink(new OffloadLink(a, passWhole: false, refuse: true), every: 50);
        var clock = new ManualClock();
        TcpIpSharp.Net.Ipv6.Ipv6Options? V6(Ipv6Address address) => ipv6 ? new TcpIpSharp.Net.Ipv6.Ipv6Options { StaticAddresses = [(address, 64)], DupAddrDetectTransmits = 0, RouterSolicitations = 0 } : null;
        using var stackA = new NetworkStack(marking, new NetworkStackOptions
        {
            MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = AddressA, PrefixLength = 24, Ipv6 = V6(Address6A),
            Tcp = new TcpConnectionOptions { Ecn = TcpEcnMode.Request },
        }, new SeededRandomSource(1));
        using var stackB = new NetworkStack(b, new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = AddressB, PrefixLength = 24, Ipv6 = V6(Address6B) }, new SeededRandomSource(2));
        Transfer(stackA, stackB, clock, 4 << 20);
        var tcpA = stackA.Statistics.TcpDetail;
        long cwrSent = tcpA.All().Single(c => c.Name == "tcp.ecn_cwr_sent").Read(), reductions = tcpA.All().Single(c => c.Name == "tcp.ecn_reductions").Read();
        long ceReceived = stackB.Statistics.TcpDetail.All().Single(c => c.Name == "tcp.ecn_ce_received").Read();
        Assert.Multiple(() =>
        {
            Assert.That(stackA.Statistics.TcpLargeSegmentsSent, Is.Zero, "every large segment was cut by the stack");
            Assert.That(marking.DataFrames, Is.GreaterThan(2000), "wire-size pieces");
            Assert.That(marking.Marked, Is.GreaterThan(10));
            Assert.That(ceReceived, Is.EqualTo(marking.Marked), "every CE mark reached the receiver");
            Assert.That(reductions, Is.GreaterThan(0), "the sender reduced on ECE");
            Assert.That(cwrSent, Is.GreaterThan(0));
            Assert.That(marking.CwrFrames, Is.EqualTo(cwrSent), "one CWR frame per CWR sent: only the first piece of a cut segment keeps it");
            Assert.That(marking.NotEctDataFrames, Is.Zero, "every data piece kept ECT(0) (no loss here, so no retransmission)");
        });
    }
}
