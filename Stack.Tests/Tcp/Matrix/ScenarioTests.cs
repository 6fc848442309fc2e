using TcpIpSharp.Tests.Net;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp.Matrix;

/// <summary>
/// The issue's named scenarios that no script covered yet: an ACK for data never sent in SYN-RECEIVED, ESTABLISHED,
/// CLOSE-WAIT and LAST-ACK; zero-window probes backing off until the user timeout ends the connection; ICMP errors of
/// each kind reaching a UDP socket. (The others are covered elsewhere: see the TCP issue's report.)
/// </summary>
public class ScenarioTests
{
    public static IEnumerable<TestCaseData> AckForUnsentCases() => IpFamilies.OverBoth(AckForUnsentOneFamily());

    private static IEnumerable<TestCaseData> AckForUnsentOneFamily()
    {
        foreach (var state in new[] { TcpState.SynReceived, TcpState.Established, TcpState.CloseWait, TcpState.LastAck })
            foreach (uint beyond in new uint[] { 1, 1000, 0x4000_0000 })
                foreach (bool withData in new[] { false, true })
                    yield return new TestCaseData(state, beyond, withData).SetArgDisplayNames(state.ToString(), $"SND.NXT+{beyond}", withData ? "with-data" : "no-data");
    }

    /// <summary>
    /// SEG.ACK &gt; SND.NXT. SYN-RECEIVED (RFC 9293 3.10.7.4 fifth): "If the segment acknowledgment is not acceptable,
    /// form a reset segment &lt;SEQ=SEG.ACK&gt;&lt;CTL=RST&gt; and send it", the connection stays. Synchronized states
    /// (RFC 9293 3.10.7.4 fifth, RFC 5961 5.2): "If the ACK acks something not yet sent (SEG.ACK &gt; SND.NXT), then
    /// send an ACK, drop the segment, and return": the state does not change and no data is taken.
    /// </summary>
    [TestCaseSource(nameof(AckForUnsentCases))]
    public void Ack_for_data_never_sent(TcpState state, uint beyond, bool withData, IpFamily family)
    {
        using var peer = new RawPeer(StateMatrixTests.Options, family: family);
        var setup = StateMatrixTests.DriveWith(peer, state);
        var n = setup.Numbers;
        uint ack = n.SndNxt + beyond;
        peer.Send(withData ? TcpFlags.Psh | TcpFlags.Ack : TcpFlags.Ack, n.RcvNxt, ack, withData ? 10 : 0, localPort: setup.LocalPort);
        peer.Run(TimeSpan.FromMilliseconds(250));
        var replies = peer.Take();
        Assert.That(replies, Has.Count.EqualTo(1), string.Join("; ", replies));
        var r = replies[0];
        if (state == TcpState.SynReceived)
        {
            Assert.That((r.Flags, r.Seq), Is.EqualTo((TcpFlags.Rst, ack)), $"<SEQ=SEG.ACK><CTL=RST>: {r}");
        }
        else
        {
            Assert.That((r.Flags, r.Seq, r.Ack), Is.EqualTo((TcpFlags.Ack, n.SndNxt, n.RcvNxt)), $"<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>: {r}");
            Assert.That(setup.Connection!.Available, Is.Zero, "the segment is dropped: its data is not taken");
        }
        Assert.That(setup.Connection!.State, Is.EqualTo(state));
    }

    // ------------------------------------------------------------------ zero window, probes, user timeout

