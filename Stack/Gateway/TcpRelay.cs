using System.Buffers;
using System.Net.Sockets;
using TcpIpSharp.Linux.Native;
using TcpIpSharp.Transport.Tcp;

#pragma warning disable CA1416 // the gateway's host sockets are Linux's (epoll): GatewayHost.Start refuses other platforms

namespace TcpIpSharp.Gateway;

/// <summary>
/// One relayed TCP flow: the stack's connection with the guest on one side, a host <see cref="Socket"/> on the other,
/// and the stack's thread moving bytes between them with non-blocking calls on the socket.
/// </summary>
/// <remarks>
/// <para>The stack's thread (under the driver's gate) owns the connection and the socket and <see cref="Pump"/>s: up,
/// it reads guest bytes into the flow's up buffer and <c>send</c>s them to the socket (what the socket does not take
/// waits in the buffer until the socket is writable again); down, it <c>recv</c>s from the socket at most as much as
/// the connection's send ring has room for, into the gateway's one down buffer, and writes it all into the ring. The
/// <see cref="HostPoller"/>'s thread says when a socket became readable or writable (<see cref="Readable"/>,
/// <see cref="Writable"/>, edge-triggered: a flag is cleared before the call that may find nothing, so an edge after it
/// is never lost) and queues the flow for the stack's thread; the connection's <c>Ready</c> marks it too.</para>
/// <para>Back-pressure follows: a slow host socket keeps the up buffer full, the stack stops reading the connection,
/// its receive ring fills and the window it advertises closes; a slow guest keeps the send ring full, the stack stops
/// receiving from the socket, and the host socket's kernel window closes. A flow holds at most its two rings and its up
/// buffers (two past 1 MB up) and down buffer.</para>
/// <para>The direct relay's <c>socket</c> and non-blocking <c>connect</c> run on the gateway's connect thread
/// (<see cref="HostPoller.QueueConnect"/>), which hands the socket over; the stack's thread watches it and takes the
/// end of the handshake from epoll. A rule's connector and SOCKS5 run on the thread pool and hand the connected
/// socket over the same way.</para>
/// </remarks>
internal sealed class TcpRelay : PumpedFlow
{
    private enum Phase { Connecting, Open, Done }

    private static readonly object Ended = new();   // _handoff once the flow has ended: a late connector's socket is closed

    private readonly GatewayHost _host;
    private readonly TcpConnection _guest;
    private readonly Func<GatewayFlow, CancellationToken, ValueTask<Socket?>>? _connector;   // null: connect directly here
    private Socket? _socket;
    private int _fd = -1;
    private object? _handoff;              // a connector's socket, from the thread pool; Ended once the flow has ended
    private CancellationTokenSource? _cancel;
    private byte[]? _up;
    private int _upCount, _upOffset;       // bytes of _up for the socket, and how many of them it took
    private Phase _phase;
    private volatile int _connected;       // a connector's result: 0 connecting, 1 connected, -1 failed
    private SocketError _connectError;     // why it failed (written before _connected)
    private Net.UnreachableReason? _proxyRefusal;   // the ICMP error a SOCKS5 proxy's reply stands for (written before _connected)
    private bool _inProgress;              // the handed socket's connect had not finished (written before _connected)
    private bool _awaitingConnect;         // the stack's: watching for the end of that handshake
    private TimeSpan _connectDeadline;
    private bool _upEnd, _upDone;          // the guest's FIN read; carried to the socket (shutdown)
    private bool _hostEnd, _finToGuest;    // the socket's end of stream; carried to the guest
    private int _hostErrno;                // the socket failed (a reset, or another error)
    internal int Readable, Writable;       // set by the poller's thread, cleared by the stack's before a call
    internal int Slot = -1;                // the poller's
    internal ulong PollToken;              // the poller's
    internal int Queued;                   // 1 while in the host's wake queue
    // A long download: the host socket's receives move to a thread-pool task (BulkThreshold) into a buffer of the flow's.
    private long _downTotal;               // bytes received inline so far
    private bool _bulk;                    // the stack's: the task receives from now on
    private byte[]? _down;                 // the task's buffer (ownership by _downCount, as _up's by _upCount)
    private int _downCount;                // bytes in _down for the stack; 0: the task's to fill
    private int _downOffset;               // the stack's: how much of _down went into the send ring
    private RelaySignal? _downSignal;      // the stack's thread tells the task that _down is empty
    private volatile bool _bulkEnd;        // the task saw the host's end of stream
    private volatile int _bulkErrno;       // the task saw the socket fail (ECONNRESET for a reset)
    private volatile bool _closing;        // the flow has ended: the task stops
    private int _owners = 1;               // of the buffers: the stack's thread, and each bulk task while it runs
    private long _upTotal;                 // bytes sent inline so far
    private bool _upBulk;                  // the stack's: a task sends from now on
    private RelaySignal? _upSignal;        // the stack's thread tells the task that a buffer holds bytes (or the guest's FIN)
    // A long upload's two buffers, _up and _up2, filled by the stack's thread in turn and handed to the task whole: each
    // one's count (_upCount, _upCount2) non-zero is the task's, zero the stack's. The stack's thread fills one while the
    // task sends the other, so the guest's bytes keep leaving the receive ring (its window open) during a send.
    private byte[]? _up2;
    private int _upCount2;
    private int _upFillIndex;              // the stack's: the buffer it fills (0: _up, 1: _up2)
    private int _upFill;                   // the stack's: bytes in that buffer not yet handed over
    private volatile bool _upEndHanded;    // the stack's thread has handed every byte before the guest's FIN
    private volatile bool _bulkUpDone;     // the task has carried the guest's FIN (shutdown)

