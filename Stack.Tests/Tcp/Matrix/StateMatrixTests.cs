using TcpIpSharp.Tests.Net;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp.Matrix;

/// <summary>The kind of segment the peer sends into a state.</summary>
public enum SegmentKind
{
    /// <summary><c>RST,ACK</c> with ACK = SND.NXT.</summary>
    Rst,
    /// <summary>A bare <c>SYN</c> (no ACK bit).</summary>
    Syn,
    /// <summary><c>FIN,ACK</c> with ACK = SND.NXT, no data.</summary>
    Fin,
    /// <summary>A pure <c>ACK</c> with ACK = SND.NXT.</summary>
    Ack,
    /// <summary><c>PSH,ACK</c> with 10 bytes of data and ACK = SND.NXT.</summary>
    Data,
}

/// <summary>Where the segment's sequence number falls against the stack's receive window [RCV.NXT, RCV.NXT + RCV.WND).</summary>
public enum WindowPosition
{
    /// <summary>Wholly left of RCV.NXT: SEG.SEQ = RCV.NXT - max(SEG.LEN, 1) (an old duplicate).</summary>
    LeftOf,
    /// <summary>SEG.SEQ = RCV.NXT.</summary>
    LeftEdge,
    /// <summary>SEG.SEQ = RCV.NXT + 100.</summary>
    Inside,
    /// <summary>SEG.SEQ = RCV.NXT + RCV.WND - 1, the last sequence number in the window.</summary>
    RightEdge,
    /// <summary>SEG.SEQ = RCV.NXT + RCV.WND, the first one beyond it.</summary>
    RightOf,
}

/// <summary>
/// Every TCP state (RFC 9293 3.3.2, all eleven) x every incoming segment kind x where its sequence number falls, each
/// checked against <see cref="Oracle"/>: the reply segment(s) the RFCs require and the state that results. Each state
/// is reached by driving a real connection with raw segments from <see cref="RawPeer"/> in virtual time. The oracle is
/// written from RFC 9293 3.10.7 (with RFC 5961, RFC 1337 and RFC 1122 where they amend it), never from the stack.
/// </summary>
public class StateMatrixTests
{
    private const uint Irs = 1_000_000;        // the peer's ISN
    private const ushort Window = 4000;        // the stack's receive buffer, hence RCV.WND (no window scaling)
    private const int DataLength = 10;
    private static readonly TimeSpan Immediate = TimeSpan.FromMilliseconds(10);
    // RFC 9293 3.8.6.3 / RFC 1122 4.2.3.2: an ACK may be delayed, by less than 0.5 s; the issue bounds it at 200 ms.
    private static readonly TimeSpan Delayed = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Watch = TimeSpan.FromMilliseconds(250);

    private static readonly TcpState[] States =
    [
        TcpState.Closed, TcpState.Listen, TcpState.SynSent, TcpState.SynReceived, TcpState.Established, TcpState.FinWait1,
        TcpState.FinWait2, TcpState.CloseWait, TcpState.Closing, TcpState.LastAck, TcpState.TimeWait,
    ];

    public static IEnumerable<TestCaseData> Cases() => IpFamilies.OverBoth(OneFamily());

    private static IEnumerable<TestCaseData> OneFamily()
    {
        foreach (var state in States)
            foreach (var kind in Enum.GetValues<SegmentKind>())
                foreach (var position in Enum.GetValues<WindowPosition>())
                    yield return new TestCaseData(state, kind, position).SetArgDisplayNames(state.ToString(), kind.ToString(), position.ToString());
    }

    [Test]
    public void The_matrix_covers_every_state_kind_and_position() => Assert.That(Cases().Count(), Is.EqualTo(11 * 5 * 5 * 2), "every state, kind and position, over IPv4 and IPv6");

    // ------------------------------------------------------------------ the oracle

    /// <summary>The numbers of the connection when the probe arrives, learned while driving it there.</summary>
    /// <param name="RcvNxt">The stack's RCV.NXT (for CLOSED, LISTEN and SYN-SENT, where there is none, a notional value).</param>
    /// <param name="SndNxt">The stack's SND.NXT, which the probe's ACK field carries.</param>
    /// <param name="Iss">The stack's ISS (null when it has none).</param>
    /// <param name="PassiveOpen">Whether the connection came from a listener.</param>
    internal sealed record Numbers(uint RcvNxt, uint SndNxt, uint? Iss, bool PassiveOpen);

