using TcpIpSharp.Capture;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>
/// The connecting twin of <see cref="RecordedTcpServer"/>: for each TCP connection a capture's host opened, it opens the
/// same connection on the stack (same local port, same peer) at the recorded time of the host's SYN, then writes the
/// host's recorded bytes in the host's own writes, each once the peer has sent what it had sent by then and (paced) not
/// before its recorded time, and closes where the host sent its FIN. So a recorded client (curl, a POST) replays byte for
/// byte with the stack as the connecting side while the replay drives the recorded server from the capture.
/// </summary>
/// <remarks>Diagnostic: built from the capture, it allocates; the stack's packet path is untouched.</remarks>
public sealed class RecordedTcpClient : IStackService
{
    // How long a connection that cannot be opened yet (no usable address yet, the same connection still in TIME-WAIT,
    // the table full) is retried before it is given up (its frames then show as missing in the verdict).
    private static readonly TimeSpan RetryEvery = TimeSpan.FromMilliseconds(1), GiveUpAfter = TimeSpan.FromSeconds(1);
    private readonly List<RecordedTcpScript> _toOpen = [];
    private readonly Dictionary<RecordedTcpScript, TimeSpan> _retryAt = [];
    private readonly List<RecordedTcpPlayer> _playing = [];
    private readonly byte[] _scratch = new byte[64 * 1024];
    private readonly bool _paced;
    private TimeSpan _now;

    /// <summary>Builds the scripts of every connection <paramref name="host"/> opened in <paramref name="frames"/>.</summary>
    /// <param name="frames">The capture's frames; times are taken relative to the first one (the replay's virtual time).</param>
    /// <param name="host">The recorded host (the client).</param>
    /// <param name="paced">True: a write waits for its recorded time as well as for the peer's bytes; false (a fast
    /// replay): only for the peer's bytes. A connection opens at its SYN's recorded time either way (the order of
    /// connections is the recording's).</param>
    public RecordedTcpClient(IReadOnlyList<CaptureFrame> frames, IpAddress host, bool paced = true)
    {
        ArgumentNullException.ThrowIfNull(frames);
        _paced = paced;
        foreach (var script in RecordedTcpScript.Build(frames, host))
            if (script.HostOpened) _toOpen.Add(script);
        Connections = _toOpen.Count;
    }

    /// <summary>The connections the host opened in the capture.</summary>
    public int Connections { get; }

    /// <summary>Connections given up because the stack would not open them for a second after the recorded SYN (no
    /// usable source address, the same connection still open, the connection table full).</summary>
    public int NotOpened { get; private set; }

    /// <inheritdoc/>
    public TimeSpan? NextDeadline
    {
        get
        {
            TimeSpan? next = null;
            foreach (var s in _toOpen)
            {
                var at = _retryAt.TryGetValue(s, out var retry) ? retry : s.Opened;
                if (next is null || at < next) next = at;
            }
            if (!_paced) return next;
            foreach (var p in _playing)
                if (p.Waiting is TimeSpan at && at > _now && (next is null || at < next)) next = at;
            return next;
        }
    }

    /// <inheritdoc/>
    public void Start(NetworkStack stack, TimeSpan now)
    {
        // Connections open from Poll, after the stack's first poll (its static IPv6 addresses are usable only then).
        ArgumentNullException.ThrowIfNull(stack);
        _now = now;
    }

    /// <inheritdoc/>
    public void Poll(NetworkStack stack, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(stack);
        _now = now;
        for (int i = 0; i < _toOpen.Count; i++)
        {
            var script = _toOpen[i];
            if (script.Opened > now || (_retryAt.TryGetValue(script, out var retry) && retry > now)) continue;
            Transport.Tcp.TcpConnection connection;
            try { connection = stack.ConnectTcp(script.Key.Peer, script.Key.PeerPort, RecordedTcpScript.OptionsFor(stack.Options.Tcp, [script]), script.Key.HostPort); }
            catch (Exception e) when (e is InvalidOperationException or Transport.Tcp.ConnectionLimitException)
            {
                if (now - script.Opened < GiveUpAfter) _retryAt[script] = now + RetryEvery;
                else { _toOpen.RemoveAt(i--); _retryAt.Remove(script); NotOpened++; }
                continue;
            }
            _toOpen.RemoveAt(i--);
            _retryAt.Remove(script);
            // Each recorded write goes out as written, as the host's did.
            connection.NoDelay = true;
            var player = new RecordedTcpPlayer(connection, script.Steps);
            _playing.Add(player);
            connection.Ready = _ => player.Pump(_scratch, _now, _paced);
        }
        for (int i = 0; i < _playing.Count; i++) _playing[i].Pump(_scratch, _now, _paced);
        _playing.RemoveAll(p => p.Done);
    }
}