    /// <summary>
    /// Bytes a flow receives on the stack's thread before its receives move to a task of their own: short flows (a
    /// request and its answer) cost no thread hand-off; a long download gets a second core for the receive's copy and
    /// the host side's acknowledgements, as before (the stack's thread alone gave about 0.6 of the throughput).
    /// </summary>
    internal const int BulkThreshold = 1024 * 1024;

    public TcpRelay(GatewayHost host, TcpConnection guest, GatewayFlow flow, Func<GatewayFlow, CancellationToken, ValueTask<Socket?>>? connector)
    {
        _host = host;
        _guest = guest;
        Flow = flow;
        _connector = connector;
    }

    public GatewayFlow Flow { get; }
    public bool IsConnecting => _phase == Phase.Connecting;
    public TimeSpan ConnectDeadline => _connectDeadline;

    /// <summary>Starts the host connection: on the gateway's connect thread (non-blocking), or through the connector on the thread pool.</summary>
    public void Start(TimeSpan now)
    {
        _connectDeadline = now + _host.Options.ConnectTimeout;
        if (_connector is null)
        {
            // socket() and connect() on the gateway's connect thread: the handshake with a nearby host runs inside the
            // connect call (the kernel's work for both ends), a large share of a short flow's cost, and is done there in
            // parallel with the stack's thread, which hears of the end of the handshake from epoll.
            _host.Poller.QueueConnect(this);
            return;
        }
        // On the thread pool: a rule's connector may take its time; the stack's thread never waits for it.
        _cancel = new CancellationTokenSource();
        ThreadPool.UnsafeQueueUserWorkItem(static relay => _ = relay.ConnectAsync(), this, preferLocal: false);
    }

    /// <summary>On the gateway's connect thread: a non-blocking socket and connect, handed to the stack's thread.</summary>
    internal void ConnectNow()
    {
        if (Volatile.Read(ref _handoff) == Ended) return;   // the guest gave up while this waited
        Socket socket;
        int error;
        try
        {
            socket = new Socket(Flow.Destination.IsIpv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp)
            {
                Blocking = false,
                NoDelay = true,
            };
        }
        catch (SocketException e)
        {
            _connectError = e.SocketErrorCode;
            ConnectFailed();
            return;
        }
        error = HostPoller.Connect((int)socket.SafeHandle.DangerousGetHandle(), Flow.Destination, Flow.DestinationPort);
        if (error != 0 && error != Libc.EINPROGRESS)
        {
            socket.Dispose();
            _connectError = HostPoller.ToSocketError(error);
            ConnectFailed();
            return;
        }
        Handoff(socket, inProgress: error != 0);
    }

