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
    private readonly Dictionary<(IpAddress Peer, ushort PeerPort, ushort HostPort), List<RecordedTcpStep>> _scripts = [];
    private readonly List<RecordedTcpScript> _accepted = [];
    private readonly List<RecordedTcpPlayer> _serving = [];
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
        foreach (var script in RecordedTcpScript.Build(frames, host))
            if (script.HostAccepted)   // not a port the host refused (RST)
            {
                _scripts[script.Key] = script.Steps;
                _accepted.Add(script);
            }
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
            var listener = stack.ListenTcp(port, options: RecordedTcpScript.OptionsFor(stack.Options.Tcp, _accepted.Where(a => a.Key.HostPort == port)));
            listener.Ready = l =>
            {
                while (l.TryAccept(out var connection))
                {
                    var key = (connection.RemoteAddress, connection.RemotePort, connection.LocalPort);
                    if (!_scripts.TryGetValue(key, out var steps)) { connection.Abort(); continue; }
                    // Each recorded write goes out as written, as the host's did (Linux sends a short segment while an
                    // earlier full one is unacknowledged).
                    connection.NoDelay = true;
                    var serving = new RecordedTcpPlayer(connection, steps);
                    _serving.Add(serving);
                    connection.Ready = _ => serving.Pump(_scratch, _now, _paced);
                    serving.Pump(_scratch, _now, _paced);
                }
            };
        }
    }

    /// <inheritdoc/>
    public void Poll(NetworkStack stack, TimeSpan now)
    {
        _now = now;
        for (int i = 0; i < _serving.Count; i++) _serving[i].Pump(_scratch, _now, _paced);
        _serving.RemoveAll(s => s.Done);
    }
}
