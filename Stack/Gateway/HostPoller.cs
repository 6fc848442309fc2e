using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using TcpIpSharp.Linux.Native;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Gateway;

/// <summary>
/// The relayed TCP flows' host sockets, driven by the stack's thread: the stack's thread connects, sends and receives
/// on them itself, non-blocking, and learns which sockets became readable or writable from one epoll set
/// (edge-triggered). On a TUN or TAP link the epoll descriptor is one more descriptor the link's <c>poll()</c> waits on
/// (<see cref="Linux.IExtraWait"/>), and the stack's thread collects the events itself (<see cref="Harvest"/>) each
/// time the gateway is polled; on any other link a thread of the gateway waits in <c>epoll_wait</c>, marks the flows and
/// wakes the stack's thread once per batch of events. A second thread makes the direct relay's sockets and starts their
/// connects (<see cref="QueueConnect"/>), taking the queued flows in batches.
/// </summary>
/// <remarks>
/// This replaced a pair of thread-pool tasks per flow (a send task and a receive task, each woken through a signal, each
/// waking the stack's thread in turn) and a work item per connect: a short flow (connect, one request, one answer, close)
/// cost about ten thread hand-offs; now it costs the epoll thread's wake-ups (one per batch, for all flows) and the
/// kicks of the stack's thread. Flows are found by a slot number and a registration count in the event's data, so an
/// event for a flow that has ended (or whose slot has been reused) is ignored.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class HostPoller : IDisposable
{
    private const int Batch = 128;
    private const ulong StopToken = ulong.MaxValue;

    private readonly GatewayHost _host;
    private readonly int _epoll, _stop;
    private readonly Thread? _thread;
    private readonly Linux.IExtraWait? _link;
    private readonly byte[] _harvest;
    private TcpRelay?[] _slots = new TcpRelay?[64];   // written by the stack's thread, read by the epoll thread
    private readonly Stack<int> _free = new();        // the stack's thread's
    private int _used;
    private uint _registrations;
    private volatile bool _stopping;
    private readonly System.Collections.Concurrent.ConcurrentQueue<TcpRelay> _connects = new();
    private readonly object _connectGate = new();   // Monitor.Wait/Pulse: the connect thread sleeps on it
    private readonly Thread _connectThread;
    private int _connectWaiting;

    public HostPoller(GatewayHost host, Links.ILink link)
    {
        _host = host;
        _epoll = Libc.EpollCreate(Libc.EPOLL_CLOEXEC);
        if (_epoll < 0) throw Libc.Error("epoll_create1", Marshal.GetLastPInvokeError());
        _stop = Libc.EventFd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (_stop < 0) throw Libc.Error("eventfd", Marshal.GetLastPInvokeError());
        if (Control(Libc.EPOLL_CTL_ADD, _stop, Libc.EPOLLIN, StopToken) is int error and not 0) throw Libc.Error("epoll_ctl", error);
        _harvest = new byte[Batch * Libc.EpollEventSize];
        _connectThread = new Thread(RunConnects) { IsBackground = true, Name = "tcpipsharp-gateway-connect" };
        _connectThread.Start();
        if (link is Linux.IExtraWait extra)
        {
            _link = extra;
            extra.ExtraWaitDescriptor = _epoll;
            return;
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "tcpipsharp-gateway-epoll" };
        _thread.Start();
    }

    /// <summary>Queues a flow for the connect thread (the stack's thread); the thread is woken only if it sleeps.</summary>
    public void QueueConnect(TcpRelay relay)
    {
        _connects.Enqueue(relay);
        if (Volatile.Read(ref _connectWaiting) != 0)
            lock (_connectGate) Monitor.Pulse(_connectGate);
    }

    private void RunConnects()
    {
        while (!_stopping)
        {
            while (_connects.TryDequeue(out var relay)) relay.ConnectNow();
            lock (_connectGate)
            {
                // Dekker-style with QueueConnect: publish "waiting", then look at the queue; a producer enqueues, then
                // looks at "waiting" and pulses under the lock (which it gets only once this thread waits).
                Interlocked.Exchange(ref _connectWaiting, 1);
                if (_connects.IsEmpty && !_stopping) Monitor.Wait(_connectGate);
                _connectWaiting = 0;
            }
        }
    }

    /// <summary>True when the stack's thread collects the events itself (<see cref="Harvest"/>): no thread of ours waits.</summary>
    public bool Inline => _link is not null;

    /// <summary>On the stack's thread (inline mode): takes the events that are ready, without waiting, and marks their flows active.</summary>
    public void Harvest()
    {
        int size = Libc.EpollEventSize, offset = Libc.EpollDataOffset;
        var events = _harvest;
        while (true)
        {
            int n = Libc.EpollWait(_epoll, ref events[0], Batch, 0);
            if (n <= 0) return;
            var slots = _slots;
            for (int i = 0; i < n; i++)
            {
                var e = events.AsSpan(i * size, size);
                uint mask = BinaryPrimitives.ReadUInt32LittleEndian(e);
                ulong token = BinaryPrimitives.ReadUInt64LittleEndian(e[offset..]);
                uint slot = (uint)token;
                if (slot >= (uint)slots.Length) continue;
                var relay = slots[slot];
                if (relay is null || relay.PollToken != token) continue;   // ended, or the slot's next flow
                if ((mask & (Libc.EPOLLIN | Libc.EPOLLRDHUP | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0) relay.Readable = 1;
                if ((mask & (Libc.EPOLLOUT | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0) relay.Writable = 1;
                _host.MarkActive(relay);
            }
            if (n < Batch) return;
        }
    }

    /// <summary>Watches <paramref name="relay"/>'s socket from now on (the stack's thread); 0, or the errno of epoll_ctl.</summary>
    public int Register(TcpRelay relay, int fd)
    {
        int slot;
        if (_free.Count > 0) slot = _free.Pop();
        else
        {
            if (_used == _slots.Length)
            {
                var grown = new TcpRelay?[_slots.Length * 2];
                Array.Copy(_slots, grown, _slots.Length);
                Volatile.Write(ref _slots, grown);
            }
            slot = _used++;
        }
        relay.Slot = slot;
        relay.PollToken = ((ulong)++_registrations << 32) | (uint)slot;
        Volatile.Write(ref _slots[slot], relay);
        int error = Control(Libc.EPOLL_CTL_ADD, fd, Libc.EPOLLIN | Libc.EPOLLOUT | Libc.EPOLLRDHUP | Libc.EPOLLET, relay.PollToken);
        if (error != 0) Unregister(relay);
        return error;
    }

    /// <summary>Stops watching for bytes to read (a task receives now): no event per arriving segment.</summary>
    public void WatchWritableOnly(TcpRelay relay, int fd, bool sendsToo) => Watch(relay, fd, sendsToo ? 0 : Libc.EPOLLOUT);

    /// <summary>Stops watching for room to send (a task sends now).</summary>
    public void WatchReadableOnly(TcpRelay relay, int fd, bool receivesToo) => Watch(relay, fd, receivesToo ? 0 : Libc.EPOLLIN | Libc.EPOLLRDHUP);

    private void Watch(TcpRelay relay, int fd, uint events)
    {
        // With neither, errors and hang-ups still come (epoll always reports them); the tasks see them in their calls.
        if (relay.Slot >= 0) _ = Control(Libc.EPOLL_CTL_MOD, fd, events | Libc.EPOLLET, relay.PollToken);
    }

    /// <summary>Stops watching (the stack's thread, before the socket is closed).</summary>
    public void Unregister(TcpRelay relay)
    {
        if (relay.Slot < 0) return;
        Volatile.Write(ref _slots[relay.Slot], null);
        _free.Push(relay.Slot);
        relay.Slot = -1;
    }

    private int Control(int op, int fd, uint events, ulong token)
    {
        Span<byte> e = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(e, events);
        BinaryPrimitives.WriteUInt64LittleEndian(e[Libc.EpollDataOffset..], token);
        return Libc.EpollControl(_epoll, op, fd, ref MemoryMarshal.GetReference(e)) < 0 ? Marshal.GetLastPInvokeError() : 0;
    }

    private void Run()
    {
        int size = Libc.EpollEventSize, offset = Libc.EpollDataOffset;
        var events = new byte[Batch * size];
        while (!_stopping)
        {
            int n = Libc.EpollWait(_epoll, ref events[0], Batch, -1);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EINTR) continue;
                return;
            }
            bool any = false;
            var slots = Volatile.Read(ref _slots);
            for (int i = 0; i < n; i++)
            {
                var e = events.AsSpan(i * size, size);
                uint mask = BinaryPrimitives.ReadUInt32LittleEndian(e);
                ulong token = BinaryPrimitives.ReadUInt64LittleEndian(e[offset..]);
                if (token == StopToken) return;
                uint slot = (uint)token;
                if (slot >= (uint)slots.Length)
                {
                    slots = Volatile.Read(ref _slots);   // grown since this batch began
                    if (slot >= (uint)slots.Length) continue;
                }
                var relay = Volatile.Read(ref slots[slot]);
                if (relay is null || relay.PollToken != token) continue;   // ended, or the slot's next flow
                if ((mask & (Libc.EPOLLIN | Libc.EPOLLRDHUP | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0) Volatile.Write(ref relay.Readable, 1);
                if ((mask & (Libc.EPOLLOUT | Libc.EPOLLERR | Libc.EPOLLHUP)) != 0) Volatile.Write(ref relay.Writable, 1);
                any |= _host.Enqueue(relay);
            }
            if (any) _host.KickDriver();
        }
    }

    // ------------------------------------------------------------------ non-blocking calls on a socket (any thread)

    /// <summary>Starts a connection; 0 (connected), or an errno (EINPROGRESS: the socket says when by becoming writable).</summary>
    public static int Connect(int fd, IpAddress address, ushort port)
    {
        Span<byte> sa = stackalloc byte[28];
        sa.Clear();
        int length;
        if (address.IsIpv4)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(sa, Libc.AF_INET);
            BinaryPrimitives.WriteUInt16BigEndian(sa[2..], port);
            address.WriteTo(sa.Slice(4, 4));
            length = 16;
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(sa, Libc.AF_INET6);
            BinaryPrimitives.WriteUInt16BigEndian(sa[2..], port);
            address.WriteTo(sa.Slice(8, 16));
            length = 28;
        }
        return Libc.Connect(fd, ref MemoryMarshal.GetReference(sa), length) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>The socket's pending error (SO_ERROR), 0 when none.</summary>
    public static int PendingError(int fd)
    {
        int value = 0, length = sizeof(int);
        return Libc.GetSocketOption(fd, Libc.SOL_SOCKET, Libc.SO_ERROR, ref value, ref length) < 0 ? Marshal.GetLastPInvokeError() : value;
    }

    /// <summary>True when the socket is writable now (a connect has finished, well or badly).</summary>
    public static bool IsWritableNow(int fd)
    {
        var p = new PollFd(fd, 0x4 /* POLLOUT */);
        return Libc.Poll(ref p, 1, 0) > 0;
    }

    /// <summary>Bytes sent (&gt; 0), or -errno.</summary>
    public static int Send(int fd, ReadOnlySpan<byte> data)
    {
        nint n = Libc.Send(fd, ref MemoryMarshal.GetReference(data), (nuint)data.Length, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
        return n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Bytes received (&gt; 0), 0 at end of stream, or -errno.</summary>
    public static int Receive(int fd, Span<byte> buffer)
    {
        nint n = Libc.Receive(fd, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length, Libc.MSG_DONTWAIT);
        return n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Ends the sending side (the guest's FIN carried across).</summary>
    public static int ShutdownSend(int fd) => Libc.Shutdown(fd, Libc.SHUT_WR) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>The <see cref="System.Net.Sockets.SocketError"/> for an errno (those the gateway tells apart).</summary>
    public static System.Net.Sockets.SocketError ToSocketError(int errno) => errno switch
    {
        Libc.ECONNREFUSED => System.Net.Sockets.SocketError.ConnectionRefused,
        Libc.EHOSTUNREACH => System.Net.Sockets.SocketError.HostUnreachable,
        Libc.ENETUNREACH => System.Net.Sockets.SocketError.NetworkUnreachable,
        Libc.ETIMEDOUT => System.Net.Sockets.SocketError.TimedOut,
        Libc.ECONNRESET => System.Net.Sockets.SocketError.ConnectionReset,
        _ => System.Net.Sockets.SocketError.SocketError,
    };

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        if (_link is not null) _link.ExtraWaitDescriptor = -1;
        Span<byte> one = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(one, 1);
        _ = Libc.Write(_stop, ref MemoryMarshal.GetReference(one), 8);
        if (_thread is not null && !ReferenceEquals(Thread.CurrentThread, _thread)) _thread.Join(TimeSpan.FromSeconds(5));
        lock (_connectGate) Monitor.Pulse(_connectGate);
        if (!ReferenceEquals(Thread.CurrentThread, _connectThread)) _connectThread.Join(TimeSpan.FromSeconds(5));
        Libc.Close(_stop);
        Libc.Close(_epoll);
    }
}