    // From the connect thread or a connector: the socket goes to the stack's thread, unless the flow has ended.
    private void Handoff(Socket socket, bool inProgress)
    {
        _inProgress = inProgress;   // read by the stack's thread after _connected (volatile)
        if (Interlocked.CompareExchange(ref _handoff, socket, null) is not null) { socket.Dispose(); return; }   // the flow ended meanwhile
        _connected = 1;
        _host.Wake(this);
    }

    private void ConnectFailed()
    {
        if (Volatile.Read(ref _handoff) == Ended) return;   // the stack's side ended it first (the guest gave up)
        Interlocked.Increment(ref _host.Statistics._connectFailures);
        _connected = -1;
        _host.Wake(this);
    }

    // ------------------------------------------------------------------ the stack's thread

    /// <summary>Moves what can move between the connection and the socket; on the stack's thread, under the gate.</summary>
    public override void Pump(TimeSpan now)
    {
        if (_phase == Phase.Done) return;
        var guest = _guest;
        if (_phase == Phase.Connecting)
        {
            if (guest.State == TcpState.Closed) { Finish(resetHost: true); return; }   // the guest gave up (a reset)
            if (!Connected(now)) return;
            guest.ReleaseSynAck(now);
            _phase = Phase.Open;
            guest.DirectReceiver = TakeFromFrame;
            Interlocked.Increment(ref _host.Statistics._tcpOpened);
            _host.OnConnected(this);
        }
        bool more = true;   // still moving after the last round: pumped again (no edge would come for what waits)
        for (int round = 0; round < 8 && more; round++)
        {
            bool moved = false;
            if (_bulkErrno != 0) { _hostErrno = _bulkErrno; break; }
            // Up: guest -> socket, through the flow's buffer.
            if (_upBulk)
            {
                if (PumpUpBulk(guest)) moved = true;
                if (_bulkUpDone && !_upDone) { _upDone = true; moved = true; }
            }
            else if (_upCount == 0 && !_upEnd)
            {
                int n = guest.Receive(_up);
                if (n > 0) { _upCount = n; _upOffset = 0; }
                else if (n == 0) _upEnd = true;   // the guest's FIN, after all its data
            }
            if (!_upBulk && _upCount > 0 && Volatile.Read(ref Writable) != 0)
            {
                Volatile.Write(ref Writable, 0);
                int sent = HostPoller.Send(_fd, _up.AsSpan(_upOffset, _upCount - _upOffset));
                if (sent > 0)
                {
                    _upOffset += sent;
                    Interlocked.Add(ref _host.Statistics._bytesUp, sent);
                    if (_upOffset == _upCount)
                    {
                        _upCount = 0;
                        moved = true;
                        Volatile.Write(ref Writable, 1);
                        if ((_upTotal += _upOffset) >= BulkThreshold) StartUpBulk();
                    }
                    // else the socket's buffer is full: it says when it has room (EPOLLOUT)
                }
                else if (sent != -Libc.EAGAIN) { _hostErrno = -sent; break; }
            }
            if (!_upBulk && _upEnd && _upCount == 0 && !_upDone)
            {
                // Half-close carried across; when the host has ended too, the close that ends the flow below sends the FIN.
                int error = _hostEnd ? 0 : HostPoller.ShutdownSend(_fd);
                if (error != 0) { _hostErrno = error; break; }
                _upDone = true;
            }
            // Down: socket -> guest, no more than the send ring has room for.
            if (_bulk)
            {
                if (PumpBulk(guest)) moved = true;
            }
            else if (!_hostEnd && Volatile.Read(ref Readable) != 0 && guest.GetSendSpan(_host.Options.RelayBufferSize) is { IsEmpty: false } room)
            {
                Volatile.Write(ref Readable, 0);
                int n = HostPoller.Receive(_fd, room);   // straight into the send ring
                if (n > 0)
                {
                    guest.CommitSend(n);
                    Interlocked.Add(ref _host.Statistics._bytesDown, n);
                    Volatile.Write(ref Readable, 1);   // maybe more (or its end) behind it
                    moved = true;
                    if ((_downTotal += n) >= BulkThreshold) StartBulk();
                }
                else if (n == 0) { _hostEnd = true; moved = true; }
                else if (n != -Libc.EAGAIN) { _hostErrno = -n; break; }
            }
            more = moved;
        }
        if (more && _hostErrno == 0) _host.MarkActive(this);
        if (_hostErrno != 0)
        {
            // The host reset (or failed): the guest gets a reset too (RFC 9293 3.10.5's abort).
            if (_hostErrno != Libc.ECONNRESET) Interlocked.Increment(ref _host.Statistics._relayErrors);
            guest.Abort();
            Interlocked.Increment(ref _host.Statistics._tcpResetsFromHost);
            Finish(resetHost: false);
            return;
        }
        if (_hostEnd && !_finToGuest && guest.IsSendOpen)
        {
            guest.Shutdown();   // the host's FIN, after all its data
            _finToGuest = true;
        }
        if (guest.State == TcpState.Closed && !(_finToGuest && _upEnd))
        {
            // Reset or timed out by the guest before both sides closed: reset the host too.
            Interlocked.Increment(ref _host.Statistics._tcpResetsFromGuest);
            Finish(resetHost: true);
            return;
        }
        if (_finToGuest && _upEnd && _upDone)
        {
            guest.Close();   // both FINs passed: the connection finishes its close in the stack
            Finish(resetHost: false);
        }
    }