    /// <summary>A reply the stack must send: flags exactly, SEQ and ACK when not null, SEG.LEN, and how soon.</summary>
    internal sealed record Reply(TcpFlags Flags, uint? Seq, uint? Ack, TimeSpan Within, int Length = 0)
    {
        public override string ToString() => $"{Flags} seq {Seq?.ToString() ?? "*"} ack {Ack?.ToString() ?? "*"} len {Length} within {Within.TotalMilliseconds} ms";
    }

    /// <summary>One acceptable outcome: these replies in order and nothing else, then this state (and error when not null).</summary>
    internal sealed record Outcome(string Rule, Reply[] Replies, TcpState State, NetError? Error = null, int Readable = 0)
    {
        public override string ToString() => $"[{Rule}] replies: {(Replies.Length == 0 ? "none" : string.Join(", ", Replies))}; then {State}{(Error is { } e ? $" ({e})" : "")}, {Readable} bytes readable";
    }

    internal static int SegmentLength(SegmentKind kind) => kind switch
    {
        SegmentKind.Syn or SegmentKind.Fin => 1,
        SegmentKind.Data => DataLength,
        _ => 0,
    };

    internal static uint SequenceFor(WindowPosition position, SegmentKind kind, uint rcvNxt) => position switch
    {
        WindowPosition.LeftOf => rcvNxt - (uint)Math.Max(SegmentLength(kind), 1),
        WindowPosition.LeftEdge => rcvNxt,
        WindowPosition.Inside => rcvNxt + 100,
        WindowPosition.RightEdge => rcvNxt + Window - 1,
        _ => rcvNxt + Window,
    };

