using System.Buffers.Binary;
using System.Security.Cryptography;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Storage;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

/// <summary>
/// Every TCP connection and listener of a stack: demultiplexing by hash of the four-tuple, listeners by port,
/// RFC 6528 initial sequence numbers, RFC 6056 ephemeral ports, resets for segments nobody owns, and the
/// timer scan and output flush that run on each poll.
/// </summary>
internal sealed class TcpTable
{
    private readonly Dictionary<TcpKey, TcpConnection> _connections = new(64);
    private readonly Dictionary<ushort, TcpListener> _listeners = new(16);
    private readonly Dictionary<ushort, int> _localPortUse = new(64);
    private readonly List<TcpConnection> _active = new(64);
    private List<TcpConnection> _pending = new(64), _flushing = new(64);
    private readonly ITcpOutput _output;
    private readonly IRandomSource _random;
    private readonly NetworkStackOptions _options;
    private readonly byte[] _isnKey = new byte[32];
    private TokenBucket _challengeAcks = new(100, 100);   // RFC 5961 7: a rate limit on challenge ACKs
    private TimeSpan _nextTimer = TimeSpan.MaxValue;

    public TcpTable(ITcpOutput output, IRandomSource random, NetworkStackOptions options, TcpCounters statistics)
    {
        _output = output;
        _random = random;
        _options = options;
        Statistics = statistics;
        random.NextBytes(_isnKey);
    }

    public TcpCounters Statistics { get; }
    public TimeSpan Now { get; private set; }
    public int Count => _connections.Count;
    public Func<Ipv4Address> LocalAddress { get; set; } = () => default;

    // ------------------------------------------------------------------ user calls

    public TcpListener Listen(ushort port, int backlog, TcpConnectionOptions? options)
    {
        if (_listeners.ContainsKey(port)) throw new InvalidOperationException($"TCP port {port} is already listening");
        var listener = new TcpListener(this, port, Math.Max(1, backlog), Math.Max(backlog, _options.TcpSynQueue), options ?? _options.Tcp);
        _listeners.Add(port, listener);
        return listener;
    }

    public bool IsListening(ushort port) => _listeners.ContainsKey(port);

    public TcpConnection Connect(Ipv4Address remote, ushort remotePort, ushort localPort, TcpConnectionOptions? options, TimeSpan now)
    {
        if (localPort == 0) localPort = PickEphemeral(remote, remotePort);
        var key = new TcpKey(remote.Value, remotePort, localPort);
        if (_connections.ContainsKey(key)) throw new InvalidOperationException($"a connection from port {localPort} to {remote}:{remotePort} exists");
        var connection = Create(LocalAddress(), localPort, remote, remotePort, options ?? _options.Tcp, now);
        Statistics.ActiveOpensCount++;
        connection.Open(now);
        Track(connection);
        return connection;
    }

    // RFC 6056 3.3.1: a random start, then the next port free for this peer.
    private ushort PickEphemeral(Ipv4Address remote, ushort remotePort)
    {
        int first = _options.EphemeralPortFirst, count = _options.EphemeralPortLast - first + 1;
        int offset = (int)(_random.NextUInt32() % (uint)count);
        for (int i = 0; i < count; i++)
        {
            var port = (ushort)(first + (offset + i) % count);
            if (!_listeners.ContainsKey(port) && !_connections.ContainsKey(new TcpKey(remote.Value, remotePort, port))) return port;
        }
        throw new InvalidOperationException("no ephemeral TCP port is free");
    }

    private TcpConnection Create(Ipv4Address local, ushort localPort, Ipv4Address remote, ushort remotePort, TcpConnectionOptions options, TimeSpan now)
    {
        var connection = new TcpConnection(this, _output, options, local, localPort, remote, remotePort,
            InitialSequenceNumber(local, localPort, remote, remotePort, now), _random.NextUInt32(), now);
        _connections.Add(connection.Key, connection);
        _localPortUse[localPort] = _localPortUse.GetValueOrDefault(localPort) + 1;
        return connection;
    }

