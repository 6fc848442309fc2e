using TcpIpSharp.Tests.Net;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp.Matrix;

/// <summary>
/// SYN and SYN-ACK retransmission (count and exponential backoff, then ETIMEDOUT) over a grid of settings, and ICMP
/// errors of every kind in SYN-SENT and ESTABLISHED, with the quote inside and outside the sequence space.
/// </summary>
public class HandshakeFailureMatrixTests
{
    private const uint Irs = 77_000;

    // ------------------------------------------------------------------ SYN retransmission

    public static IEnumerable<TestCaseData> SynRetryCases() => IpFamilies.OverBoth(SynRetryOneFamily());

    private static IEnumerable<TestCaseData> SynRetryOneFamily()
    {
        foreach (bool passive in new[] { false, true })
            foreach (int retries in new[] { 0, 1, 3, 6 })
                foreach (int capSeconds in new[] { 120, 4 })
                    foreach (double initialSeconds in new[] { 1.0, 0.5 })
                        yield return new TestCaseData(passive, retries, initialSeconds, capSeconds)
                            .SetArgDisplayNames(passive ? "SYN-ACK" : "SYN", $"retries-{retries}", $"initial-{initialSeconds}s", $"cap-{capSeconds}s");
    }

    /// <summary>
    /// The times the oracle expects, from RFC 6298: the first retransmission after the initial RTO (2.1), each next
    /// one after twice the previous interval (5.5) but never more than the maximum RTO (2.5 allows a cap of at least
    /// 60 s; a smaller one is a setting here), and the give-up one interval after the last retransmission (RFC 9293
    /// 3.8.3's R2 for a SYN; the connection fails with ETIMEDOUT).
    /// </summary>
    internal static (double[] Retransmits, double GiveUp) SynSchedule(int retries, double initial, double cap)
    {
        var times = new List<double>();
        double t = 0, interval = initial;
        for (int i = 0; i < retries; i++)
        {
            t += interval;
            times.Add(t);
            interval = Math.Min(interval * 2, cap);
        }
        return ([.. times], t + interval);
    }

    [TestCaseSource(nameof(SynRetryCases))]
    public void Unanswered_handshake_backs_off_and_times_out(bool passive, int retries, double initialSeconds, int capSeconds, IpFamily family)
    {
        var options = new TcpConnectionOptions
        {
            MaxSynRetransmissions = retries,
            InitialRetransmissionTimeout = TimeSpan.FromSeconds(initialSeconds),
            MaxRetransmissionTimeout = TimeSpan.FromSeconds(capSeconds),
            MinRetransmissionTimeout = TimeSpan.FromMilliseconds(200),
        };
        using var peer = new RawPeer(options, family: family);
        TcpConnection? connection = null;
        if (passive)
        {
            peer.Stack.ListenTcp(8080);
            peer.Send(TcpFlags.Syn, Irs, 0, options: [2, 4, 0x05, 0xb4]);
            connection = peer.Find(8080);
        }
        else
        {
            connection = peer.Stack.ConnectTcp(peer.PeerIp, 8080);
            peer.PollNow();
        }
        Assert.That(connection, Is.Not.Null);
        var start = peer.Clock.Now;
        var (expected, giveUp) = SynSchedule(retries, initialSeconds, capSeconds);
        peer.RunUntil(() => connection!.State == TcpState.Closed, TimeSpan.FromSeconds(giveUp + 5));
        double closedAt = (peer.Clock.Now - start).TotalSeconds;
        var sent = peer.Take();
        var flags = passive ? TcpFlags.Syn | TcpFlags.Ack : TcpFlags.Syn;

        Assert.That(sent, Has.Count.EqualTo(retries + 1), $"the first {(passive ? "SYN-ACK" : "SYN")} and {retries} retransmissions: {string.Join("; ", sent)}");
        Assert.That(sent.All(s => s.Flags == flags && s.Seq == sent[0].Seq && s.Length == 0), Is.True, $"every one the same {flags}: {string.Join("; ", sent)}");
        if (passive) Assert.That(sent.All(s => s.Ack == Irs + 1), Is.True);
        for (int i = 0; i < retries; i++)
            Assert.That((sent[i + 1].At - start).TotalSeconds, Is.EqualTo(expected[i]).Within(0.002),
                $"retransmission {i + 1} at {expected[i]} s (RFC 6298 5.5 backoff, capped at {capSeconds} s)");
        Assert.That(closedAt, Is.EqualTo(giveUp).Within(0.002), "given up one backed-off interval after the last retransmission");
        Assert.That(connection!.State, Is.EqualTo(TcpState.Closed));
        // An active open reports ETIMEDOUT; a passive half-open connection just goes (nobody holds it yet).
        if (!passive) Assert.That(connection.Error, Is.EqualTo(NetError.TimedOut));
        Assert.That(peer.Stack.Tcp.Count, Is.Zero, "the connection's state is freed");
        Assert.That(peer.SentOther, Is.Empty);
    }

    // ------------------------------------------------------------------ ICMP errors

    public enum IcmpKind
    {
        NetUnreachable, HostUnreachable, ProtocolUnreachable, PortUnreachable, TtlExceeded,
    }

    private static (IcmpType Type, byte Code) Encode(IcmpKind kind) => kind switch
    {
        IcmpKind.NetUnreachable => (IcmpType.DestinationUnreachable, 0),
        IcmpKind.HostUnreachable => (IcmpType.DestinationUnreachable, 1),
        IcmpKind.ProtocolUnreachable => (IcmpType.DestinationUnreachable, 2),
        IcmpKind.PortUnreachable => (IcmpType.DestinationUnreachable, 3),
        _ => (IcmpType.TimeExceeded, 0),
    };

