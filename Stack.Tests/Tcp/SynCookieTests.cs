using TcpIpSharp.Tests.Net;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>RFC 4987 SYN cookies: a listener whose SYN queue is full still completes handshakes, keeping MSS, window scale and SACK.</summary>
public class SynCookieTests
{
    private static byte[] Segment(ushort srcPort, uint seq, uint ack, TcpFlags flags, TcpOptions options = default, byte[]? payload = null)
    {
        payload ??= [];
        var header = new TcpHeader(srcPort, 80, seq, ack, flags, 65535, 0, options);
        var tcp = new byte[header.Length + payload.Length];
        header.WriteTo(tcp);
        payload.CopyTo(tcp, header.Length);
        TcpHeader.FillChecksum(tcp, Frames.PeerIp, Frames.StackIp);
        return Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Tcp, tcp);
    }

    private static TcpHeader Parse(byte[] frame)
    {
        EthernetFrame.TryParse(frame, out var eth);
        Ipv4Packet.TryParse(eth.Payload, out var ip);
        Assert.That(TcpSegment.TryParse(ip.Payload, out var seg), Is.EqualTo(WireError.None));
        return TcpHeader.From(seg);
    }

    [Test]
    public void A_cookie_timestamp_is_never_ahead_of_the_clock_the_connection_later_sends()
    {
        // The option bits ride in the low 6 bits of the cookie's TSval; at a multiple of 64 ms they would put it up
        // to 63 ms in the future, and the peer's PAWS check (RFC 7323 5.3) would drop the connection's first segments.
        using var h = new StackHarness(new NetworkStackOptions { MacAddress = Frames.StackMac, Address = Frames.StackIp, TcpSynQueue = 1 });
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        h.Stack.ListenTcp(80, backlog: 1);
        var synOptions = new TcpOptions { MaximumSegmentSize = 1460, WindowScale = 7, SackPermitted = true, Timestamp = new TcpTimestamp(1000, 0) };
        long target = ((long)h.Clock.Now.TotalMilliseconds / 64 + 1) * 64;   // a multiple of 64 ms
        h.Clock.Advance(TimeSpan.FromMilliseconds(target) - h.Clock.Now);
        h.Inject(Segment(40000, 100, 0, TcpFlags.Syn, synOptions));           // fills the SYN queue
        h.Drain();
        h.Inject(Segment(40001, 5000, 0, TcpFlags.Syn, synOptions));          // answered with a cookie
        var cookieSynAck = Parse(h.Drain().Single());
        Assert.That(cookieSynAck.Options.Timestamp!.Value.Value, Is.LessThanOrEqualTo((uint)target));
        Assert.That(cookieSynAck.Options.WindowScale, Is.Not.Null, "the bits still decode");
    }

    [Test]
    public void A_full_syn_queue_answers_with_cookies_and_a_valid_ack_makes_an_established_connection()
    {
        using var h = new StackHarness(new NetworkStackOptions
        {
            MacAddress = Frames.StackMac, Address = Frames.StackIp, TcpSynQueue = 1,
        });
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        var listener = h.Stack.ListenTcp(80, backlog: 1);
        var synOptions = new TcpOptions { MaximumSegmentSize = 1460, WindowScale = 7, SackPermitted = true, Timestamp = new TcpTimestamp(1000, 0) };

        h.Inject(Segment(40000, 100, 0, TcpFlags.Syn, synOptions));           // fills the SYN queue (never completed)
        var first = Parse(h.Drain().Single());
        Assert.That(first.Flags, Is.EqualTo(TcpFlags.Syn | TcpFlags.Ack));
        Assert.That(listener.HalfOpen, Is.EqualTo(1));

        h.Inject(Segment(40001, 5000, 0, TcpFlags.Syn, synOptions));          // queue full: a cookie
        var cookieSynAck = Parse(h.Drain().Single());
        using (Assert.EnterMultipleScope())
        {
            Assert.That(cookieSynAck.Flags, Is.EqualTo(TcpFlags.Syn | TcpFlags.Ack));
            Assert.That(cookieSynAck.AcknowledgmentNumber, Is.EqualTo(5001u));
            Assert.That(cookieSynAck.Options.WindowScale, Is.Not.Null, "window scale kept through the timestamp");
            Assert.That(cookieSynAck.Options.SackPermitted, Is.True);
            Assert.That(listener.HalfOpen, Is.EqualTo(1), "no state kept for the cookie");
            Assert.That(h.Stack.Statistics.TcpDetail.All().First(c => c.Name == "tcp.syn_cookies_sent").Read(), Is.EqualTo(1));
        }

        // The ACK returns the cookie, echoes the timestamp, and carries a request.
        var ackOptions = new TcpOptions { Timestamp = new TcpTimestamp(1001, cookieSynAck.Options.Timestamp!.Value.Value) };
        h.Inject(Segment(40001, 5001, cookieSynAck.SequenceNumber + 1, TcpFlags.Ack | TcpFlags.Psh, ackOptions, "hello"u8.ToArray()));
        Assert.That(listener.TryAccept(out var connection), Is.True);
        var buffer = new byte[16];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(connection.State, Is.EqualTo(TcpState.Established));
            Assert.That(connection.MaximumSegmentSize, Is.EqualTo(1460));
            Assert.That(connection.Receive(buffer), Is.EqualTo(5));
            Assert.That(buffer[..5], Is.EqualTo("hello"u8.ToArray()));
        }

        // A forged ACK to the listener (wrong cookie) gets a reset, not a connection.
        h.Drain();
        h.Inject(Segment(40002, 7001, 12345, TcpFlags.Ack));
        var reset = h.Drain().Select(Parse).Single(t => t.DestinationPort == 40002);
        Assert.That(reset.Flags, Is.EqualTo(TcpFlags.Rst));
        Assert.That(reset.SequenceNumber, Is.EqualTo(12345u), "RFC 9293 3.10.7.2: <SEQ=SEG.ACK><CTL=RST>");
        Assert.That(listener.TryAccept(out _), Is.False);
    }
}
