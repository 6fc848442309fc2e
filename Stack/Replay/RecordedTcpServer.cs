using TcpIpSharp.Capture;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>
/// A handler that serves, on the stack, the bytes a capture's host sent on each TCP connection it accepted: it listens
/// on the host's ports and, on each connection a recorded peer opens, writes the host's payload in the host's own
/// writes (each run of new data up to a segment with PSH, which Linux sets where a write ends), each once the peer has sent what it had sent by then and (paced) not
/// before its recorded time, and closes where the host sent its FIN. So a recorded HTTP (or any TCP) server replays
/// byte for byte without the stack running that server.
/// </summary>
/// <remarks>Diagnostic: built from the capture, it allocates; the stack's packet path is untouched.</remarks>
public sealed class RecordedTcpServer : IStackService
{
    private readonly Dictionary<(IpAddress Peer, ushort PeerPort, ushort HostPort), List<Step>> _scripts = [];
    private readonly List<Serving> _serving = [];
    private readonly byte[] _scratch = new byte[64 * 1024];
    private readonly bool _paced;
    private TimeSpan _now;

    /// <summary>Builds the scripts of every connection <paramref name="host"/> accepted in <paramref name="frames"/>.</summary>
    /// <param name="frames">The capture's frames; times are taken relative to the first one (the replay's virtual time).</param>
    /// <param name="host">The recorded host (the server).</param>
    /// <param name="paced">True: a write waits for its recorded time as well as for the peer's bytes; false (a fast replay): only for the peer's bytes.</param>
    public RecordedTcpServer(IReadOnlyList<CaptureFrame> frames, IpAddress host, bool paced = true)
    {
        ArgumentNullException.ThrowIfNull(frames);
        _paced = paced;
        var start = frames.Count > 0 ? frames[0].Time : DateTime.UnixEpoch;
        var flows = new Dictionary<(IpAddress, ushort, ushort), Flow>();
        foreach (var frame in frames)
        {
            var f = new ReplayFrame(frame.Data);
            if (!f.IsTcp) continue;
            bool fromHost = f.IpSource == host;
            if (!fromHost && f.IpDestination != host) continue;
            var key = fromHost ? (f.IpDestination, f.DestinationPort, f.SourcePort) : (f.IpSource, f.SourcePort, f.DestinationPort);
            if (!flows.TryGetValue(key, out var flow))
            {
                // Only connections the host accepted: the first segment is the peer's SYN.
                if (fromHost || (f.Flags & (TcpFlags.Syn | TcpFlags.Ack)) != TcpFlags.Syn) continue;
                flows[key] = flow = new Flow();
                _scripts[key] = flow.Steps;
            }
            var payload = frame.Data.AsSpan(f.TcpOffset + f.TcpHeaderLength, f.PayloadLength);
            if (!fromHost)
            {
                if ((f.Flags & TcpFlags.Syn) != 0) flow.PeerIsn = f.Sequence;
                if (flow.PeerIsn is uint peerIsn && f.PayloadLength > 0)
                    flow.PeerBytes = Math.Max(flow.PeerBytes, (long)(uint)(f.Sequence - peerIsn - 1) + f.PayloadLength);
                if ((f.Flags & TcpFlags.Fin) != 0) flow.PeerFin = true;
                continue;
            }
            if ((f.Flags & TcpFlags.Syn) != 0) { flow.HostIsn = f.Sequence; continue; }
            if (flow.HostIsn is not uint isn) continue;
            var at = frame.Time - start;
            long relative = (uint)(f.Sequence - isn - 1);
            long end = relative + f.PayloadLength;
            // New bytes (a retransmission re-sends old ones; after a hole the bytes in it were never seen: skipped). One
            // write runs to the segment with PSH, which Linux sets at the end of what the application wrote.
            if (f.PayloadLength > 0 && end > flow.Scripted)
            {
                if (relative > flow.Scripted) flow.Scripted = relative;
                flow.Pending ??= new Pending(at, flow.PeerBytes, flow.PeerFin);
                flow.Pending.Bytes.AddRange(payload[(int)(flow.Scripted - relative)..].ToArray());
                flow.Scripted = end;
                if ((f.Flags & TcpFlags.Psh) != 0) flow.Flush();
            }
            if ((f.Flags & TcpFlags.Fin) != 0 && !flow.Closed)
            {
                flow.Flush();
                flow.Steps.Add(new Step(at, flow.PeerBytes, flow.PeerFin, [], true));
                flow.Closed = true;
            }
        }
        foreach (var flow in flows.Values) flow.Flush();
    }

