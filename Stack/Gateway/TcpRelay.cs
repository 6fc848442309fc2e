using System.Buffers;
using System.Net.Sockets;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Gateway;

/// <summary>
/// One relayed TCP flow: the stack's connection with the guest on one side, a host <see cref="Socket"/> on the other,
/// and one buffer each way between them.
/// </summary>
/// <remarks>
/// <para>Two threads, one owner per field. The stack's thread (under the driver's gate) owns the connection and
/// <see cref="Pump"/>s: it moves guest bytes into the up buffer when that is empty, and bytes of the down buffer into
/// the connection's send ring as far as it has room. A task on the thread pool owns the socket: it sends the up buffer
/// and receives into the down buffer when that is empty. Each buffer changes hands through its count (written with
/// <see cref="Volatile"/>): non-zero, it is the socket side's (up) or the stack's (down); zero, the other side's. A
/// side that hands a buffer over wakes the other: the stack's thread sets a <see cref="RelaySignal"/>, a task calls
/// <c>GatewayHost.Wake</c> (a bounded queue of flows and a kick of the driver).</para>
/// <para>Back-pressure follows: a slow host socket keeps the up buffer full, the stack stops reading the connection,
/// its receive ring fills and the window it advertises closes; a slow guest keeps the down buffer full, the task
/// stops receiving, and the host socket's kernel window closes. A flow holds at most its two rings and two buffers.</para>
/// </remarks>
internal sealed class TcpRelay : PumpedFlow
{
    private enum Phase { Connecting, Open, Done }

    private readonly GatewayHost _host;
    private readonly TcpConnection _guest;
    private readonly RelaySignal _upSignal = new(), _downSignal = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly Func<GatewayFlow, CancellationToken, ValueTask<Socket?>> _connector;
    private byte[]? _up, _down;
    private Socket? _socket;
    private volatile Phase _phase;
    private int _upCount;            // bytes in _up for the socket; 0: the stack's to fill
    private int _downCount;          // bytes in _down for the stack; 0: the task's to fill
    private int _downOffset;         // the stack's: how much of _down went into the send ring
    private volatile int _connected; // 0 connecting, 1 connected, -1 failed
    private SocketError _connectError; // why it failed (written before _connected)
    private volatile bool _upEnd;    // the guest's FIN passed to the socket task
    private volatile bool _hostEnd;  // the host closed its side (receive returned 0)
    private volatile bool _hostReset, _upDone, _aborted;
    private bool _finToGuest;
    internal int Queued;             // 1 while in the host's wake queue

    public TcpRelay(GatewayHost host, TcpConnection guest, GatewayFlow flow, Func<GatewayFlow, CancellationToken, ValueTask<Socket?>> connector)
    {
        _host = host;
        _guest = guest;
        Flow = flow;
        _connector = connector;
    }

    public GatewayFlow Flow { get; }
    public bool IsConnecting => _phase == Phase.Connecting;
    public bool IsDone => _phase == Phase.Done;

    /// <summary>Starts the host connection on the thread pool.</summary>
    public void Start(int upBufferSize, int downBufferSize)
    {
        _upBufferSize = upBufferSize;
        _bufferSize = downBufferSize;
        // On the thread pool: a rule's connector may take its time; the stack's thread never waits for it.
        ThreadPool.UnsafeQueueUserWorkItem(static relay => _ = relay.RunAsync(), this, preferLocal: false);
    }

    private int _bufferSize, _upBufferSize;

    // ------------------------------------------------------------------ the stack's thread

