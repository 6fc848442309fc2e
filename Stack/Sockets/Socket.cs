using TcpIpSharp.Storage;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Sockets;

/// <summary>
/// A socket with the Pico W's methods and semantics (MicroPython's <c>socket.socket</c> over lwIP): TCP
/// (SOCK_STREAM), UDP (SOCK_DGRAM) or raw ICMP (SOCK_RAW). Blocking by default; <see cref="SetTimeout"/> 0 makes it
/// non-blocking (EAGAIN), a positive timeout raises ETIMEDOUT when it expires. Errors are <see cref="OSError"/>.
/// Any thread may use any socket; a blocking call blocks only its caller. Each call runs its command against the
/// core while holding the stack's command channel (see docs/architecture.md, "Sockets"), so
/// <see cref="Recv(Span{byte}, int)"/> and <see cref="Send(ReadOnlySpan{byte})"/> copy straight between the caller's
/// span and the connection's ring and allocate nothing.
/// </summary>
public sealed partial class Socket : IDisposable
{
    private readonly SocketStack _owner;
    private readonly StackDriver _driver;
    private readonly object _gate;
    private readonly Action<TcpConnection> _onConnectionReady;
    private readonly Action<TcpListener> _onListenerReady;
    private readonly Action<UdpEndpoint> _onUdpReady;
    private TimeSpan? _timeout;
    private bool _closed;
    private TcpConnection? _connection;
    private TcpListener? _listener;
    private UdpEndpoint? _udp;
    private DatagramQueue? _raw;
    private SockAddr? _rawPeer;
    private bool _bound;
    private ushort _boundPort;
    private IpAddress _boundAddress;
    private bool _reuseAddress, _broadcast, _keepAlive, _noDelay;
    private byte _multicastTtl = 1;
    private bool _multicastLoop = true;
    private List<IpAddress>? _memberships;
    private bool _errorReported;
    private TaskCompletionSource? _asyncWait;

    internal Socket(SocketStack owner, int af, int type, int proto, TcpConnection? accepted = null)
    {
        _owner = owner;
        _driver = owner.Driver;
        _gate = _driver.Gate;
        Family = af;
        Type = type;
        Proto = proto;
        _onConnectionReady = _ => OnReady();
        _onListenerReady = _ => OnReady();
        _onUdpReady = _ => OnReady();
        if (type == SOCK_RAW) _raw = SocketStack.NewRawQueue();
        if (accepted is not null)
        {
            _connection = accepted;
            accepted.Ready = _onConnectionReady;
        }
    }

    /// <summary>The address family (AF_INET).</summary>
    public int Family { get; }
    /// <summary>The socket type (SOCK_STREAM, SOCK_DGRAM, SOCK_RAW).</summary>
    public int Type { get; }
    /// <summary>The protocol given at creation.</summary>
    public int Proto { get; }
    /// <summary>The stack the socket belongs to.</summary>
    public SocketStack Stack => _owner;

    /// <summary>The timeout in seconds: null blocks forever (the default), 0 is non-blocking.</summary>
    public double? Timeout { get { lock (_gate) return _timeout?.TotalSeconds; } }

    /// <summary>True once <see cref="Close"/> ran.</summary>
    public bool IsClosed { get { lock (_gate) return _closed; } }

    // On the stack thread (or a caller) under the gate: a control block of this socket changed.
    private void OnReady()
    {
        _driver.Signal();
        var wait = _asyncWait;
        if (wait is not null)
        {
            _asyncWait = null;
            wait.TrySetResult();
        }
    }