    // Up, straight from the frame the TUN lent (TcpConnection.DirectReceiver; called only while the connection's receive
    // ring is empty): a bulk flow's idle task gets the bytes in its buffer, one copy where the ring took two (frame ->
    // ring -> buffer); a flow not yet bulk sends them to the socket from the frame itself. Whatever is not taken goes
    // into the ring and Pump moves it as before, so nothing overtakes bytes already waiting in the buffer.
    private int TakeFromFrame(ReadOnlySpan<byte> data)
    {
        if (_phase != Phase.Open || _upEnd || _hostErrno != 0) return 0;
        if (_upBulk)
        {
            // Into the buffer being filled (the next one too when it fills and the task has the other), the rest to the ring.
            int taken = 0;
            while (taken < data.Length && Volatile.Read(ref UpCount(_upFillIndex)) == 0)
            {
                var buffer = UpBuffer(_upFillIndex);
                int n = Math.Min(data.Length - taken, buffer.Length - _upFill);
                data.Slice(taken, n).CopyTo(buffer.AsSpan(_upFill));
                _upFill += n;
                taken += n;
                if (!HandUp()) break;
            }
            return taken;
        }
        if (_upCount != 0 || Volatile.Read(ref Writable) == 0) return 0;
        Volatile.Write(ref Writable, 0);
        int sent = HostPoller.Send(_fd, data);
        if (sent <= 0)
        {
            // Full (EPOLLOUT says when) or failed: the bytes wait in the ring, and Pump's own send meets the error.
            if (sent != -Libc.EAGAIN) Volatile.Write(ref Writable, 1);
            return 0;
        }
        Interlocked.Add(ref _host.Statistics._bytesUp, sent);
        if (sent == data.Length) Volatile.Write(ref Writable, 1);   // else the socket's buffer is full: EPOLLOUT
        if ((_upTotal += sent) >= BulkThreshold) StartUpBulk();
        return sent;
    }

    // The stack's side of a long upload: the receive ring into the buffer being filled, handed over by HandUp; the guest's
    // FIN passed on once every byte before it is handed.
    private bool PumpUpBulk(TcpConnection guest)
    {
        bool moved = false;
        while (Volatile.Read(ref UpCount(_upFillIndex)) == 0)
        {
            var buffer = UpBuffer(_upFillIndex);
            if (!_upEnd && _upFill < buffer.Length)
            {
                int n = guest.Receive(buffer.AsSpan(_upFill));
                if (n > 0) { _upFill += n; moved = true; }
                else if (n == 0) _upEnd = true;   // the guest's FIN, after all its data
            }
            if (!HandUp()) break;
            moved = true;
        }
        if (_upEnd && _upFill == 0 && !_upEndHanded)
        {
            _upEndHanded = true;   // after the last hand-over: the task shuts the socket's sending side once it has sent all
            _upSignal!.Set();
        }
        return moved;
    }