    /// <summary>
    /// What RFC 9293 3.10.7 (as amended by RFC 5961, RFC 1337 and RFC 1122 4.2.2.13) requires when a segment of
    /// <paramref name="kind"/> at <paramref name="position"/> arrives in <paramref name="state"/>. Usually one outcome;
    /// several only where the RFCs truly allow each (the rule names both).
    /// </summary>
    internal static Outcome[] Oracle(TcpState state, SegmentKind kind, WindowPosition position, Numbers n)
    {
        uint seq = SequenceFor(position, kind, n.RcvNxt);
        int length = SegmentLength(kind);
        uint segAck = n.SndNxt;                                  // every probe with the ACK bit acknowledges SND.NXT
        bool hasAck = kind != SegmentKind.Syn;
        Reply Ack(uint ack, TimeSpan within) => new(TcpFlags.Ack, n.SndNxt, ack, within);
        Reply AckNow() => Ack(n.RcvNxt, Immediate);             // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
        Outcome One(string rule, TcpState then, NetError? error = null, params Reply[] replies) => new(rule, replies, then, error);

        switch (state)
        {
            case TcpState.Closed:
                // 3.10.7.1: an incoming RST is discarded; an ACK gets <SEQ=SEG.ACK><CTL=RST>; otherwise
                // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
                if (kind == SegmentKind.Rst) return [One("9293 3.10.7.1: RST in CLOSED is discarded", TcpState.Closed)];
                return hasAck
                    ? [One("9293 3.10.7.1: ACK in CLOSED -> <SEQ=SEG.ACK><CTL=RST>", TcpState.Closed, null, new Reply(TcpFlags.Rst, segAck, null, Immediate))]
                    : [One("9293 3.10.7.1: no ACK in CLOSED -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>", TcpState.Closed, null,
                        new Reply(TcpFlags.Rst | TcpFlags.Ack, 0, seq + (uint)length, Immediate))];

            case TcpState.Listen:
                // 3.10.7.2: first RST (ignore), second ACK (<SEQ=SEG.ACK><CTL=RST>), third SYN (SYN-ACK, SYN-RECEIVED).
                if (kind == SegmentKind.Rst) return [One("9293 3.10.7.2 first: RST in LISTEN is ignored", TcpState.Listen)];
                if (hasAck) return [One("9293 3.10.7.2 second: ACK in LISTEN -> <SEQ=SEG.ACK><CTL=RST>", TcpState.Listen, null, new Reply(TcpFlags.Rst, segAck, null, Immediate))];
                return [One("9293 3.10.7.2 third: SYN in LISTEN -> <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SYN-RECEIVED", TcpState.SynReceived, null,
                    new Reply(TcpFlags.Syn | TcpFlags.Ack, null, seq + 1, Immediate))];

            case TcpState.SynSent:
                // 3.10.7.3: the sequence number is not checked (there is no IRS yet); every probe's ACK is acceptable
                // (ISS < SEG.ACK =< SND.NXT). Second: RST with an acceptable ACK resets (sockets report ECONNREFUSED);
                // fourth: a SYN without ACK is a simultaneous open (SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>);
                // fifth: neither SYN nor RST: drop.
                return kind switch
                {
                    SegmentKind.Rst => [One("9293 3.10.7.3 second: RST with an acceptable ACK -> CLOSED, connection refused", TcpState.Closed, NetError.ConnectionRefused)],
                    SegmentKind.Syn => [One("9293 3.10.7.3 fourth: SYN without ACK -> SYN-RECEIVED, SYN-ACK", TcpState.SynReceived, null,
                        new Reply(TcpFlags.Syn | TcpFlags.Ack, n.Iss, seq + 1, Immediate))],
                    _ => [One("9293 3.10.7.3 fifth: neither SYN nor RST -> drop", TcpState.SynSent)],
                };
        }

        // Synchronized states and SYN-RECEIVED: 3.10.7.4.
        bool acceptable = length == 0
            ? InWindow(seq, n.RcvNxt, Window)
            : InWindow(seq, n.RcvNxt, Window) || InWindow(seq + (uint)length - 1, n.RcvNxt, Window);
        bool newerThanRcvNxt = (int)(seq - n.RcvNxt) > 0;

        // RFC 1122 4.2.2.13 / RFC 6191: a SYN for a TIME-WAIT connection whose sequence number is above the old
        // RCV.NXT MAY end TIME-WAIT and start a new connection (a SYN-ACK, SYN-RECEIVED); RFC 5961 4 answers it
        // with a challenge ACK instead. Both are allowed.
        Outcome? reopen = state == TcpState.TimeWait && kind == SegmentKind.Syn && newerThanRcvNxt
            ? One("1122 4.2.2.13 / 6191: a newer SYN MAY reopen from TIME-WAIT", TcpState.SynReceived, null, new Reply(TcpFlags.Syn | TcpFlags.Ack, null, seq + 1, Immediate))
            : null;

        // First: the sequence number.
        if (!acceptable)
        {
            if (kind == SegmentKind.Rst) return [One("9293 3.10.7.4 first / 5961 3.2: a RST outside the window is dropped silently", state)];
            var dropped = One("9293 3.10.7.4 first: an unacceptable segment gets <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and is dropped", state, null, AckNow());
            return reopen is null ? [dropped] : [dropped, reopen];
        }

        // Second: RST (RFC 5961 3.2: only exactly at RCV.NXT; elsewhere in the window a challenge ACK).
        if (kind == SegmentKind.Rst)
        {
            if (seq != n.RcvNxt)
            {
                var challenge = One("5961 3.2: an in-window RST not at RCV.NXT draws a challenge ACK", state, null, AckNow());
                // RFC 1337 F1: a TIME-WAIT connection ignores RSTs altogether; it is also allowed here.
                return state == TcpState.TimeWait ? [challenge, One("1337 F1: RST in TIME-WAIT ignored", state)] : [challenge];
            }
            return state switch
            {
                TcpState.SynReceived when n.PassiveOpen => [One("9293 3.10.7.4 second: RST in SYN-RECEIVED of a passive open -> back to LISTEN (the connection goes)", TcpState.Closed)],
                TcpState.SynReceived => [One("9293 3.10.7.4 second: RST in SYN-RECEIVED of an active open -> connection refused", TcpState.Closed, NetError.ConnectionRefused)],
                TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.CloseWait =>
                    [One("9293 3.10.7.4 second: RST -> CLOSED, 'connection reset'", TcpState.Closed, NetError.ConnectionReset)],
                TcpState.Closing or TcpState.LastAck => [One("9293 3.10.7.4 second: RST in CLOSING/LAST-ACK -> CLOSED", TcpState.Closed)],
                _ => [One("1337 F1 (the issue asks for it): RST in TIME-WAIT is ignored", TcpState.TimeWait)],
            };
        }

        // Fourth: SYN. RFC 5961 4.2 (RFC 9293 3.10.7.4 fourth): a challenge ACK, whatever the sequence number.
        if (kind == SegmentKind.Syn)
        {
            var challenge = One("5961 4.2: SYN in a synchronized state draws a challenge ACK", state, null, AckNow());
            if (state == TcpState.SynReceived && n.PassiveOpen)
                // RFC 9293 3.10.7.4 fourth: "If the connection was initiated with a passive OPEN, then return this
                // connection to the LISTEN state" (silently); RFC 5961 4.2's challenge ACK is allowed as well.
                return [challenge, One("9293 3.10.7.4 fourth: SYN in SYN-RECEIVED of a passive open -> back to LISTEN", TcpState.Closed)];
            return reopen is null ? [challenge] : [challenge, reopen];
        }

        // Fifth: the ACK field (SEG.ACK = SND.NXT: acceptable everywhere, and it acknowledges our FIN where one was sent).
        var after = state switch
        {
            TcpState.SynReceived => TcpState.Established,        // "enter ESTABLISHED and continue processing"
            TcpState.FinWait1 => TcpState.FinWait2,             // "if the FIN segment is now acknowledged, enter FIN-WAIT-2"
            TcpState.Closing => TcpState.TimeWait,              // "if the ACK acknowledges our FIN, enter TIME-WAIT"
            TcpState.LastAck => TcpState.Closed,                // "if our FIN is now acknowledged, delete the TCB ... and return"
            _ => state,
        };
        if (state == TcpState.LastAck) return [One("9293 3.10.7.4 fifth: LAST-ACK, our FIN acknowledged -> CLOSED", TcpState.Closed)];
        // TIME-WAIT: "The only thing that can arrive in this state is a retransmission of the remote FIN. Acknowledge
        // it, and restart the 2 MSL timeout." Text and a FIN are then ignored (seventh, eighth). A bare ACK is not what
        // that sentence is about, and answering it would make two TIME-WAIT ends of a simultaneous close ACK each other
        // forever: it gets no reply (Linux's tcp_timewait_state_process is silent too).
        if (state == TcpState.TimeWait)
            return kind == SegmentKind.Ack
                ? [One("9293 3.10.7.4 fifth: a bare ACK in TIME-WAIT is not answered (no ACK loop)", TcpState.TimeWait)]
                : [One("9293 3.10.7.4 fifth: TIME-WAIT acknowledges what arrives", TcpState.TimeWait, null, AckNow())];
        bool finReceived = state is TcpState.CloseWait or TcpState.Closing;

        if (kind == SegmentKind.Ack) return [One("9293 3.10.7.4 fifth: a pure ACK updates SND.UNA and needs no reply", after)];

        if (kind == SegmentKind.Data)
        {
            // Seventh: text only in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2; after a FIN "this should not occur ... ignore".
            if (finReceived) return [One("9293 3.10.7.4 seventh: text after the peer's FIN is ignored", after)];
            if (seq == n.RcvNxt)
                return [One("9293 3.10.7.4 seventh + 3.8.6.3: in-order text is taken and acknowledged, perhaps delayed", after, null,
                    Ack(n.RcvNxt + DataLength, Delayed)) with { Readable = DataLength }];
            return [One("9293 3.10.7.4 seventh + 5681 4.2: out-of-order text is queued and draws an immediate duplicate ACK", after, null, AckNow())];
        }

        // Eighth: FIN.
        if (finReceived)
            // A second FIN at a new sequence number after the peer's FIN: RFC 9293's eighth step ("advance RCV.NXT over the
            // FIN, and send an acknowledgment for the FIN", state unchanged) is written for the first FIN; ignoring the
            // impossible second one, or acknowledging it, are both within the text.
            return
            [
                One("9293 3.10.7.4 eighth: a second FIN after the peer's FIN ignored", after),
                One("9293 3.10.7.4 eighth: a second FIN acknowledged (ACK = RCV.NXT)", after, null, AckNow()),
                One("9293 3.10.7.4 eighth: a second FIN acknowledged (ACK = SEG.SEQ + 1)", after, null, Ack(seq + 1, Immediate)),
            ];
        if (seq == n.RcvNxt)
        {
            var closed = after switch
            {
                TcpState.Established => TcpState.CloseWait,
                TcpState.FinWait2 => TcpState.TimeWait,         // FIN-WAIT-1 with our FIN acknowledged too -> TIME-WAIT
                _ => after,
            };
            return [One("9293 3.10.7.4 eighth: FIN at RCV.NXT is taken and acknowledged", closed, null, Ack(n.RcvNxt + 1, Immediate))];
        }
        // A FIN beyond RCV.NXT cannot be processed yet (eighth: only in sequence); it is an out-of-order segment, which
        // RFC 5681 4.2 says draws an immediate duplicate ACK (as Linux does), so the peer learns of the hole before it.
        return [One("9293 3.10.7.4 eighth + 5681 4.2: a FIN beyond RCV.NXT is held and draws an immediate duplicate ACK", after, null, AckNow())];
    }