    // RFC 6528: ISN = M + F(local, local port, remote, remote port, secret), M a 4-microsecond clock.
    private uint InitialSequenceNumber(Ipv4Address local, ushort localPort, Ipv4Address remote, ushort remotePort, TimeSpan now)
    {
        Span<byte> tuple = stackalloc byte[12];
        local.WriteTo(tuple);
        BinaryPrimitives.WriteUInt16BigEndian(tuple[4..], localPort);
        remote.WriteTo(tuple[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(tuple[10..], remotePort);
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_isnKey, tuple, hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash) + (uint)(now.Ticks / 40);
    }

    // ------------------------------------------------------------------ segments

    public void Process(Ipv4Packet ip, TcpSegment segment, TimeSpan now)
    {
        Now = now;
        if (TcpOptions.TryParse(segment.Options, out var options) != WireError.None) options = default;   // RFC 9293: ignore what can't be parsed
        var key = new TcpKey(ip.Source.Value, segment.SourcePort, segment.DestinationPort);
        if (_connections.TryGetValue(key, out var connection))
        {
            connection.OnSegment(segment, options, now);
            Scheduled(connection);
            return;
        }
        var flags = segment.Flags;
        if (_listeners.TryGetValue(segment.DestinationPort, out var listener) && !flags.HasFlag(TcpFlags.Rst))
        {
            if (flags.HasFlag(TcpFlags.Ack)) { Reset(ip, segment, now); return; }   // RFC 9293 3.10.7.2: an ACK to a listener gets a reset
            if (!flags.HasFlag(TcpFlags.Syn)) return;
            if (!listener.HasRoom || listener.IsClosed) { Statistics.SynQueueFullCount++; return; }
            var accepted = Create(ip.Destination, segment.DestinationPort, ip.Source, segment.SourcePort, listener.Options, now);
            accepted.Listener = listener;
            listener.HalfOpen++;
            Statistics.PassiveOpensCount++;
            accepted.AcceptSyn(segment, options, now);
            Track(accepted);
            return;
        }
        Reset(ip, segment, now);
    }

    // RFC 9293 3.10.7.1: a segment for no connection gets a reset, unless it is one.
    private void Reset(Ipv4Packet ip, TcpSegment segment, TimeSpan now)
    {
        var flags = segment.Flags;
        if (flags.HasFlag(TcpFlags.Rst)) return;
        var header = flags.HasFlag(TcpFlags.Ack)
            ? new TcpHeader(segment.DestinationPort, segment.SourcePort, segment.AcknowledgmentNumber, 0, TcpFlags.Rst, 0)
            : new TcpHeader(segment.DestinationPort, segment.SourcePort, 0, segment.SequenceNumber + (uint)segment.SequenceLength, TcpFlags.Rst | TcpFlags.Ack, 0);
        int length = header.WriteTo(_output.SegmentBuffer);
        _output.SendSegment(ip.Destination, ip.Source, length, now);
        Statistics.ResetsSentCount++;
    }

    public bool TakeChallengeAck(TimeSpan now) => _challengeAcks.TryTake(now);

    // ------------------------------------------------------------------ poll

    public void MarkPending(TcpConnection connection)
    {
        if (connection.Pending) return;
        connection.Pending = true;
        _pending.Add(connection);
    }

    public void Poll(TimeSpan now)
    {
        Now = now;
        if (now >= _nextTimer)
        {
            var next = TimeSpan.MaxValue;
            for (int i = 0; i < _active.Count; i++)
            {
                var c = _active[i];
                if (c.State != TcpState.Closed) c.OnTimer(now);
                if (!ReferenceEquals(_connections.GetValueOrDefault(c.Key), c))
                {
                    _active[i] = _active[^1];
                    _active.RemoveAt(_active.Count - 1);
                    i--;
                    continue;
                }
                if (c.NextDeadline is TimeSpan d && d < next) next = d;
            }
            _nextTimer = next;
        }
        for (int round = 0; round < 4 && _pending.Count > 0; round++)
        {
            (_pending, _flushing) = (_flushing, _pending);
            foreach (var c in _flushing)
            {
                c.Pending = false;
                c.Flush(now);
                Scheduled(c);
            }
            _flushing.Clear();
        }
    }

    private void Scheduled(TcpConnection connection)
    {
        if (connection.NextDeadline is TimeSpan d && d < _nextTimer) _nextTimer = d;
    }

    public TimeSpan? NextDeadline(TimeSpan now) => _pending.Count > 0 ? now : _nextTimer == TimeSpan.MaxValue ? null : _nextTimer;

    private void Track(TcpConnection connection)
    {
        _active.Add(connection);
        Scheduled(connection);
    }

    public void Remove(TcpConnection connection)
    {
        if (_connections.TryGetValue(connection.Key, out var c) && ReferenceEquals(c, connection))
        {
            _connections.Remove(connection.Key);
            if (_localPortUse.TryGetValue(connection.LocalPort, out int n)) { if (n <= 1) _localPortUse.Remove(connection.LocalPort); else _localPortUse[connection.LocalPort] = n - 1; }
            if (connection.Listener is { } listener) { listener.OnAbandoned(); connection.Listener = null; }
        }
    }

    public void RemoveListener(TcpListener listener)
    {
        if (_listeners.TryGetValue(listener.Port, out var l) && ReferenceEquals(l, listener)) _listeners.Remove(listener.Port);
    }
}