    // Hands the buffer being filled to the task when it is full, or at once when the task has nothing else to send (its
    // other buffer empty): while the task is busy the hand-overs grow to a whole buffer, and an idle task never waits for
    // bytes the stack's thread holds. False when nothing was handed.
    private bool HandUp()
    {
        if (_upFill == 0) return false;
        if (_upFill < UpBuffer(_upFillIndex).Length && Volatile.Read(ref UpCount(_upFillIndex ^ 1)) != 0) return false;
        Volatile.Write(ref UpCount(_upFillIndex), _upFill);
        _upFill = 0;
        _upFillIndex ^= 1;
        _upSignal!.Set();
        return true;
    }

    /// <summary>Tests: how many of a long upload's two buffers the task holds (0 before the upload is long).</summary>
    internal int UpBuffersHanded => (Volatile.Read(ref _upCount) != 0 && _upBulk ? 1 : 0) + (Volatile.Read(ref _upCount2) != 0 ? 1 : 0);

    private ref int UpCount(int index) => ref index == 0 ? ref _upCount : ref _upCount2;
    private byte[] UpBuffer(int index) => (index == 0 ? _up : _up2)!;

    // The stack's side of a bulk flow: the task's buffer into the send ring; the task's end of stream or failure taken over.
    private bool PumpBulk(TcpConnection guest)
    {
        int down = Volatile.Read(ref _downCount);
        if (down > 0)
        {
            int sent = guest.Send(_down.AsSpan(_downOffset, down - _downOffset));
            _downOffset += sent;
            if (_downOffset < down) return sent > 0;
            _downOffset = 0;
            Volatile.Write(ref _downCount, 0);
            _downSignal!.Set();
            return true;
        }
        if (_bulkEnd && !_hostEnd) { _hostEnd = true; return true; }
        return false;
    }