    private static bool InWindow(uint value, uint left, uint size) => size != 0 && value - left < size;

    // ------------------------------------------------------------------ driving a connection into each state

    internal sealed class Setup(RawPeer peer, Numbers numbers, ushort localPort, TcpConnection? connection)
    {
        public RawPeer Peer { get; } = peer;
        public Numbers Numbers { get; } = numbers;
        public ushort LocalPort { get; } = localPort;
        public TcpConnection? Connection { get; } = connection;
    }

    private static readonly byte[] MssOption = [2, 4, 0x03, 0xe8];   // MSS 1000

    internal static TcpConnectionOptions Options => new()
    {
        ReceiveBufferSize = Window,
        // RTO at least 1 s: no retransmission (of a SYN, SYN-ACK or FIN) falls into the 250 ms watched after a probe.
        MinRetransmissionTimeout = TimeSpan.FromSeconds(1),
    };

    internal static Setup DriveWith(RawPeer peer, TcpState target)
    {
        const ushort port = 8080;
        if (target == TcpState.Listen)
        {
            peer.Stack.ListenTcp(port);
            return new Setup(peer, new Numbers(Irs, 5000, null, true), port, null);
        }
        if (target is TcpState.SynSent or TcpState.Closed)
        {
            var c = peer.Stack.ConnectTcp(peer.PeerIp, port);
            peer.PollNow();
            var syn = peer.TakeOne("the SYN");
            Expect(syn.Flags == TcpFlags.Syn, $"a SYN, got {syn}");
            uint iss = syn.Seq;
            if (target == TcpState.SynSent) return Checked(new Setup(peer, new Numbers(Irs, iss + 1, iss, false), syn.SourcePort, c), target);
            peer.Run(TimeSpan.FromMilliseconds(5));
            peer.Send(TcpFlags.Syn | TcpFlags.Ack, Irs, iss + 1, localPort: syn.SourcePort, remotePort: port, options: MssOption);
            var ack = peer.TakeOne("the handshake's ACK");
            Expect(ack.Flags == TcpFlags.Ack && ack.Ack == Irs + 1 && c.State == TcpState.Established, $"established, got {ack} in {c.State}");
            c.Abort();
            peer.PollNow();
            var rst = peer.TakeOne("abort's RST");
            Expect(rst.Flags.HasFlag(TcpFlags.Rst) && peer.Stack.Tcp.Count == 0, $"a RST and no connection left, got {rst}");
            return Checked(new Setup(peer, new Numbers(Irs + 1, iss + 1, iss, false), syn.SourcePort, c), target);
        }

        // Passive open: LISTEN, then the peer's SYN.
        var listener = peer.Stack.ListenTcp(port);
        peer.Send(TcpFlags.Syn, Irs, 0, options: MssOption);
        var synAck = peer.TakeOne("the SYN-ACK");
        Expect(synAck.Flags == (TcpFlags.Syn | TcpFlags.Ack) && synAck.Ack == Irs + 1 && synAck.Window == Window, $"SYN-ACK win {Window}, got {synAck}");
        uint s = synAck.Seq;
        var conn = peer.Find(port) ?? throw new InvalidOperationException("no connection after the SYN");
        if (target == TcpState.SynReceived) return Checked(new Setup(peer, new Numbers(Irs + 1, s + 1, s, true), port, conn), target);

        peer.Run(TimeSpan.FromMilliseconds(10));
        peer.Send(TcpFlags.Ack, Irs + 1, s + 1);
        Expect(listener.TryAccept(out var accepted) && accepted == conn, "accept the connection");
        var numbers = new Numbers(Irs + 1, s + 1, s, true);
        switch (target)
        {
            case TcpState.Established:
                break;
            case TcpState.FinWait1: case TcpState.FinWait2: case TcpState.Closing: case TcpState.TimeWait:
                conn.Shutdown();   // half-close (SHUT_WR), so that data can still be taken in FIN-WAIT-1/2
                peer.PollNow();
                var fin = peer.TakeOne("our FIN");
                Expect(fin.Flags == (TcpFlags.Fin | TcpFlags.Ack) && fin.Seq == s + 1, $"FIN at {s + 1}, got {fin}");
                numbers = numbers with { SndNxt = s + 2 };
                if (target == TcpState.FinWait2) peer.Send(TcpFlags.Ack, Irs + 1, s + 2);
                if (target is TcpState.Closing or TcpState.TimeWait)
                {
                    // CLOSING: the peer's FIN does not acknowledge ours; TIME-WAIT: it does.
                    peer.Send(TcpFlags.Fin | TcpFlags.Ack, Irs + 1, target == TcpState.Closing ? s + 1 : s + 2);
                    var finAck = peer.TakeOne("the ACK of the peer's FIN");
                    Expect(finAck.Ack == Irs + 2, $"ACK of the FIN, got {finAck}");
                    numbers = numbers with { RcvNxt = Irs + 2 };
                }
                break;
            case TcpState.CloseWait: case TcpState.LastAck:
                peer.Send(TcpFlags.Fin | TcpFlags.Ack, Irs + 1, s + 1);
                var ackOfFin = peer.TakeOne("the ACK of the peer's FIN");
                Expect(ackOfFin.Ack == Irs + 2, $"ACK of the FIN, got {ackOfFin}");
                numbers = numbers with { RcvNxt = Irs + 2 };
                if (target == TcpState.LastAck)
                {
                    conn.Close();
                    peer.PollNow();
                    var lastFin = peer.TakeOne("our FIN");
                    Expect(lastFin.Flags == (TcpFlags.Fin | TcpFlags.Ack) && lastFin.Seq == s + 1, $"FIN at {s + 1}, got {lastFin}");
                    numbers = numbers with { SndNxt = s + 2 };
                }
                break;
        }
        return Checked(new Setup(peer, numbers, port, conn), target);
    }

