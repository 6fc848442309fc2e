using TcpIpSharp.Capture;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>
/// What a capture's host wrote on one TCP connection, as a script to play on the stack: the host's writes in order (each
/// run of new data up to a segment with PSH, which Linux sets where a write ends), each with what the peer had sent
/// before it, and where the host closed. Built for the connections the host accepted (<see cref="RecordedTcpServer"/>)
/// and for those it opened (<see cref="RecordedTcpClient"/>): the same rules both ways.
/// </summary>
internal sealed class RecordedTcpScript
{
    /// <summary>The peer's address, port and the host's port.</summary>
    public required (IpAddress Peer, ushort PeerPort, ushort HostPort) Key { get; init; }
    /// <summary>True when the host sent the SYN (it connected); false when it accepted the peer's.</summary>
    public required bool HostOpened { get; init; }
    /// <summary>The host answered the peer's SYN with a SYN-ACK (a connection it accepted; a refused one has none).</summary>
    public bool HostAccepted { get; private set; }
    /// <summary>When the connection's first SYN was recorded (relative to the capture's first frame).</summary>
    public required TimeSpan Opened { get; init; }
    public List<RecordedTcpStep> Steps { get; } = [];
    /// <summary>The most data the host had sent and the peer not yet acknowledged (its send buffer held at least that).</summary>
    public long MostInFlight { get; private set; }

    /// <summary>Connection options for the stack's side of these scripts: the stack's own, with a send buffer that
    /// holds what the host had in flight. Linux sizes its send buffer itself (up to <c>tcp_wmem</c>'s 4 MB); with the
    /// stack's 256 KB default a megabyte sender runs out of buffer where Linux still sent (the recorded application's
    /// socket had the room, as if it had set <c>SO_SNDBUF</c>).</summary>
    public static Transport.Tcp.TcpConnectionOptions OptionsFor(Transport.Tcp.TcpConnectionOptions tcp, IEnumerable<RecordedTcpScript> scripts)
    {
        long most = scripts.Select(s => s.MostInFlight).DefaultIfEmpty(0).Max();
        long wanted = (2 * most + 0xFFFF) & ~0xFFFFL;   // twice that, in 64 KB steps: room for the next write too
        return wanted > tcp.SendBufferSize ? tcp with { SendBufferSize = (int)Math.Min(wanted, 16 << 20) } : tcp;
    }

    /// <summary>The scripts of every TCP connection <paramref name="host"/> had in <paramref name="frames"/>.</summary>
    public static List<RecordedTcpScript> Build(IReadOnlyList<CaptureFrame> frames, IpAddress host)
    {
        var start = frames.Count > 0 ? frames[0].Time : DateTime.UnixEpoch;
        var flows = new Dictionary<(IpAddress, ushort, ushort), Builder>();
        var scripts = new List<RecordedTcpScript>();
        foreach (var frame in frames)
        {
            var f = new ReplayFrame(frame.Data);
            if (!f.IsTcp) continue;
            bool fromHost = f.IpSource == host;
            if (!fromHost && f.IpDestination != host) continue;
            var key = fromHost ? (f.IpDestination, f.DestinationPort, f.SourcePort) : (f.IpSource, f.SourcePort, f.DestinationPort);
            var at = frame.Time - start;
            if (!flows.TryGetValue(key, out var flow))
            {
                // A connection starts with a SYN without ACK: the peer's (the host accepted) or the host's (it connected).
                if ((f.Flags & (TcpFlags.Syn | TcpFlags.Ack)) != TcpFlags.Syn) continue;
                var script = new RecordedTcpScript { Key = key, HostOpened = fromHost, Opened = at };
                flows[key] = flow = new Builder(script);
                scripts.Add(script);
            }
            if (!fromHost)
            {
                if ((f.Flags & TcpFlags.Ack) != 0 && flow.HostIsn is uint hostIsnAcked)
                    flow.PeerAcked = Math.Max(flow.PeerAcked, (long)(uint)(f.Acknowledgment - hostIsnAcked - 1));
                if ((f.Flags & TcpFlags.Syn) != 0) flow.PeerIsn = f.Sequence;
                if (flow.PeerIsn is uint peerIsn && f.PayloadLength > 0)
                    flow.PeerBytes = Math.Max(flow.PeerBytes, (long)(uint)(f.Sequence - peerIsn - 1) + f.PayloadLength);
                if ((f.Flags & TcpFlags.Fin) != 0 && flow.PeerIsn is uint finIsn)
                {
                    flow.PeerFin = true;
                    flow.PeerFinAt = (long)(uint)(f.Sequence - finIsn - 1) + f.PayloadLength;   // the FIN's place in the peer's bytes
                }
                continue;
            }
            if ((f.Flags & TcpFlags.Syn) != 0)
            {
                flow.HostIsn = f.Sequence;
                if ((f.Flags & TcpFlags.Ack) != 0) flow.Script.HostAccepted = true;
                continue;
            }
            if (flow.HostIsn is not uint isn) continue;
            // What the host had received when it sent this segment is what it acknowledges (a capture taken at the peer's
            // end shows the peer's segments before the host had them: segments that crossed on the wire).
            var (peerBytes, peerFin) = flow.ReceivedBy(f);
            long relative = (uint)(f.Sequence - isn - 1);
            long end = relative + f.PayloadLength;
            // New bytes (a retransmission re-sends old ones; after a hole the bytes in it were never seen: skipped). One
            // write runs to the segment with PSH, which Linux sets at the end of what the application wrote.
            if (f.PayloadLength > 0 && end > flow.Scripted)
            {
                if (relative > flow.Scripted) flow.Scripted = relative;
                flow.Pending ??= new Pending(at, peerBytes, peerFin);
                int skip = (int)(flow.Scripted - relative);
                flow.Pending.Pieces.Add(frame.Data.AsMemory(f.TcpOffset + f.TcpHeaderLength + skip, f.PayloadLength - skip));
                flow.Scripted = end;
                flow.Script.MostInFlight = Math.Max(flow.Script.MostInFlight, end - flow.PeerAcked);
                if ((f.Flags & TcpFlags.Psh) != 0) flow.Flush();
            }
            if ((f.Flags & TcpFlags.Fin) != 0 && !flow.Closed)
            {
                flow.Flush();
                flow.Script.Steps.Add(new RecordedTcpStep(at, peerBytes, peerFin, [], true));
                flow.Closed = true;
            }
        }
        foreach (var flow in flows.Values) flow.Flush();
        return scripts;
    }