    private void StartBulk()
    {
        _bulk = true;
        _down = ArrayPool<byte>.Shared.Rent(_host.Options.RelayBufferSize);
        _downSignal = new RelaySignal();
        Interlocked.Increment(ref _owners);
        var socket = _socket!;
        _host.Poller.WatchWritableOnly(this, _fd, _upBulk);
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.relay.ReceiveBulkAsync(state.socket), (relay: this, socket), preferLocal: false);
    }

    // A long upload: sends move to a thread-pool task, so the copy and the host side's receive run beside the stack.
    private void StartUpBulk()
    {
        // The buffer (empty here: every caller has just seen it all sent) grows to a bulk download's size, RelayBufferSize:
        // each hand-off to the task and back costs two wake-ups, so a quarter as many per byte, and a full receive ring's
        // bytes leave it in one hand-off, opening the guest's whole window at once.
        if (_up!.Length < _host.Options.RelayBufferSize)
        {
            ArrayPool<byte>.Shared.Return(_up);
            _up = ArrayPool<byte>.Shared.Rent(_host.Options.RelayBufferSize);
        }
        _up2 = ArrayPool<byte>.Shared.Rent(_up.Length);
        _upBulk = true;
        _upSignal = new RelaySignal();
        Interlocked.Increment(ref _owners);
        _host.Poller.WatchReadableOnly(this, _fd, _bulk);
        var socket = _socket!;
        ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.relay.SendBulkAsync(state.socket), (relay: this, socket), preferLocal: false);
    }

    // A thread-pool task: sends the buffers in the order the stack's thread handed them, and carries the guest's FIN.
    private async Task SendBulkAsync(Socket socket)
    {
        try
        {
            int index = 0;
            while (!_closing)
            {
                bool end = _upEndHanded;   // read before the count: set only after the last hand-over
                int n = Volatile.Read(ref UpCount(index));
                if (n > 0)
                {
                    var buffer = UpBuffer(index);
                    for (int sent = 0; sent < n;)
                        sent += await socket.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None).ConfigureAwait(false);
                    Interlocked.Add(ref _host.Statistics._bytesUp, n);
                    Volatile.Write(ref UpCount(index), 0);
                    index ^= 1;
                    _host.Wake(this);   // the stack's thread may hold a part-filled buffer for an idle task, or wait for one
                    continue;
                }
                if (end)
                {
                    socket.Shutdown(SocketShutdown.Send);   // half-close carried across
                    _bulkUpDone = true;
                    _host.Wake(this);
                    return;
                }
                await _upSignal!.WaitAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (!_closing)
            {
                _bulkErrno = e is SocketException { SocketErrorCode: SocketError.ConnectionReset } ? Libc.ECONNRESET : Libc.EIO;
                _host.Wake(this);
            }
        }
        finally
        {
            LetGo();
        }
    }

    // A thread-pool task: receives into _down when it is empty, hands it to the stack's thread, waits for it to empty.
    private async Task ReceiveBulkAsync(Socket socket)
    {
        try
        {
            while (!_closing)
            {
                int n = await socket.ReceiveAsync(_down.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                if (n == 0) { _bulkEnd = true; _host.Wake(this); return; }
                Interlocked.Add(ref _host.Statistics._bytesDown, n);
                Volatile.Write(ref _downCount, n);
                _host.Wake(this);
                await _downSignal!.WaitAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            if (!_closing)
            {
                _bulkErrno = e is SocketException { SocketErrorCode: SocketError.ConnectionReset } ? Libc.ECONNRESET : Libc.EIO;
                _host.Wake(this);
            }
        }
        finally
        {
            LetGo();
        }
    }

    // The buffers go back to the pool once the stack's thread and every bulk task have let go.
    private void LetGo()
    {
        if (Interlocked.Decrement(ref _owners) != 0) return;
        if (Interlocked.Exchange(ref _up, null) is { } up) ArrayPool<byte>.Shared.Return(up);
        if (Interlocked.Exchange(ref _up2, null) is { } up2) ArrayPool<byte>.Shared.Return(up2);
        if (Interlocked.Exchange(ref _down, null) is { } down) ArrayPool<byte>.Shared.Return(down);
    }

    // Connecting: true once the socket is connected (and watched); refuses the guest on failure or at the deadline.
    private bool Connected(TimeSpan now)
    {
        int state = _connected;
        bool failedHere = false;
        if (state == 1 && _socket is null)
        {
            var socket = (Socket)Interlocked.Exchange(ref _handoff, Ended)!;
            if (_connector is not null) socket.Blocking = false;
            _socket = socket;
            _fd = (int)socket.SafeHandle.DangerousGetHandle();
            if (_host.Poller.Register(this, _fd) is int watch and not 0) { _connectError = HostPoller.ToSocketError(watch); state = -1; failedHere = true; }
            else if (_inProgress)
            {
                // The handshake goes on: writable once it is over, well or badly (to a nearby host often already).
                _awaitingConnect = true;
                if (HostPoller.IsWritableNow(_fd)) Volatile.Write(ref Writable, 1);
            }
            else
            {
                Volatile.Write(ref Readable, 1);   // it may have had bytes before it was watched
                Volatile.Write(ref Writable, 1);
            }
        }
        if (state == 1 && _awaitingConnect)
        {
            if (Volatile.Read(ref Writable) == 0) state = 0;
            else if (HostPoller.PendingError(_fd) is int error and not 0) { _connectError = HostPoller.ToSocketError(error); state = -1; failedHere = true; }
            else _awaitingConnect = false;
        }
        if (state == 0 && now >= _connectDeadline) { _connectError = SocketError.TimedOut; state = -1; failedHere = true; }
        if (state < 0)
        {
            if (failedHere) Interlocked.Increment(ref _host.Statistics._connectFailures);
            Refuse(now);
            return false;
        }
        if (state == 0) return false;
        // The up buffer only once connected: a flood of refused SYNs costs none.
        _up = ArrayPool<byte>.Shared.Rent(_host.Options.UpstreamBufferSize);
        return true;
    }

    // The host could not connect: a closed port (or a failure that says nothing of the path) is a reset for the guest,
    // as the destination's own would be; no route to the host or its network, or no answer within ConnectTimeout, is
    // the ICMP destination unreachable a router would send (host unreachable for a timeout, as a last hop whose ARP or
    // ND fails: RFC 1122 4.2.3.9; Linux ends a SYN-SENT connection on it at once), and a SOCKS5 proxy's refusal the
    // error its reply stands for (Socks5ReplyException.Reason). The error quotes the guest's SYN: its ports and sequence
    // number are what the guest matches.
    private void Refuse(TimeSpan now)
    {
        var guest = _guest;
        Interlocked.Increment(ref _host.Statistics._tcpRefused);
        var reason = _proxyRefusal ?? _connectError switch
        {
            SocketError.HostUnreachable or SocketError.TimedOut => Net.UnreachableReason.Host,
            SocketError.NetworkUnreachable => Net.UnreachableReason.Network,
            _ => (Net.UnreachableReason?)null,
        };
        if (reason is { } r)
        {
            Span<byte> syn = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(syn, Flow.SourcePort);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(syn[2..], Flow.DestinationPort);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(syn[4..], guest.InitialReceiveSequence);
            _host.Internet.SendUnreachable(Flow.Source, Flow.Destination, Wire.IpProtocol.Tcp, syn, Wire.TcpHeader.MinimumSize, r);
            Interlocked.Increment(ref _host.Statistics._icmpErrorsToGuest);
            guest.DropHeld();
        }
        else guest.RefuseHeld(now);
        Finish(resetHost: false);
    }

    /// <summary>Ends the flow: the socket is closed (with a reset when <paramref name="resetHost"/>) and the buffer returned.</summary>
    public void Finish(bool resetHost)
    {
        if (_phase == Phase.Done) return;
        bool wasConnecting = _phase == Phase.Connecting;
        _phase = Phase.Done;
        _guest.Ready = null;
        _guest.DirectReceiver = null;
        _host.Poller.Unregister(this);
        if (_cancel is { } cancel)
        {
            try { cancel.Cancel(); } catch (ObjectDisposedException) { }
        }
        if (Interlocked.Exchange(ref _handoff, Ended) is Socket late) late.Dispose();   // a connector's, not taken yet
        if (_bulk || _upBulk)
        {
            _closing = true;
            _downSignal?.Set();   // a task waiting for the stack's thread stops; one in a receive or send fails on the closed socket
            _upSignal?.Set();
        }
        if (_socket is { } socket)
        {
            if (resetHost)
            {
                try { socket.LingerState = new LingerOption(true, 0); } catch (SocketException) { } catch (ObjectDisposedException) { }
            }
            try { socket.Dispose(); } catch (SocketException) { }
            _socket = null;
            _fd = -1;
        }
        LetGo();
        _host.OnFinished(this, wasConnecting);
    }

    /// <summary>Aborts both sides (the gateway stops).</summary>
    public void Abort()
    {
        if (_phase == Phase.Done) return;
        if (_phase == Phase.Connecting) _guest.RefuseHeld(_guest.State == TcpState.Closed ? default : _host.Now);
        else _guest.Abort();
        Finish(resetHost: true);
    }

    // ------------------------------------------------------------------ a connector (thread pool)

    private async Task ConnectAsync()
    {
        Socket? socket;
        try
        {
            socket = await _connector!(Flow, _cancel!.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // any failure to connect refuses the flow
        catch (Exception e)
#pragma warning restore CA1031
        {
            _connectError = e is SocketException se ? se.SocketErrorCode : SocketError.SocketError;
            if (e is Socks5ReplyException refused) _proxyRefusal = refused.Reason;
            socket = null;
        }
        if (socket is null) { ConnectFailed(); return; }
        socket.NoDelay = true;
        Handoff(socket, inProgress: false);
    }
}