    private static Setup Checked(Setup setup, TcpState target)
    {
        var state = StateOf(setup);
        Expect(state == target, $"driving the connection to {target} ended in {state}");
        Expect(setup.Peer.Sent.Count == 0, $"unexpected segments while driving to {target}: {string.Join("; ", setup.Peer.Sent)}");
        return setup;
    }

    private static TcpState StateOf(Setup setup)
        => ResultingState(setup.Peer, setup, setup.Numbers.PassiveOpen ? RawPeer.PeerPort : (ushort)8080);

    private static void Expect(bool condition, string what)
    {
        if (!condition) throw new InvalidOperationException("setup: " + what);
    }

    // ------------------------------------------------------------------ the test

    [TestCaseSource(nameof(Cases))]
    public void Segment_in_state(TcpState state, SegmentKind kind, WindowPosition position, IpFamily family)
    {
        using var peer = new RawPeer(Options, family: family);
        var setup = DriveWith(peer, state);
        var n = setup.Numbers;
        var outcomes = Oracle(state, kind, position, n);
        uint seq = SequenceFor(position, kind, n.RcvNxt);
        var flags = kind switch
        {
            SegmentKind.Rst => TcpFlags.Rst | TcpFlags.Ack,
            SegmentKind.Syn => TcpFlags.Syn,
            SegmentKind.Fin => TcpFlags.Fin | TcpFlags.Ack,
            SegmentKind.Ack => TcpFlags.Ack,
            _ => TcpFlags.Psh | TcpFlags.Ack,
        };
        ushort remotePort = n.PassiveOpen ? RawPeer.PeerPort : (ushort)8080;
        var sentAt = peer.Clock.Now;
        peer.Send(flags, seq, kind == SegmentKind.Syn ? 0 : n.SndNxt, kind == SegmentKind.Data ? DataLength : 0,
            localPort: setup.LocalPort, remotePort: remotePort);
        peer.Run(Watch);
        var replies = peer.Take();
        var after = ResultingState(peer, setup, remotePort);
        var error = setup.Connection?.Error;
        int readable = setup.Connection?.Available ?? 0;

        var failures = new List<string>();
        foreach (var o in outcomes)
        {
            string? why = Mismatch(o, replies, sentAt, after, error) ?? (readable == o.Readable ? null : $"{readable} bytes readable, expected {o.Readable}");
            if (why is null)
            {
                TestContext.Out.WriteLine($"matched [{o.Rule}]{(outcomes.Length > 1 ? $" (one of {outcomes.Length} allowed)" : "")}");
                return;
            }
            failures.Add($"  {o}\n    -> {why}");
        }
        Assert.Fail($"{state} <- {kind} {flags} seq {seq} (RCV.NXT {n.RcvNxt}, RCV.WND {Window}, SND.NXT {n.SndNxt}) at {position}:\n"
            + $"stack replied: {(replies.Count == 0 ? "nothing" : string.Join("; ", replies))}, then {after} (error {error}, {readable} bytes readable)\n"
            + $"expected one of:\n{string.Join("\n", failures)}");
    }