    public static IEnumerable<TestCaseData> IcmpCases() => IpFamilies.OverBoth(IcmpOneFamily());

    private static IEnumerable<TestCaseData> IcmpOneFamily()
    {
        foreach (var state in new[] { TcpState.SynSent, TcpState.Established })
            foreach (var kind in Enum.GetValues<IcmpKind>())
                foreach (bool validQuote in new[] { true, false })
                    yield return new TestCaseData(state, kind, validQuote)
                        .SetArgDisplayNames(state.ToString(), kind.ToString(), validQuote ? "quote-in-window" : "quote-outside");
    }

    /// <summary>
    /// The rule tested (RFC 1122 4.2.3.9, RFC 5461, RFC 5927 4.1):
    /// - An error whose quoted sequence number is not one we sent and is still unacknowledged (SND.UNA =&lt; SEG.SEQ &lt;
    ///   SND.NXT) is ignored (RFC 5927 4.1): it may be forged blind.
    /// - Protocol and port unreachable (codes 2, 3) are hard errors: in SYN-SENT the connect aborts (RFC 1122: "TCP
    ///   SHOULD abort"; there is nothing to lose, and sockets report ECONNREFUSED for the port).
    /// - Net and host unreachable (codes 0, 1) and TTL exceeded are soft errors: TCP "MUST NOT abort" (RFC 1122); the
    ///   SYN keeps being retransmitted, and if the connect finally times out it reports the soft error (RFC 1122: "SHOULD
    ///   make the information available"). Linux aborts SYN-SENT on these as well, which RFC 5461 section 4 notes
    ///   violates RFC 1122; we follow RFC 1122.
    /// - In ESTABLISHED every one of them is soft (RFC 5461: hard errors in synchronized states are treated as soft):
    ///   the connection stays up and carries on.
    /// </summary>
    [TestCaseSource(nameof(IcmpCases))]
    public void Icmp_error(TcpState state, IcmpKind kind, bool validQuote, IpFamily family)
    {
        var options = new TcpConnectionOptions { MaxSynRetransmissions = 2 };
        using var peer = new RawPeer(options, family: family);
        var connection = peer.Stack.ConnectTcp(peer.PeerIp, 8080);
        peer.PollNow();
        var syn = peer.TakeOne("the SYN");
        SentSegment quoted = syn;
        if (state == TcpState.Established)
        {
            peer.Run(TimeSpan.FromMilliseconds(10));
            peer.Send(TcpFlags.Syn | TcpFlags.Ack, Irs, syn.Seq + 1, localPort: syn.SourcePort, remotePort: 8080, options: [2, 4, 0x05, 0xb4]);
            peer.Take();
            Assert.That(connection.State, Is.EqualTo(TcpState.Established));
            connection.Send(new byte[100]);
            peer.PollNow();
            quoted = peer.TakeOne("the data");
        }
        var quote = RawPeer.QuoteOf(validQuote ? quoted : quoted with { Seq = quoted.Seq + 100_000 });
        var (type, code) = Encode(kind);
        peer.SendIcmpError(type, code, IpProtocol.Tcp, quote);

        bool hard = kind is IcmpKind.ProtocolUnreachable or IcmpKind.PortUnreachable;
        if (!validQuote || state == TcpState.Established)
        {
            Assert.That(connection.State, Is.EqualTo(state), "ignored (outside the sequence space) or soft (synchronized)");
            Assert.That(connection.Error, Is.EqualTo(NetError.None));
            if (state == TcpState.Established)
            {
                // The connection carries on: the peer acknowledges the data and the connection is still usable.
                peer.Send(TcpFlags.Ack, Irs + 1, quoted.Seq + 100, localPort: syn.SourcePort, remotePort: 8080);
                Assert.That(connection.Send(new byte[10]), Is.EqualTo(10));
                peer.PollNow();
                Assert.That(peer.Take().Any(s => s.Length == 10), Is.True, "still sending after the error");
            }
            else
            {
                // Ignored: a SYN-ACK still completes the connect.
                peer.Run(TimeSpan.FromMilliseconds(10));
                peer.Send(TcpFlags.Syn | TcpFlags.Ack, Irs, syn.Seq + 1, localPort: syn.SourcePort, remotePort: 8080);
                Assert.That(connection.State, Is.EqualTo(TcpState.Established));
            }
            return;
        }
        if (hard)
        {
            Assert.That(connection.State, Is.EqualTo(TcpState.Closed), "a hard error aborts the connect (RFC 1122 4.2.3.9)");
            Assert.That(connection.Error, Is.EqualTo(NetError.ConnectionRefused));
            Assert.That(peer.Stack.Tcp.Count, Is.Zero);
            peer.Run(TimeSpan.FromSeconds(2));
            Assert.That(peer.Take(), Is.Empty, "no reset or retransmission after the abort");
            return;
        }
        // Soft in SYN-SENT: MUST NOT abort; the SYN is retransmitted; the eventual timeout names the soft error.
        Assert.That(connection.State, Is.EqualTo(TcpState.SynSent), "a soft error MUST NOT abort (RFC 1122 4.2.3.9)");
        peer.RunUntil(() => connection.State == TcpState.Closed, TimeSpan.FromSeconds(10));
        Assert.That(peer.Take().Count(s => s.Flags == TcpFlags.Syn), Is.EqualTo(2), "the SYN retransmitted as usual");
        Assert.That(connection.State, Is.EqualTo(TcpState.Closed));
        Assert.That(connection.Error, Is.EqualTo(kind == IcmpKind.NetUnreachable ? NetError.NetworkUnreachable : NetError.HostUnreachable),
            "the timeout reports the soft error (RFC 1122 4.2.3.9: make it available to the application)");
    }
}