    private sealed class Builder(RecordedTcpScript script)
    {
        public readonly RecordedTcpScript Script = script;
        public uint? PeerIsn, HostIsn;
        public long PeerBytes, Scripted, PeerAcked;
        public bool PeerFin, Closed;
        public long PeerFinAt = -1;

        /// <summary>The peer's bytes (and FIN) the host had received when it sent <paramref name="f"/>: what it had seen
        /// in the capture, no more than its acknowledgement covers.</summary>
        public (long Bytes, bool Fin) ReceivedBy(in ReplayFrame f)
        {
            if ((f.Flags & TcpFlags.Ack) == 0 || PeerIsn is not uint peerIsn) return (PeerBytes, PeerFin);
            long acked = (long)(uint)(f.Acknowledgment - peerIsn) - 1;   // the SYN takes one
            bool fin = PeerFin && acked > PeerFinAt;
            return (Math.Min(PeerBytes, fin ? PeerFinAt : acked), fin);
        }
        public Pending? Pending;

        public void Flush()
        {
            if (Pending is null) return;
            Script.Steps.Add(new RecordedTcpStep(Pending.Time, Pending.PeerBytes, Pending.AfterPeerFin, [.. Pending.Pieces], false));
            Pending = null;
        }
    }

    private sealed class Pending(TimeSpan time, long peerBytes, bool afterPeerFin)
    {
        public readonly TimeSpan Time = time;
        public readonly long PeerBytes = peerBytes;
        public readonly bool AfterPeerFin = afterPeerFin;
        // The write's bytes where they lie in the recorded frames (no copy: a copy per write of a megabyte was half the
        // time the scripts took to build, in large-object allocations and the collections they set off).
        public readonly List<ReadOnlyMemory<byte>> Pieces = [];
    }
}

/// <summary>One write of the host (or its close): when it was recorded and what the peer had sent before it.</summary>
internal sealed record RecordedTcpStep(TimeSpan Time, long PeerBytes, bool AfterPeerFin, ReadOnlyMemory<byte>[] Pieces, bool Close);

/// <summary>A connection the stack plays a script on: reads what the peer sends, writes the host's writes as their
/// conditions are met, closes where the host closed. Shared by <see cref="RecordedTcpServer"/> and <see cref="RecordedTcpClient"/>.</summary>
internal sealed class RecordedTcpPlayer(Transport.Tcp.TcpConnection connection, List<RecordedTcpStep> steps)
{
    public readonly Transport.Tcp.TcpConnection Connection = connection;
    public readonly List<RecordedTcpStep> Steps = steps;
    public int Next, Piece, Offset;
    public long Received;
    /// <summary>The recorded time the next write waits for (paced), or null.</summary>
    public TimeSpan? Waiting;
    public bool Done;

    /// <summary>Reads what arrived and writes what the script allows now.</summary>
    public void Pump(Span<byte> scratch, TimeSpan now, bool paced)
    {
        var c = Connection;
        if (Done) return;
        if (c.State == Transport.Tcp.TcpState.Closed) { Done = true; return; }
        int n;
        while ((n = c.Receive(scratch)) > 0) Received += n;
        Waiting = null;
        // A connecting host writes once the handshake is done (data queued in SYN-SENT would ride on the handshake's ACK).
        if (c.State == Transport.Tcp.TcpState.SynSent) return;
        while (Next < Steps.Count)
        {
            var step = Steps[Next];
            if (Received < step.PeerBytes || (step.AfterPeerFin && !c.IsEndOfStream)) return;
            if (paced && step.Time > now) { Waiting = step.Time; return; }
            // Unpaced (--fast), a write waits until the one before it has left: each recorded write ends in a segment
            // with PSH, a point where the host had sent all it had, so the next write must not join it in a segment.
            if (!paced && Piece == 0 && Offset == 0 && Next > 0 && c.HasUnsentData) return;
            if (step.Close) { c.Close(); Next++; Done = true; return; }
            // The write's pieces in order (Piece, Offset: how far it went); a full send ring leaves the rest for later.
            while (Piece < step.Pieces.Length)
            {
                var piece = step.Pieces[Piece];
                if (Offset < piece.Length) Offset += c.Send(piece.Span[Offset..]);
                if (Offset < piece.Length) return;
                Piece++;
                Offset = 0;
            }
            Next++;
            Piece = 0;
        }
    }
}
