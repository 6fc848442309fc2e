using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace TcpIpSharp.Gateway;

/// <summary>
/// One relayed UDP flow (an entry of the gateway's NAT table): a connected host socket for one guest address and port
/// and one destination. The guest's datagrams go out on the stack's thread with a non-blocking send (dropped and
/// counted when the socket's buffer is full); the host's come back through a small ring of datagram slots that a task
/// on the thread pool fills and the stack's thread empties into the guest (the handover of <see cref="TcpRelay"/>, one
/// slot length at a time: non-zero, the slot is the stack's; zero, the task's). The task waits only when every slot is
/// full, so a burst from the host does not wait for the stack's thread to wake between datagrams.
/// </summary>
internal sealed class UdpRelay
{
    private readonly GatewayHost _host;
    private readonly Socket _socket;
    private readonly RelaySignal _signal = new();
    private byte[]? _buffer;            // Slots × slot size
    private readonly int[] _lengths;    // per slot: a datagram for the stack; 0: the task's to fill
    private readonly int _slotSize;
    private int _head;                  // the stack's next slot to send
    private int _tail;                  // the task's next slot to fill
    private volatile bool _closed;
    private int _owners = 2;
    internal int Queued;

    public UdpRelay(GatewayHost host, GatewayFlow flow, Socket socket, int bufferSize, TimeSpan now)
    {
        _host = host;
        Flow = flow;
        _socket = socket;
        LastActive = now;
        _slotSize = bufferSize;
        _lengths = new int[SlotsFor(bufferSize)];
        _buffer = ArrayPool<byte>.Shared.Rent(_lengths.Length * bufferSize);
    }

    /// <summary>As many slots of <paramref name="slotSize"/> as fit in 64 KB, at least one.</summary>
    public static int SlotsFor(int slotSize) => Math.Max(1, 65536 / Math.Max(1, slotSize));

    public GatewayFlow Flow { get; }
    /// <summary>When a datagram last passed either way (the stack's clock).</summary>
    public TimeSpan LastActive { get; private set; }
    public bool IsClosed => _closed;

    public void Start() => _ = Task.Run(ReceiveAsync);

    /// <summary>Sends a guest datagram to the host socket; on the stack's thread.</summary>
    public void SendUp(ReadOnlySpan<byte> payload, TimeSpan now)
    {
        LastActive = now;
        _socket.Send(payload, SocketFlags.None, out var error);
        if (error == SocketError.Success)
        {
            Interlocked.Increment(ref _host.Statistics._udpDatagramsUp);
            Interlocked.Add(ref _host.Statistics._bytesUp, payload.Length);
        }
        else Interlocked.Increment(ref _host.Statistics._udpDropped);
    }

    /// <summary>Hands a datagram the host sent to the guest; on the stack's thread.</summary>
    public void Pump(Net.InternetLayer internet, TimeSpan now)
    {
        if (_closed) return;
        bool freed = false;
        for (int n; (n = Volatile.Read(ref _lengths[_head])) > 0;)
        {
            LastActive = now;
            // The reply comes from the address and port the guest sent to.
            if (internet.SendUdpFrom(Flow.Destination, Flow.DestinationPort, Flow.Source, Flow.SourcePort, _buffer.AsSpan(_head * _slotSize, n)) == NetError.None)
            {
                Interlocked.Increment(ref _host.Statistics._udpDatagramsDown);
                Interlocked.Add(ref _host.Statistics._bytesDown, n);
            }
            else Interlocked.Increment(ref _host.Statistics._udpDropped);
            Volatile.Write(ref _lengths[_head], 0);
            _head = (_head + 1) % _lengths.Length;
            freed = true;
        }
        if (freed) _signal.Set();
    }

    /// <summary>Closes the flow; on the stack's thread.</summary>
    public void Close()
    {
        if (_closed) return;
        _closed = true;
        _signal.Set();
        _socket.Dispose();
        LetGo();
    }

    private async Task ReceiveAsync()
    {
        try
        {
            while (!_closed)
            {
                if (Volatile.Read(ref _lengths[_tail]) != 0)
                {
                    await _signal.WaitAsync().ConfigureAwait(false);   // every slot full: wait for the stack's thread
                    continue;
                }
                int n;
                try
                {
                    n = await _socket.ReceiveAsync(_buffer.AsMemory(_tail * _slotSize, _slotSize), SocketFlags.None).ConfigureAwait(false);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.MessageSize)
                {
                    continue;   // an ICMP error for an earlier datagram, or one too long for the buffer: the flow goes on
                }
                if (n <= 0) continue;
                Volatile.Write(ref _lengths[_tail], n);
                _tail = (_tail + 1) % _lengths.Length;
                _host.Wake(this);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            if (!_closed) Interlocked.Increment(ref _host.Statistics._relayErrors);
        }
        finally
        {
            LetGo();
        }
    }

    private void LetGo()
    {
        if (Interlocked.Decrement(ref _owners) != 0) return;
        if (Interlocked.Exchange(ref _buffer, null) is { } b) ArrayPool<byte>.Shared.Return(b);
    }

    /// <summary>A connected, non-blocking UDP socket to <paramref name="target"/> (in the host namespace when one is set).</summary>
    public static Socket Open(GatewayOptions options, IPEndPoint target)
    {
        var socket = HostSockets.Create(options.HostNamespace, target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Blocking = false;
            socket.Connect(target);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
