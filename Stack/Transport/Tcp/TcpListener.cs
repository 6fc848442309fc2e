namespace TcpIpSharp.Transport.Tcp;

/// <summary>
/// A listening port: a bounded queue of handshakes in progress (SYN-RECEIVED) and a bounded accept backlog of
/// established connections waiting for <see cref="TryAccept"/>. Used on the stack thread only.
/// </summary>
public sealed class TcpListener
{
    private readonly TcpTable _table;
    private readonly Queue<TcpConnection> _accepted;

    internal TcpListener(TcpTable table, ushort port, int backlog, int synQueue, TcpConnectionOptions options)
    {
        _table = table;
        Port = port;
        Backlog = backlog;
        SynQueueLimit = synQueue;
        Options = options;
        _accepted = new Queue<TcpConnection>(backlog);
    }

    /// <summary>The port listened on.</summary>
    public ushort Port { get; }
    /// <summary>Established connections held for accepting at most.</summary>
    public int Backlog { get; }
    /// <summary>Handshakes in progress at most.</summary>
    public int SynQueueLimit { get; }
    /// <summary>Options given to the connections accepted.</summary>
    public TcpConnectionOptions Options { get; }
    /// <summary>Connections waiting to be accepted.</summary>
    public int Pending => _accepted.Count;
    /// <summary>Handshakes in progress.</summary>
    public int HalfOpen { get; internal set; }
    /// <summary>True once closed.</summary>
    public bool IsClosed { get; private set; }
    /// <summary>Answer SYNs with SYN cookies (RFC 4987) when the SYN queue is full, instead of dropping them.</summary>
    public bool SynCookies { get; set; } = true;
    /// <summary>Called on the stack thread when a connection is ready to accept.</summary>
    public Action<TcpListener>? Ready { get; set; }

    /// <summary>Takes the oldest established connection.</summary>
    public bool TryAccept(out TcpConnection connection) => _accepted.TryDequeue(out connection!);

    /// <summary>Stops listening and resets connections not yet accepted.</summary>
    public void Close()
    {
        if (IsClosed) return;
        IsClosed = true;
        while (_accepted.TryDequeue(out var c)) c.Abort();
        _table.RemoveListener(this);
    }

    internal bool HasRoom => HalfOpen < SynQueueLimit;

    internal bool IsAcceptQueueFull => !IsClosed && _accepted.Count >= Backlog;

    internal void OnEstablished(TcpConnection connection)
    {
        HalfOpen--;
        connection.Listener = null;
        if (_accepted.Count >= Backlog || IsClosed)
        {
            _table.Statistics.ListenOverflowsCount++;
            connection.Abort();
            return;
        }
        _accepted.Enqueue(connection);
        Ready?.Invoke(this);
    }

    internal void OnAbandoned() => HalfOpen--;
}