    // ------------------------------------------------------------------ a zero receive window

    public static IEnumerable<TestCaseData> ZeroWindowCases() => IpFamilies.OverBoth(ZeroWindowOneFamily());

    private static IEnumerable<TestCaseData> ZeroWindowOneFamily()
    {
        foreach (var kind in Enum.GetValues<SegmentKind>())
            foreach (var position in new[] { WindowPosition.LeftOf, WindowPosition.LeftEdge, WindowPosition.RightOf })
                yield return new TestCaseData(kind, position).SetArgDisplayNames(kind.ToString(), position.ToString());
    }

    /// <summary>
    /// RFC 9293 3.10.7.4 first, with RCV.WND = 0: a segment of length 0 is acceptable only at RCV.NXT, one of length
    /// &gt; 0 never ("special allowance should be made to accept valid ACKs, URGs, and RSTs", so an ACK or RST at
    /// RCV.NXT is processed). Unacceptable segments get &lt;SEQ=SND.NXT&gt;&lt;ACK=RCV.NXT&gt;&lt;CTL=ACK&gt;, RSTs are
    /// dropped; a SYN is answered with the same ACK either way (RFC 5961 4.2). Nothing more is taken into the ring.
    /// </summary>
    internal static Outcome[] ZeroWindowOracle(SegmentKind kind, WindowPosition position, Numbers n)
    {
        uint seq = position switch
        {
            WindowPosition.LeftOf => n.RcvNxt - (uint)Math.Max(SegmentLength(kind), 1),
            WindowPosition.LeftEdge => n.RcvNxt,
            _ => n.RcvNxt + 1,
        };
        var ack = new Reply(TcpFlags.Ack, n.SndNxt, n.RcvNxt, Immediate);
        bool atNext = seq == n.RcvNxt;
        return kind switch
        {
            SegmentKind.Rst when atNext => [new("9293 3.10.7.4 first/second: a RST at RCV.NXT is acceptable with a zero window and resets", [], TcpState.Closed, NetError.ConnectionReset)],
            SegmentKind.Rst => [new("9293 3.10.7.4 first: a RST not at RCV.NXT is unacceptable with a zero window: dropped", [], TcpState.Established, null, ZeroWindowFill)],
            SegmentKind.Ack when atNext => [new("9293 3.10.7.4 first: an ACK at RCV.NXT is acceptable with a zero window", [], TcpState.Established, null, ZeroWindowFill)],
            _ => [new("9293 3.10.7.4 first: unacceptable with a zero window: ACK and drop", [ack], TcpState.Established, null, ZeroWindowFill)],
        };
    }