    private Task AsyncWaitTask() => (_asyncWait ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    private void ThrowIfClosed()
    {
        if (_closed) throw new OSError(Errno.EBADF);
    }

    private TimeSpan? Deadline() => _timeout is TimeSpan t ? _driver.Now + t : null;

    private bool NonBlocking => _timeout == TimeSpan.Zero;

    // Under the gate, after a call found nothing to do: EAGAIN when non-blocking, ETIMEDOUT when the deadline passed, else waits.
    private void BlockOrRaise(TimeSpan? deadline, bool dontWait = false)
    {
        if (dontWait || NonBlocking) throw new OSError(Errno.EAGAIN);
        if (!_driver.WaitOrRaise(deadline)) throw new OSError(Errno.ETIMEDOUT);
    }

    // ------------------------------------------------------------------ options

    /// <summary><c>settimeout(value)</c>: seconds; null blocks forever, 0 is non-blocking.</summary>
    public void SetTimeout(double? seconds)
    {
        if (seconds is double s && (s < 0 || double.IsNaN(s))) throw new ArgumentOutOfRangeException(nameof(seconds), "timeout value must be non-negative");
        lock (_gate) _timeout = seconds is double v ? TimeSpan.FromSeconds(v) : null;
    }

    /// <summary><c>setblocking(flag)</c>: true is <c>settimeout(None)</c>, false is <c>settimeout(0)</c>.</summary>
    public void SetBlocking(bool flag) => SetTimeout(flag ? null : 0);

    /// <summary>
    /// <c>setsockopt(level, option, value)</c>: SOL_SOCKET SO_REUSEADDR, SO_BROADCAST, SO_KEEPALIVE; IPPROTO_TCP
    /// TCP_NODELAY; IPPROTO_IP IP_MULTICAST_TTL (0-255), IP_MULTICAST_LOOP. Keepalive applies to connections opened
    /// after it is set; SO_REUSEADDR to a UDP socket bound after it is set.
    /// </summary>
    public void SetSockOpt(int level, int option, int value)
    {
        lock (_gate)
        {
            ThrowIfClosed();
            bool on = value != 0;
            switch ((level, option))
            {
                case (SOL_SOCKET, SO_REUSEADDR): _reuseAddress = on; break;
                case (SOL_SOCKET, SO_BROADCAST):
                    _broadcast = on;
                    if (_udp is not null) _udp.AllowBroadcast = on;
                    break;
                case (SOL_SOCKET, SO_KEEPALIVE): _keepAlive = on; break;
                case (IPPROTO_IP, IP_MULTICAST_TTL):
                    if (value is < 0 or > 255) throw new OSError(Errno.EINVAL, "IP_MULTICAST_TTL takes 0 to 255");
                    _multicastTtl = (byte)value;
                    if (_udp is not null) _udp.MulticastTimeToLive = _multicastTtl;
                    break;
                case (IPPROTO_IP, IP_MULTICAST_LOOP):
                    _multicastLoop = on;
                    if (_udp is not null) _udp.MulticastLoop = on;
                    break;
                case (IPPROTO_TCP, TCP_NODELAY):
                    _noDelay = on;
                    if (_connection is not null) _connection.NoDelay = on;
                    break;
                default: throw new OSError(Errno.EINVAL, $"option {option} at level {level}");
            }
        }
    }

    /// <summary>
    /// <c>setsockopt(level, option, bytes)</c>. IPPROTO_IP IP_ADD_MEMBERSHIP / IP_DROP_MEMBERSHIP: 8 bytes, the group's
    /// address then the interface's (0.0.0.0 or ours), as modlwip reads <c>inet_pton(group) + inet_pton(iface)</c>.
    /// IPPROTO_IPV6 IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP: 20 bytes, the group's 16 then the interface index (0 or 1, 4
    /// bytes in host order, <c>struct ipv6_mreq</c>). Joins are counted per group across sockets (the stack reports a
    /// group once, and its leave when the last socket drops it or closes). Errors as Linux: EINVAL for a wrong length
    /// or a group that is not multicast, ENODEV for another interface, EADDRINUSE for a second join on one socket,
    /// EADDRNOTAVAIL for dropping a group the socket is not in, ENOBUFS when the stack's group table is full. Any other
    /// option takes the bytes as a little-endian integer.
    /// </summary>
    public void SetSockOpt(int level, int option, ReadOnlySpan<byte> value)
    {
        bool v4 = level == IPPROTO_IP && option is IP_ADD_MEMBERSHIP or IP_DROP_MEMBERSHIP;
        bool v6 = level == IPPROTO_IPV6 && option is IPV6_JOIN_GROUP or IPV6_LEAVE_GROUP;
        if (!v4 && !v6)
        {
            SetSockOpt(level, option, value.Length >= 4 ? System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(value) : value.Length > 0 ? value[0] : 0);
            return;
        }
        IpAddress group;
        if (v4)
        {
            // The Pico raises ValueError for any length but 8 (modlwip checks sizeof(ip_addr_t) * 2); EINVAL here.
            if (value.Length != 8) throw new OSError(Errno.EINVAL, "ip_mreq takes 8 bytes: group, interface address");
            var g = Ipv4Address.Read(value);
            var iface = Ipv4Address.Read(value[4..]);
            if (!g.IsMulticast) throw new OSError(Errno.EINVAL, $"{g} is not a multicast group");
            if (!iface.IsAny && iface != _owner.Stack.Address) throw new OSError(Errno.ENODEV, $"no interface with address {iface}");
            group = g;
        }
        else
        {
            if (value.Length != 20) throw new OSError(Errno.EINVAL, "ipv6_mreq takes 20 bytes: group, interface index");
            var g = Ipv6Address.Read(value);
            uint index = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(value[16..]);
            if (!g.IsMulticast) throw new OSError(Errno.EINVAL, $"{g} is not a multicast group");
            if (index > 1) throw new OSError(Errno.ENODEV, $"no interface with index {index}");
            if (!_owner.Stack.Ipv6Enabled) throw new OSError(Errno.EAFNOSUPPORT, "this stack has IPv6 off");
            group = g;
        }
        bool join = option is IP_ADD_MEMBERSHIP or IPV6_JOIN_GROUP;
        lock (_gate)
        {
            ThrowIfClosed();
            _memberships ??= [];
            if (join)
            {
                if (_memberships.Contains(group)) throw new OSError(Errno.EADDRINUSE, $"already in {group}");
                bool joined = group.IsIpv4 ? _owner.Stack.TryJoinMulticast(group.AsIpv4) : _owner.Stack.TryJoinMulticast(group.AsIpv6);
                if (!joined) throw new OSError(Errno.ENOBUFS, "the stack's multicast group table is full");
                _memberships.Add(group);
            }
            else
            {
                if (!_memberships.Remove(group)) throw new OSError(Errno.EADDRNOTAVAIL, $"not in {group}");
                LeaveGroup(group);
            }
            _driver.Kick();
        }
    }

    private void LeaveGroup(IpAddress group)
    {
        if (group.IsIpv4) _owner.Stack.TryLeaveMulticast(group.AsIpv4);
        else _owner.Stack.LeaveMulticast(group.AsIpv6);
    }

    // ------------------------------------------------------------------ bind, listen, accept, connect

    /// <summary><c>bind(address)</c>: the local (ip, port); port 0 picks a free ephemeral port. EADDRINUSE when taken, unless SO_REUSEADDR and its connections are all in TIME-WAIT.</summary>
    public void Bind(SockAddr address)
    {
        lock (_gate)
        {
            ThrowIfClosed();
            if (_bound || _connection is not null || _udp is not null) throw new OSError(Errno.EINVAL, "already bound");
            if (!address.Address.IsAny && !address.Address.IsMulticast && !IsOwnAddress(address.Address))
                throw new OSError(Errno.EADDRNOTAVAIL, $"{address.Address} is not this stack's address");
            switch (Type)
            {
                case SOCK_STREAM:
                    ushort port = (ushort)address.Port;
                    if (port == 0) port = PickTcpPort();
                    else if (_owner.BoundTcpPorts.Contains(port) || _owner.Stack.Tcp.IsLocalPortInUse(port, _reuseAddress))
                        throw new OSError(Errno.EADDRINUSE);
                    _owner.BoundTcpPorts.Add(port);
                    _boundPort = port;
                    break;
                case SOCK_DGRAM:
                    OpenUdp((ushort)address.Port, address.Address.IsMulticast ? AnyAddress : address.Address);
                    _boundPort = _udp!.LocalPort;
                    break;
                default:
                    break;
            }
            _boundAddress = address.Address;
            _bound = true;
        }
    }

    private ushort PickTcpPort()
    {
        var o = _owner.Options;
        int count = o.EphemeralPortLast - o.EphemeralPortFirst + 1;
        int start = (int)(_owner.Stack.Random.NextUInt32() % (uint)count);   // the stack's random source: seeded in tests
        for (int i = 0; i < count; i++)
        {
            var port = (ushort)(o.EphemeralPortFirst + (start + i) % count);
            if (!_owner.BoundTcpPorts.Contains(port) && !_owner.Stack.Tcp.IsLocalPortInUse(port, false)) return port;
        }
        throw new OSError(Errno.EADDRINUSE, "no free port");
    }

    private bool IsOwnAddress(IpAddress address)
        => address.IsIpv4 ? address.AsIpv4 == _owner.Stack.Address : _owner.Stack.Ipv6Addresses.Any(a => a.Address == address.AsIpv6);

    // '' binds both families (lwIP's IPADDR_TYPE_ANY) when the stack speaks IPv6; an AF_INET socket of an IPv4-only
    // stack, or one bound to 0.0.0.0, takes IPv4 only.
    private IpAddress AnyAddress => _owner.Stack.Ipv6Enabled ? IpAddress.Any : IpAddress.AnyIpv4;

    private void OpenUdp(ushort port, IpAddress local)
    {
        if (local == IpAddress.Any) local = AnyAddress;
        var error = _owner.Stack.OpenUdp(port, local, _reuseAddress, out var endpoint);
        if (error != NetError.None) throw new OSError(Errno.FromNetError(error));
        _udp = endpoint!;
        _udp.AllowBroadcast = _broadcast;
        _udp.MulticastTimeToLive = _multicastTtl;
        _udp.MulticastLoop = _multicastLoop;
        _udp.Ready = _onUdpReady;
    }

    private void EnsureUdp()
    {
        if (_udp is null) OpenUdp(0, Family == AF_INET6 ? IpAddress.Any : IpAddress.AnyIpv4);
    }

    /// <summary><c>listen([backlog])</c>: a bound TCP socket starts accepting connections (an unbound one listens on a free port).</summary>
    public void Listen(int backlog = 5)
    {
        lock (_gate)
        {
            ThrowIfClosed();
            if (Type != SOCK_STREAM) throw new OSError(Errno.EOPNOTSUPP);
            if (_connection is not null) throw new OSError(Errno.EINVAL, "connected");
            if (_listener is not null) return;
            if (!_bound)
            {
                _boundPort = PickTcpPort();
                _owner.BoundTcpPorts.Add(_boundPort);
                _bound = true;
            }
            if (_owner.Stack.Tcp.IsListening(_boundPort)) throw new OSError(Errno.EADDRINUSE);
            _listener = _owner.Stack.ListenTcp(_boundPort, Math.Max(1, backlog), ConnectionOptions());
            _listener.Ready = _onListenerReady;
        }
    }

    private TcpConnectionOptions? ConnectionOptions() => _keepAlive ? _owner.Options.Tcp with { KeepAlive = true } : null;

    /// <summary><c>accept()</c>: the next connection and its peer's address; blocks (or EAGAIN / ETIMEDOUT) until one arrives.</summary>
    public (Socket Socket, SockAddr Address) Accept()
    {
        lock (_gate)
        {
            var deadline = Deadline();
            while (true)
            {
                if (TryAccept(out var accepted)) return accepted;
                BlockOrRaise(deadline);
            }
        }
    }

    private bool TryAccept(out (Socket, SockAddr) accepted)
    {
        ThrowIfClosed();
        if (_listener is null) throw new OSError(Errno.EINVAL, "not listening");
        if (_listener.TryAccept(out var c))
        {
            var socket = new Socket(_owner, Family, SOCK_STREAM, Proto, c);
            socket._noDelay = c.NoDelay = _noDelay;
            accepted = (socket, new SockAddr(c.RemoteAddress, c.RemotePort));
            return true;
        }
        accepted = default;
        return false;
    }

    /// <summary>
    /// <c>connect(address)</c> with the address as Python code holds it: <c>s.Connect(ai[0][^1])</c> passes the
    /// sockaddr of a <c>getaddrinfo</c> entry (typed <see cref="object"/>, as the tuple's items are) without a cast.
    /// </summary>
    public void Connect(object address) => Connect(SockAddr.FromObject(address));

    /// <summary><c>bind(address)</c> with the address as an object (see <see cref="Connect(object)"/>).</summary>
    public void Bind(object address) => Bind(SockAddr.FromObject(address));

    /// <summary>
    /// <c>connect(address)</c>. TCP: blocks until connected (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH); non-blocking it
    /// raises EINPROGRESS and the socket becomes writable in a <see cref="Poller"/> once connected. UDP: sets the
    /// peer (only its datagrams are received; <see cref="Send(ReadOnlySpan{byte})"/> goes to it).
    /// </summary>
    public void Connect(SockAddr address)
    {
        lock (_gate)
        {
            ThrowIfClosed();
            if (Type == SOCK_DGRAM)
            {
                EnsureUdp();
                _udp!.Peer = (address.Address, (ushort)address.Port);
                return;
            }
            if (Type == SOCK_RAW)
            {
                _rawPeer = address;
                return;
            }
            if (!StartConnect(address)) throw new OSError(Errno.EINPROGRESS);
            var deadline = Deadline();
            while (!ConnectFinished())
            {
                if (!_driver.WaitOrRaise(deadline))
                {
                    _connection!.Abort();
                    _errorReported = true;
                    throw new OSError(Errno.ETIMEDOUT);
                }
            }
        }
    }

    // Under the gate: starts a TCP connect; false when the socket is non-blocking (the caller raises EINPROGRESS).
    private bool StartConnect(SockAddr address)
    {
        if (_listener is not null) throw new OSError(Errno.EINVAL, "listening");
        if (_connection is { } existing)
        {
            if (existing.State is TcpState.SynSent or TcpState.SynReceived)
            {
                if (NonBlocking) throw new OSError(Errno.EALREADY);
                return true;
            }
            if (existing.State == TcpState.Closed) ConnectFinished();   // raises the failure once
            throw new OSError(Errno.EISCONN);
        }
        if (!address.Address.IsIpv4 && !_owner.Stack.Ipv6Enabled) throw new OSError(Errno.ENETUNREACH, "this stack has IPv6 off");
        if (_owner.Stack.SourceAddressFor(address.Address).IsAny) throw new OSError(Errno.ENETUNREACH, "the interface has no address");
        if (address.Address.IsAny || address.Port == 0) throw new OSError(Errno.EINVAL, $"cannot connect to {address}");
        try
        {
            _connection = _owner.Stack.ConnectTcp(address.Address, (ushort)address.Port, ConnectionOptions(), _boundPort);
        }
        catch (ConnectionLimitException e)
        {
            throw new OSError(Errno.ENOMEM, e.Message);   // as lwIP (and so the Pico) when no TCP PCB is free
        }
        catch (InvalidOperationException e)
        {
            throw new OSError(Errno.EADDRINUSE, e.Message);
        }
        _connection.Ready = _onConnectionReady;
        _connection.NoDelay = _noDelay;
        _driver.Kick();
        return !NonBlocking;
    }

    // Under the gate: true once connected; raises the failure (once) when the connect failed; false while in progress.
    private bool ConnectFinished()
    {
        var c = _connection!;
        switch (c.State)
        {
            case TcpState.SynSent or TcpState.SynReceived:
                return false;
            case TcpState.Closed:
                if (_errorReported) throw new OSError(Errno.ECONNABORTED);
                _errorReported = true;
                throw new OSError(c.Error == NetError.None ? Errno.ECONNREFUSED : Errno.FromNetError(c.Error));
            default:
                return true;
        }
    }

    // ------------------------------------------------------------------ close

    /// <summary><c>close()</c>: TCP sends what is queued then FIN (a reset when unread data is left, RFC 2525); wakes any thread blocked on the socket with EBADF.</summary>
    public void Close()
    {
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            _connection?.Close();
            _listener?.Close();
            _udp?.Close();
            if (_memberships is not null)
            {
                foreach (var group in _memberships) LeaveGroup(group);   // as Linux: closing drops the socket's groups
                _memberships.Clear();
            }
            if (_raw is not null) _owner.CloseRaw(this);
            if (Type == SOCK_STREAM && _bound) _owner.BoundTcpPorts.Remove(_boundPort);
            OnReady();
            _driver.Kick();
            _driver.WakeAll();
        }
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose() => Close();

    /// <summary>The local address (<c>getsockname</c>, not on the Pico).</summary>
    public SockAddr LocalAddress
    {
        get
        {
            lock (_gate)
            {
                if (_connection is not null) return new SockAddr(_connection.LocalAddress.IsAny ? _owner.Stack.SourceAddressFor(_connection.RemoteAddress) : _connection.LocalAddress, _connection.LocalPort);
                if (_udp is not null) return new SockAddr(_udp.LocalAddress, _udp.LocalPort);
                return new SockAddr(_boundAddress, _boundPort);
            }
        }
    }

    /// <summary>A one-line description, as MicroPython prints a socket.</summary>
    public override string ToString()
    {
        lock (_gate)
            return $"<socket state={(_closed ? "closed" : _listener is not null ? "listening" : _connection?.State.ToString() ?? (_udp is not null ? "udp" : "new"))} timeout={(_timeout is TimeSpan t ? t.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) : "None")} type={Type}>";
    }
}