    /// <summary>The connections the host accepted in the capture (peer, peer port, host port), each with its host writes.</summary>
    public int Connections => _scripts.Count;

    /// <inheritdoc/>
    public TimeSpan? NextDeadline
    {
        get
        {
            if (!_paced) return null;
            TimeSpan? next = null;
            foreach (var s in _serving)
                if (s.Waiting is TimeSpan at && at > _now && (next is null || at < next)) next = at;
            return next;
        }
    }

    /// <inheritdoc/>
    public void Start(NetworkStack stack, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(stack);
        _now = now;
        foreach (ushort port in _scripts.Keys.Select(k => k.HostPort).Distinct())
        {
            var listener = stack.ListenTcp(port);
            listener.Ready = l =>
            {
                while (l.TryAccept(out var connection))
                {
                    var key = (connection.RemoteAddress, connection.RemotePort, connection.LocalPort);
                    if (!_scripts.TryGetValue(key, out var steps)) { connection.Abort(); continue; }
                    // Each recorded write goes out as written, as the host's did (Linux sends a short segment while an
                    // earlier full one is unacknowledged).
                    connection.NoDelay = true;
                    var serving = new Serving(connection, steps);
                    _serving.Add(serving);
                    connection.Ready = _ => Pump(serving);
                    Pump(serving);
                }
            };
        }
    }

    /// <inheritdoc/>
    public void Poll(NetworkStack stack, TimeSpan now)
    {
        _now = now;
        for (int i = 0; i < _serving.Count; i++) Pump(_serving[i]);
        _serving.RemoveAll(s => s.Done);
    }

    private void Pump(Serving s)
    {
        var c = s.Connection;
        if (s.Done) return;
        if (c.State == TcpState.Closed) { s.Done = true; return; }
        int n;
        while ((n = c.Receive(_scratch)) > 0) s.Received += n;
        s.Waiting = null;
        while (s.Next < s.Steps.Count)
        {
            var step = s.Steps[s.Next];
            if (s.Received < step.PeerBytes || (step.AfterPeerFin && !c.IsEndOfStream)) return;
            if (_paced && step.Time > _now) { s.Waiting = step.Time; return; }
            if (step.Close) { c.Close(); s.Next++; s.Done = true; return; }
            if (s.Offset < step.Bytes.Length) s.Offset += c.Send(step.Bytes.AsSpan(s.Offset));
            if (s.Offset < step.Bytes.Length) return;   // the send ring is full: the rest when it drains
            s.Next++;
            s.Offset = 0;
        }
    }

    private sealed record Step(TimeSpan Time, long PeerBytes, bool AfterPeerFin, byte[] Bytes, bool Close);

    private sealed class Flow
    {
        public uint? PeerIsn, HostIsn;
        public long PeerBytes, Scripted;
        public bool PeerFin, Closed;
        public Pending? Pending;
        public readonly List<Step> Steps = [];

        public void Flush()
        {
            if (Pending is null) return;
            Steps.Add(new Step(Pending.Time, Pending.PeerBytes, Pending.AfterPeerFin, [.. Pending.Bytes], false));
            Pending = null;
        }
    }

    private sealed class Pending(TimeSpan time, long peerBytes, bool afterPeerFin)
    {
        public readonly TimeSpan Time = time;
        public readonly long PeerBytes = peerBytes;
        public readonly bool AfterPeerFin = afterPeerFin;
        public readonly List<byte> Bytes = [];
    }

    private sealed class Serving(TcpConnection connection, List<Step> steps)
    {
        public readonly TcpConnection Connection = connection;
        public readonly List<Step> Steps = steps;
        public int Next, Offset;
        public long Received;
        public TimeSpan? Waiting;
        public bool Done;
    }
}