    /// <summary>Moves what can move between the connection and the buffers; on the stack's thread, under the gate.</summary>
    public override void Pump(TimeSpan now)
    {
        if (_phase == Phase.Done) return;
        var guest = _guest;
        if (_phase == Phase.Connecting)
        {
            if (guest.State == TcpState.Closed) { Finish(resetHost: true); return; }   // the guest gave up (a reset)
            int connected = _connected;
            if (connected == 0) return;
            if (connected < 0) { Refuse(now); return; }
            guest.ReleaseSynAck(now);
            _phase = Phase.Open;
            Interlocked.Increment(ref _host.Statistics._tcpOpened);
            _host.OnConnected(this);
        }
        if (_hostReset)
        {
            // The host reset (or failed): the guest gets a reset too (RFC 9293 3.10.5's abort).
            guest.Abort();
            Interlocked.Increment(ref _host.Statistics._tcpResetsFromHost);
            Finish(resetHost: false);
            return;
        }
        // Up: guest -> socket, one buffer at a time.
        if (!_upEnd && Volatile.Read(ref _upCount) == 0)
        {
            int n = guest.Receive(_up);
            if (n > 0) { Volatile.Write(ref _upCount, n); _upSignal.Set(); }
            else if (n == 0) { _upEnd = true; _upSignal.Set(); }   // the guest's FIN, after all its data
        }
        // Down: socket -> guest, as far as the send ring has room.
        int down = Volatile.Read(ref _downCount);
        if (down > 0)
        {
            int sent = guest.Send(_down.AsSpan(_downOffset, down - _downOffset));
            _downOffset += sent;
            if (_downOffset == down)
            {
                _downOffset = 0;
                Volatile.Write(ref _downCount, 0);
                _downSignal.Set();
            }
        }
        else if (_hostEnd && !_finToGuest && guest.IsSendOpen)
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

    // The host could not connect: a closed port (or any other failure) is a reset for the guest, as before; no route to
    // the host or its network is the ICMP destination unreachable a router would send (RFC 1122 4.2.3.9: a SYN-SENT
    // guest gives up on it at once), quoting the guest's SYN: its ports and sequence number are what the guest matches.
    private void Refuse(TimeSpan now)
    {
        var guest = _guest;
        Interlocked.Increment(ref _host.Statistics._tcpRefused);
        if (_connectError is SocketError.HostUnreachable or SocketError.NetworkUnreachable)
        {
            Span<byte> syn = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(syn, Flow.SourcePort);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(syn[2..], Flow.DestinationPort);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(syn[4..], guest.InitialReceiveSequence);
            _host.Internet.SendUnreachable(Flow.Source, Flow.Destination, Wire.IpProtocol.Tcp, syn, Wire.TcpHeader.MinimumSize,
                _connectError == SocketError.HostUnreachable ? Net.UnreachableReason.Host : Net.UnreachableReason.Network);
            Interlocked.Increment(ref _host.Statistics._icmpErrorsToGuest);
            guest.DropHeld();
        }
        else guest.RefuseHeld(now);
        Finish(resetHost: false);
    }

    /// <summary>Ends the flow on the stack's side; the socket task returns the buffers when it has stopped.</summary>
    public void Finish(bool resetHost)
    {
        if (_phase == Phase.Done) return;
        bool wasConnecting = _phase == Phase.Connecting;
        _phase = Phase.Done;
        _guest.Ready = null;
        _aborted = resetHost;
        if (resetHost && _socket is { } socket)
        {
            try { socket.LingerState = new LingerOption(true, 0); } catch (SocketException) { } catch (ObjectDisposedException) { }
        }
        _cancel.Cancel();
        _upSignal.Set();
        _downSignal.Set();
        try { _socket?.Dispose(); } catch (SocketException) { }
        _host.OnFinished(this, wasConnecting);
        LetGo();
    }

    private int _owners = 2;   // the stack's thread and the socket's task

    private void LetGo()
    {
        if (Interlocked.Decrement(ref _owners) != 0) return;
        if (Interlocked.Exchange(ref _up, null) is { } up) ArrayPool<byte>.Shared.Return(up);
        if (Interlocked.Exchange(ref _down, null) is { } down) ArrayPool<byte>.Shared.Return(down);
        _cancel.Dispose();
    }

    /// <summary>Aborts both sides (the gateway stops).</summary>
    public void Abort()
    {
        if (_phase == Phase.Done) return;
        if (_phase == Phase.Connecting) _guest.RefuseHeld(_guest.State == TcpState.Closed ? default : _host.Now);
        else _guest.Abort();
        Finish(resetHost: true);
    }

    // ------------------------------------------------------------------ the socket's task (thread pool)

    private async Task RunAsync()
    {
        try
        {
            Socket? socket;
            try
            {
                // The flow's own token bounds the connection (one source per flow, not a linked one): reset once connected.
                _cancel.CancelAfter(_host.Options.ConnectTimeout);
                socket = await _connector(Flow, _cancel.Token).ConfigureAwait(false);
                if (socket is not null && !_cancel.TryReset()) { socket.Dispose(); socket = null; }
            }
#pragma warning disable CA1031 // any failure to connect refuses the flow
            catch (Exception e)
#pragma warning restore CA1031
            {
                _connectError = e is SocketException se ? se.SocketErrorCode : SocketError.SocketError;
                socket = null;
            }
            if (socket is null)
            {
                if (_phase == Phase.Done) return;   // the stack's side ended it first (the guest gave up)
                Interlocked.Increment(ref _host.Statistics._connectFailures);
                _connected = -1;
                _host.Wake(this);
                return;
            }
            socket.NoDelay = true;
            _socket = socket;
            // The buffers only once connected: a flood of refused SYNs costs none. The stack's thread reads them only
            // after it has seen _connected (a volatile write after these).
            _up = ArrayPool<byte>.Shared.Rent(_upBufferSize);
            _down = ArrayPool<byte>.Shared.Rent(_bufferSize);
            _connected = 1;
            _host.Wake(this);
            if (_cancel.IsCancellationRequested) { socket.Dispose(); return; }
            await Task.WhenAll(UpAsync(socket), DownAsync(socket)).ConfigureAwait(false);
        }
        finally
        {
            LetGo();   // the buffers go back once the stack's thread has let go of the flow too
        }
    }

    private async Task UpAsync(Socket socket)
    {
        try
        {
            while (true)
            {
                await _upSignal.WaitAsync().ConfigureAwait(false);
                if (_cancel.IsCancellationRequested) return;
                int n = Volatile.Read(ref _upCount);
                if (n > 0)
                {
                    var buffer = _up!;
                    for (int sent = 0; sent < n;)
                        sent += await socket.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None).ConfigureAwait(false);
                    Interlocked.Add(ref _host.Statistics._bytesUp, n);
                    Volatile.Write(ref _upCount, 0);
                    _host.Wake(this);
                    continue;
                }
                if (_upEnd)
                {
                    socket.Shutdown(SocketShutdown.Send);   // half-close carried across
                    _upDone = true;
                    _host.Wake(this);
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Failed(e);
        }
    }

    private async Task DownAsync(Socket socket)
    {
        try
        {
            while (true)
            {
                int n = await socket.ReceiveAsync(_down.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    _hostEnd = true;
                    _host.Wake(this);
                    return;
                }
                Interlocked.Add(ref _host.Statistics._bytesDown, n);
                Volatile.Write(ref _downCount, n);
                _host.Wake(this);
                await _downSignal.WaitAsync().ConfigureAwait(false);
                if (_cancel.IsCancellationRequested) return;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            Failed(e);
        }
    }

    private void Failed(Exception e)
    {
        if (_cancel.IsCancellationRequested) return;   // we closed it
        if (e is not SocketException { SocketErrorCode: SocketError.ConnectionReset }) Interlocked.Increment(ref _host.Statistics._relayErrors);
        _hostReset = true;
        _host.Wake(this);
    }
}
