using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Sockets;

public sealed partial class Socket
{
    // ------------------------------------------------------------------ receive

    /// <summary>
    /// <c>recv(bufsize)</c> into <paramref name="buffer"/>: the count received, 0 at end of stream (after the peer's FIN,
    /// and after a reset once ECONNRESET was raised). Flags: MSG_PEEK, MSG_DONTWAIT. Allocates nothing.
    /// </summary>
    public int Recv(Span<byte> buffer, int flags = 0)
    {
        bool peek = (flags & MSG_PEEK) != 0, dontWait = (flags & MSG_DONTWAIT) != 0;
        lock (_gate)
        {
            TimeSpan? deadline = null;
            bool timed = false;
            while (true)
            {
                int n = TryReceive(buffer, peek, out _);
                if (n >= 0) return n;
                if (!timed) { deadline = Deadline(); timed = true; }
                BlockOrRaise(deadline, dontWait);
            }
        }
    }

    /// <summary><c>recv(bufsize)</c>: up to <paramref name="bufsize"/> bytes; empty at end of stream.</summary>
    public byte[] Recv(int bufsize, int flags = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bufsize);
        var buffer = new byte[bufsize];
        int n = Recv(buffer, flags);
        return n == buffer.Length ? buffer : buffer.AsSpan(0, n).ToArray();
    }

    /// <summary><c>recvfrom(bufsize)</c> into <paramref name="buffer"/>: the count and the sender's address. Allocates nothing.</summary>
    public int RecvFrom(Span<byte> buffer, out SockAddr address, int flags = 0)
    {
        bool peek = (flags & MSG_PEEK) != 0, dontWait = (flags & MSG_DONTWAIT) != 0;
        lock (_gate)
        {
            TimeSpan? deadline = null;
            bool timed = false;
            while (true)
            {
                int n = TryReceive(buffer, peek, out address);
                if (n >= 0) return n;
                if (!timed) { deadline = Deadline(); timed = true; }
                BlockOrRaise(deadline, dontWait);
            }
        }
    }

    /// <summary><c>recvfrom(bufsize)</c>: (bytes, (ip, port)).</summary>
    public (byte[] Data, SockAddr Address) RecvFrom(int bufsize, int flags = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bufsize);
        var buffer = new byte[bufsize];
        int n = RecvFrom(buffer, out var address, flags);
        return (n == buffer.Length ? buffer : buffer.AsSpan(0, n).ToArray(), address);
    }

    // Under the gate: bytes received (>= 0), or -1 when the caller would have to wait. Raises errors.
    private int TryReceive(Span<byte> buffer, bool peek, out SockAddr from)
    {
        ThrowIfClosed();
        from = default;
        switch (Type)
        {
            case SOCK_STREAM:
            {
                var c = _connection ?? throw new OSError(Errno.ENOTCONN);
                if (c.State is TcpState.SynSent or TcpState.SynReceived) return -1;
                from = new SockAddr(c.RemoteAddress, c.RemotePort);
                int n = c.Receive(buffer, peek);
                if (n > 0)
                {
                    if (!peek && _owner.Stack.Tcp.HasPendingOutput) _driver.Kick();   // a window update is due
                    return n;
                }
                if (n == 0) return 0;
                if (c.State == TcpState.Closed)
                {
                    // RFC 9293 3.10.7.4 / POSIX: a reset (or a timeout) is reported once; after it, end of stream.
                    if (c.Error != NetError.None && !_errorReported)
                    {
                        _errorReported = true;
                        throw new OSError(Errno.FromNetError(c.Error));
                    }
                    return 0;
                }
                return -1;
            }
            case SOCK_DGRAM:
            {
                if (_udp is null) return -1;
                int n = _udp.Receive(buffer, out var address, out ushort port, peek);
                if (n >= 0)
                {
                    from = new SockAddr(address, port);
                    return n;
                }
                var error = _udp.TakeError();
                if (error != NetError.None) throw new OSError(Errno.FromNetError(error));
                return -1;
            }
            default:
            {
                int n = _raw!.TryDequeue(buffer, out UInt128 address, out _, peek);
                if (n < 0) return -1;
                from = new SockAddr(IpAddress.FromValue(address), 0);
                return n;
            }
        }
    }

    internal void DeliverRaw(ReadOnlySpan<byte> packet, IpAddress source)
    {
        if (_closed || _raw is null) return;
        if (_rawPeer is SockAddr peer && !peer.Address.IsAny && peer.Address != source) return;
        if (_raw.TryEnqueue(source.Value, 0, packet)) OnReady();
    }

    // ------------------------------------------------------------------ send

    /// <summary>
    /// <c>send(bytes)</c>: queues what fits and returns the count (blocks until at least one byte fits). ENOTCONN on an
    /// unconnected socket; EPIPE once the connection is closed for sending; ECONNRESET once after a reset. UDP sends
    /// one datagram to the connected peer. Allocates nothing.
    /// </summary>
    public int Send(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            TimeSpan? deadline = null;
            bool timed = false;
            while (true)
            {
                int n = TrySend(data);
                if (n >= 0) return n;
                if (!timed) { deadline = Deadline(); timed = true; }
                BlockOrRaise(deadline);
            }
        }
    }

    /// <summary><c>sendall(bytes)</c>: sends everything, blocking as needed (a timeout raises ETIMEDOUT, the bytes sent so far stay sent).</summary>
    public void SendAll(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            var deadline = Deadline();
            while (!data.IsEmpty)
            {
                int n = TrySend(data);
                if (n >= 0) { data = data[n..]; continue; }
                BlockOrRaise(deadline);
            }
        }
    }

    // Under the gate: bytes taken (>= 0), or -1 when the caller would have to wait.
    private int TrySend(ReadOnlySpan<byte> data)
    {
        ThrowIfClosed();
        switch (Type)
        {
            case SOCK_STREAM:
            {
                var c = _connection ?? throw new OSError(Errno.ENOTCONN);
                switch (c.State)
                {
                    case TcpState.SynSent or TcpState.SynReceived:
                        return -1;
                    case TcpState.Closed:
                        if (c.Error != NetError.None && !_errorReported)
                        {
                            _errorReported = true;
                            throw new OSError(Errno.FromNetError(c.Error));
                        }
                        throw new OSError(Errno.EPIPE);
                }
                if (!c.IsSendOpen) throw new OSError(Errno.EPIPE);
                if (data.IsEmpty) return 0;
                int n = c.Send(data);
                if (n == 0) return -1;
                _driver.Kick();
                return n;
            }
            case SOCK_DGRAM:
            {
                if (_udp?.Peer is not { } peer) throw new OSError(Errno.ENOTCONN);
                SendDatagram(data, new SockAddr(peer.Address, peer.Port));
                return data.Length;
            }
            default:
                if (_rawPeer is not SockAddr rawPeer) throw new OSError(Errno.ENOTCONN);
                SendDatagram(data, rawPeer);
                return data.Length;
        }
    }

    /// <summary><c>sendto(bytes, address)</c>: one UDP datagram (or raw ICMP message) to <paramref name="address"/>; an unbound UDP socket takes a free port first.</summary>
    public int SendTo(ReadOnlySpan<byte> data, object address) => SendTo(data, SockAddr.FromObject(address));

    /// <summary><c>sendto(bytes, address)</c> (see the overload taking a <see cref="SockAddr"/>).</summary>
    public int SendTo(ReadOnlySpan<byte> data, SockAddr address)
    {
        lock (_gate)
        {
            ThrowIfClosed();
            if (Type == SOCK_STREAM) throw new OSError(Errno.EOPNOTSUPP, "sendto on a stream socket");
            SendDatagram(data, address);
            return data.Length;
        }
    }

    private void SendDatagram(ReadOnlySpan<byte> data, SockAddr to)
    {
        NetError error;
        if (Type == SOCK_DGRAM)
        {
            EnsureUdp();
            var pending = _udp!.TakeError();
            if (pending != NetError.None) throw new OSError(Errno.FromNetError(pending));
            error = _udp.SendTo(data, to.Address, (ushort)to.Port);
        }
        else
        {
            if (data.Length > UdpEndpointLimit) throw new OSError(Errno.EMSGSIZE);
            error = _owner.Stack.SendRawIcmp(data, to.Address, _driver.Now);
        }
        if (error != NetError.None) throw new OSError(Errno.FromNetError(error));
        _driver.Kick();
    }

    private const int UdpEndpointLimit = Transport.Udp.UdpEndpoint.MaximumPayload;
}