    private const int ZeroWindowFill = Window;

    [TestCaseSource(nameof(ZeroWindowCases))]
    public void Segment_into_a_zero_window(SegmentKind kind, WindowPosition position, IpFamily family)
    {
        using var peer = new RawPeer(Options, family: family);
        var setup = DriveWith(peer, TcpState.Established);
        var n = setup.Numbers;
        // Fill the ring (4000 bytes the reader does not take): the stack advertises a zero window.
        for (int i = 0; i < ZeroWindowFill / 1000; i++)
        {
            peer.Send(TcpFlags.Psh | TcpFlags.Ack, n.RcvNxt + (uint)(i * 1000), n.SndNxt, 1000);
            peer.Run(TimeSpan.FromMilliseconds(1));
        }
        peer.Run(Watch);
        var filled = peer.Take();
        Assert.That(filled, Is.Not.Empty);
        Assert.That((filled[^1].Ack, filled[^1].Window), Is.EqualTo((n.RcvNxt + ZeroWindowFill, (ushort)0)), $"setup: the window closes: {string.Join("; ", filled)}");
        n = n with { RcvNxt = n.RcvNxt + ZeroWindowFill };

        var outcomes = ZeroWindowOracle(kind, position, n);
        uint seq = position switch
        {
            WindowPosition.LeftOf => n.RcvNxt - (uint)Math.Max(SegmentLength(kind), 1),
            WindowPosition.LeftEdge => n.RcvNxt,
            _ => n.RcvNxt + 1,
        };
        var flags = kind switch
        {
            SegmentKind.Rst => TcpFlags.Rst | TcpFlags.Ack,
            SegmentKind.Syn => TcpFlags.Syn,
            SegmentKind.Fin => TcpFlags.Fin | TcpFlags.Ack,
            SegmentKind.Ack => TcpFlags.Ack,
            _ => TcpFlags.Psh | TcpFlags.Ack,
        };
        var sentAt = peer.Clock.Now;
        peer.Send(flags, seq, kind == SegmentKind.Syn ? 0 : n.SndNxt, kind == SegmentKind.Data ? DataLength : 0);
        peer.Run(Watch);
        var replies = peer.Take();
        var after = ResultingState(peer, setup, RawPeer.PeerPort);
        var error = setup.Connection!.Error;
        int readable = after == TcpState.Closed ? 0 : setup.Connection.Available;
        var failures = new List<string>();
        foreach (var o in outcomes)
        {
            string? why = Mismatch(o, replies, sentAt, after, error) ?? (after == TcpState.Closed || readable == o.Readable ? null : $"{readable} bytes readable, expected {o.Readable}");
            if (why is null) return;
            failures.Add($"  {o}\n    -> {why}");
        }
        Assert.Fail($"ESTABLISHED, RCV.WND 0 <- {kind} {flags} seq {seq} (RCV.NXT {n.RcvNxt}, SND.NXT {n.SndNxt}) at {position}:\n"
            + $"stack replied: {(replies.Count == 0 ? "nothing" : string.Join("; ", replies))}, then {after} (error {error}, {readable} bytes readable)\n"
            + $"expected one of:\n{string.Join("\n", failures)}");
    }