    /// <summary>
    /// The peer's window closes with data waiting: probes go after one RTO and then with exponential backoff (RFC 9293
    /// 3.8.6.1, RFC 1122 4.2.2.17). RFC 1122 says a connection whose probes are answered MUST NOT be closed for that
    /// alone, but RFC 6429 clarifies that a user timeout (RFC 5482, RFC 9293 3.8.3) still applies to a connection in
    /// persist: with UserTimeout 5 s the connection ends with ETIMEDOUT 5 s after the window closed, whether the peer
    /// answers every probe with a zero window or not at all (Linux: tcp_probe_timer), and without a reset (RFC 9293
    /// 3.10.8, as the other timeouts here).
    /// </summary>
    [Test]
    public void Zero_window_probes_back_off_until_the_user_timeout([Values(true, false)] bool peerAnswers, [Values] IpFamily family)
    {
        const uint irs = 9000;
        var options = new TcpConnectionOptions
        {
            UserTimeout = TimeSpan.FromSeconds(5),
            MinRetransmissionTimeout = TimeSpan.FromSeconds(1),
        };
        using var peer = new RawPeer(options, family: family);
        var c = peer.Stack.ConnectTcp(peer.PeerIp, 8080);
        peer.PollNow();
        var syn = peer.TakeOne("the SYN");
        ushort port = syn.SourcePort;
        peer.Run(TimeSpan.FromMilliseconds(10));
        peer.Send(TcpFlags.Syn | TcpFlags.Ack, irs, syn.Seq + 1, localPort: port, remotePort: 8080, options: [2, 4, 0x03, 0xe8]);
        peer.Take();
        Assert.That(c.Send(new byte[500]), Is.EqualTo(500));
        peer.PollNow();
        var data = peer.TakeOne("the data");
        peer.Run(TimeSpan.FromMilliseconds(10));
        // All acknowledged, and the window closes.
        peer.Send(TcpFlags.Ack, irs + 1, data.Seq + 500, window: 0, localPort: port, remotePort: 8080);
        Assert.That(c.Send(new byte[500]), Is.EqualTo(500));
        peer.PollNow();
        var closedAt = peer.Clock.Now;
        Assert.That(peer.Take(), Is.Empty, "nothing may go into a zero window");
        var probes = new List<TimeSpan>();
        bool done = peer.RunUntil(() =>
        {
            foreach (var s in peer.Take())
            {
                Assert.That(s.Length <= 1 && s.Flags.HasFlag(TcpFlags.Ack) && !s.Flags.HasFlag(TcpFlags.Rst), Is.True, $"a window probe, not {s}");
                probes.Add(s.At - closedAt);
                if (peerAnswers) peer.Send(TcpFlags.Ack, irs + 1, data.Seq + 500, window: 0, localPort: port, remotePort: 8080);
            }
            return c.State == TcpState.Closed;
        }, TimeSpan.FromSeconds(20));
        Assert.That(done, Is.True, $"still {c.State} 20 s after the window closed; probes at {string.Join(", ", probes.Select(p => p.TotalSeconds))} s");
        var endedAfter = peer.Clock.Now - closedAt;
        Assert.That(probes, Has.Count.GreaterThanOrEqualTo(2), "probes sent");
        for (int i = 1; i < probes.Count - 1; i++)
        {
            double before = (probes[i] - probes[i - 1]).TotalSeconds, after = (probes[i + 1] - probes[i]).TotalSeconds;
            Assert.That(after, Is.EqualTo(before * 2).Within(0.01), $"exponential backoff between probes: {string.Join(", ", probes.Select(p => p.TotalSeconds))} s");
        }
        Assert.That(probes[0].TotalSeconds, Is.EqualTo(1).Within(0.01), "the first probe after one RTO (1 s here)");
        Assert.That(endedAfter.TotalSeconds, Is.EqualTo(5).Within(0.01), "the user timeout ends the connection 5 s after the window closed");
        Assert.That(c.Error, Is.EqualTo(NetError.TimedOut));
        Assert.That(peer.Take(), Is.Empty, "no reset");
        Assert.That(peer.Stack.Tcp.Count, Is.Zero, "state freed");
    }

    // ------------------------------------------------------------------ ICMP errors reaching a UDP socket

    /// <summary>
    /// An ICMP error quoting a datagram a UDP socket sent is reported on that socket (RFC 1122 4.1.3.3: UDP MUST pass
    /// ICMP errors up to the application), with the errno Linux gives: port unreachable ECONNREFUSED, net unreachable
    /// ENETUNREACH, host unreachable and TTL exceeded EHOSTUNREACH; protocol unreachable some error. An error quoting a
    /// port no socket has is dropped.
    /// </summary>
    public static IEnumerable<TestCaseData> UdpIcmpCases() => IpFamilies.OverBoth(
    [
        new TestCaseData(IcmpType.DestinationUnreachable, (byte)3, NetError.ConnectionRefused),
        new TestCaseData(IcmpType.DestinationUnreachable, (byte)0, NetError.NetworkUnreachable),
        new TestCaseData(IcmpType.DestinationUnreachable, (byte)1, NetError.HostUnreachable),
        new TestCaseData(IcmpType.DestinationUnreachable, (byte)2, null),
        new TestCaseData(IcmpType.TimeExceeded, (byte)0, NetError.HostUnreachable),
    ]);

    /// <remarks>Over IPv6 each error goes as its ICMPv6 counterpart (Tcp/Scripts/README.md): the same errno follows.</remarks>
    [TestCaseSource(nameof(UdpIcmpCases))]
    public void Icmp_error_reaches_a_udp_socket(IcmpType type, byte code, NetError? expected, IpFamily family)
    {
        using var peer = new RawPeer(family: family);
        var endpoint = peer.Stack.OpenUdp(5555);
        var other = peer.Stack.OpenUdp(5556);
        Assert.That(endpoint.SendTo("hello"u8, peer.PeerIp, 53), Is.EqualTo(NetError.None));
        peer.PollNow();
        var (protocol, datagram) = peer.SentOther.Single();
        Assert.That(protocol, Is.EqualTo(IpProtocol.Udp));
        peer.SendIcmpError(type, code, IpProtocol.Udp, datagram);
        var error = endpoint.TakeError();
        if (expected is { } e) Assert.That(error, Is.EqualTo(e));
        else Assert.That(error, Is.Not.EqualTo(NetError.None));
        Assert.That(endpoint.TakeError(), Is.EqualTo(NetError.None), "reported once");
        Assert.That(other.TakeError(), Is.EqualTo(NetError.None), "only the socket that sent it");
        // Quoting a port nobody has: nothing happens.
        var stray = datagram.ToArray();
        stray[0] = 0x9c; stray[1] = 0x40;   // source port 40000
        peer.SendIcmpError(type, code, IpProtocol.Udp, stray);
        Assert.That(endpoint.TakeError(), Is.EqualTo(NetError.None));
    }
}