    internal static TcpState ResultingState(RawPeer peer, Setup setup, ushort remotePort)
    {
        var found = peer.Find(setup.LocalPort, remotePort);
        if (found is not null) return found.State;
        return setup.Numbers.PassiveOpen && setup.Connection is null && peer.Stack.Tcp.IsListening(setup.LocalPort)
            ? TcpState.Listen : TcpState.Closed;
    }

    private static string? Mismatch(Outcome o, List<SentSegment> replies, TimeSpan sentAt, TcpState state, NetError? error)
    {
        if (replies.Count != o.Replies.Length) return $"{replies.Count} replies, expected {o.Replies.Length}";
        for (int i = 0; i < replies.Count; i++)
        {
            var r = replies[i];
            var e = o.Replies[i];
            if (r.Flags != e.Flags) return $"reply {i + 1} flags {r.Flags}, expected {e.Flags}";
            if (e.Seq is uint seq && r.Seq != seq) return $"reply {i + 1} seq {r.Seq}, expected {seq}";
            if (e.Ack is uint ack && r.Ack != ack) return $"reply {i + 1} ack {r.Ack}, expected {ack}";
            if (!e.Flags.HasFlag(TcpFlags.Ack) && r.Ack != 0) return $"reply {i + 1} has ACK field {r.Ack} without the ACK bit";
            if (r.Length != e.Length) return $"reply {i + 1} carries {r.Length} bytes, expected {e.Length}";
            if (r.At - sentAt > e.Within) return $"reply {i + 1} after {(r.At - sentAt).TotalMilliseconds} ms, expected within {e.Within.TotalMilliseconds}";
        }
        if (state != o.State) return $"state {state}, expected {o.State}";
        if (o.Error is { } err && error != err) return $"error {error}, expected {err}";
        return null;
    }
}
