using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Gateway;

/// <summary>
/// One relayed datagram flow (an entry of the gateway's NAT table): a connected host socket for one guest address and
/// port and one destination (UDP), or for one guest's echo identifier and one destination (ICMP echo, on a datagram or
/// raw ICMP socket). The guest's datagrams go out on the stack's thread with a non-blocking send (dropped and counted
/// when the socket's buffer is full); the host's come back through a small ring of datagram slots that a task on the
/// thread pool fills and the stack's thread empties into the guest (the handover of <see cref="TcpRelay"/>, one slot
/// length at a time: non-zero, the slot is the stack's; zero, the task's). The task waits only when every slot is full,
/// so a burst from the host does not wait for the stack's thread to wake between datagrams.
/// </summary>
/// <remarks>
/// <para>A UDP flow through a SOCKS5 proxy (RFC 1928 7) holds an association of its own: the task makes it (a control
/// connection and UDP ASSOCIATE) before it receives, the socket is connected to the proxy's relay, each datagram goes
/// out behind the 10- or 22-byte request header and comes back behind one (stripped, and dropped unless it is from the
/// flow's destination and unfragmented). Until the association stands, the guest's first datagram waits in the flow's
/// up buffer (later ones are dropped); closing the flow closes the control connection, which ends the association.</para>
/// <para>A flow whose host socket reports an ICMP error (ECONNREFUSED: the destination answered with a port unreachable;
/// EHOSTUNREACH, ENETUNREACH: a router, or the host's own routing, said no) sends the guest the same error quoting the
/// start of its last datagram or echo request (kept for that, 64 bytes): a port unreachable from the destination's
/// address, the others from the gateway's (<see cref="SendError"/>), so a guest's connected socket fails as it would
/// without the gateway. Not for SOCKS5 flows, whose socket talks to the proxy.</para>
/// </remarks>
internal sealed class UdpRelay
{
    private const int QuotedPayload = 64;

    private readonly GatewayHost _host;
    private readonly Socket _socket;
    private readonly RelaySignal _signal = new();
    private byte[]? _buffer;            // Slots × slot size
    private readonly int[] _lengths;    // per slot: a datagram for the stack; 0: the task's to fill
    private readonly int _slotSize;
    private readonly bool _raw;         // an echo flow on a raw socket: IPv4 replies carry their IP header, and every ICMP message from the destination arrives
    private readonly byte[]? _lastUp;   // the start of the guest's last datagram or echo request, for an ICMP error's quote
    private int _lastUpLength, _lastUpTotal;
    private volatile int _error;        // an ICMP error the host socket reported (UnreachableReason + 1; the task sets it, the stack's thread clears it)
    private readonly bool _socks;       // through a SOCKS5 UDP association
    private byte[]? _up;                // SOCKS5: the stack's: header room, then the datagram (the first waits here until the association stands)
    private int _pendingLength;         // SOCKS5: a datagram waiting in _up for the association
    private volatile bool _ready;       // SOCKS5: the association stands (the task sets it)
    private volatile bool _failed;      // SOCKS5: it could not be made, or the proxy ended it: the sweep closes the flow
    private Socket? _control;           // SOCKS5: the association's control connection
    private int _head;                  // the stack's next slot to send
    private int _tail;                  // the task's next slot to fill
    private volatile bool _closed;
    private int _owners = 2;
    internal int Queued;

    public UdpRelay(GatewayHost host, GatewayFlow flow, Socket socket, int bufferSize, TimeSpan now, bool raw = false, bool socks = false)
    {
        _socks = socks;
        if (socks) _up = ArrayPool<byte>.Shared.Rent(Socks5Connector.MaximumUdpHeader + bufferSize);
        _host = host;
        Flow = flow;
        _socket = socket;
        LastActive = now;
        _slotSize = bufferSize;
        _raw = raw;
        _lengths = new int[SlotsFor(bufferSize)];
        _buffer = ArrayPool<byte>.Shared.Rent(_lengths.Length * bufferSize);
        if (!socks) _lastUp = new byte[QuotedPayload];
    }

    /// <summary>As many slots of <paramref name="slotSize"/> as fit in 64 KB, at least one.</summary>
    public static int SlotsFor(int slotSize) => Math.Max(1, 65536 / Math.Max(1, slotSize));

    public GatewayFlow Flow { get; }
    /// <summary>When a datagram last passed either way (the stack's clock).</summary>
    public TimeSpan LastActive { get; private set; }
    public bool IsClosed => _closed;
    /// <summary>A SOCKS5 flow whose association failed or ended: the sweep closes it.</summary>
    public bool IsFailed => _failed;

    public void Start() => _ = Task.Run(ReceiveAsync);

    /// <summary>Sends a guest datagram (or echo request) to the host socket; on the stack's thread.</summary>
    public void SendUp(ReadOnlySpan<byte> payload, TimeSpan now)
    {
        LastActive = now;
        if (_lastUp is { } last)
        {
            _lastUpLength = Math.Min(payload.Length, last.Length);
            _lastUpTotal = payload.Length;
            payload[.._lastUpLength].CopyTo(last);
        }
        if (_socks)
        {
            SendThroughProxy(payload);
            return;
        }
        _socket.Send(payload, SocketFlags.None, out var error);
        Count(error, payload.Length);
        // The socket's pending error (an ICMP error for an earlier datagram) or the host's routing refusing this one.
        if (ReasonFor(error) is { } reason) SendError(_host, Flow, reason, _lastUp.AsSpan(0, _lastUpLength), _lastUpTotal);
    }

    /// <summary>
    /// The ICMP error a socket error stands for: ECONNREFUSED a port unreachable (UDP only: an echo's socket does not
    /// report it), EHOSTUNREACH and ENETUNREACH host and network unreachable; null for any other (the flow goes on).
    /// </summary>
    private Net.UnreachableReason? ReasonFor(SocketError error) => _socks ? null : error switch
    {
        SocketError.ConnectionRefused when Flow.Protocol == GatewayProtocol.Udp => Net.UnreachableReason.Port,
        SocketError.HostUnreachable => Net.UnreachableReason.Host,
        SocketError.NetworkUnreachable => Net.UnreachableReason.Network,
        _ => null,
    };

    private void Count(SocketError error, int length)
    {
        var stats = _host.Statistics;
        if (error != SocketError.Success) Interlocked.Increment(ref stats._udpDropped);
        else if (Flow.Protocol == GatewayProtocol.Icmp) Interlocked.Increment(ref stats._echoRequestsRelayed);
        else
        {
            Interlocked.Increment(ref stats._udpDatagramsUp);
            Interlocked.Add(ref stats._bytesUp, length);
        }
    }

    // RFC 1928 7: the datagram behind its request header, to the proxy's relay; the first one waits for the association.
    private void SendThroughProxy(ReadOnlySpan<byte> payload)
    {
        var up = _up!;
        const int At = Socks5Connector.MaximumUdpHeader;
        // The association may have stood up since the last pump: the datagram that waited goes first, before this one
        // takes its place in the buffer.
        if (_pendingLength > 0 && _ready)
        {
            SendFromUp(_pendingLength);
            _pendingLength = 0;
        }
        if (payload.Length > up.Length - At || (!_ready && _pendingLength > 0)) { Interlocked.Increment(ref _host.Statistics._udpDropped); return; }
        payload.CopyTo(up.AsSpan(At));
        if (!_ready) { _pendingLength = payload.Length; return; }
        SendFromUp(payload.Length);
    }

    private void SendFromUp(int length)
    {
        const int At = Socks5Connector.MaximumUdpHeader;
        int header = Flow.Destination.IsIpv4 ? 10 : 22;
        Socks5Connector.WriteUdpHeader(_up.AsSpan(At - header), Flow.Destination, Flow.DestinationPort);
        _socket.Send(_up.AsSpan(At - header, header + length), SocketFlags.None, out var error);
        Count(error, length);
    }

    /// <summary>Hands what the host sent to the guest; on the stack's thread.</summary>
    public void Pump(Net.InternetLayer internet, TimeSpan now)
    {
        if (_closed) return;
        if (_pendingLength > 0 && _ready)
        {
            SendFromUp(_pendingLength);   // the association stands: the datagram that waited for it
            _pendingLength = 0;
        }
        if (Interlocked.Exchange(ref _error, 0) is int error and not 0)
            SendError(_host, Flow, (Net.UnreachableReason)(error - 1), _lastUp.AsSpan(0, _lastUpLength), _lastUpTotal);
        bool freed = false;
        var stats = _host.Statistics;
        for (int n; (n = Volatile.Read(ref _lengths[_head])) > 0;)
        {
            LastActive = now;
            var datagram = _buffer.AsSpan(_head * _slotSize, n);
            if (Flow.Protocol == GatewayProtocol.Icmp)
            {
                // An echo reply from the destination, to the guest (its identifier restored by the task).
                if (internet.SendIcmpFrom(Flow.Destination, Flow.Source, datagram) == NetError.None) Interlocked.Increment(ref stats._echoRepliesRelayed);
                else Interlocked.Increment(ref stats._udpDropped);
            }
            // The reply comes from the address and port the guest sent to.
            else if (internet.SendUdpFrom(Flow.Destination, Flow.DestinationPort, Flow.Source, Flow.SourcePort, datagram) == NetError.None)
            {
                Interlocked.Increment(ref stats._udpDatagramsDown);
                Interlocked.Add(ref stats._bytesDown, n);
            }
            else Interlocked.Increment(ref stats._udpDropped);
            Volatile.Write(ref _lengths[_head], 0);
            _head = (_head + 1) % _lengths.Length;
            freed = true;
        }
        if (freed) _signal.Set();
    }

    /// <summary>
    /// RFC 792 / RFC 1122 3.2.2.1 / RFC 4443 3.1: the ICMP error the host side met, carried to the guest about its
    /// datagram (the UDP header rebuilt from the flow before <paramref name="start"/>, the payload's first bytes: the
    /// checksum is not quoted, nothing checks it) or its echo request (<paramref name="start"/> as it was sent), of
    /// <paramref name="total"/> bytes. On the stack's thread.
    /// </summary>
    public static void SendError(GatewayHost host, in GatewayFlow flow, Net.UnreachableReason reason, ReadOnlySpan<byte> start, int total)
    {
        Span<byte> quote = stackalloc byte[UdpHeader.Size + QuotedPayload];
        int length;
        IpProtocol protocol;
        if (flow.Protocol == GatewayProtocol.Udp)
        {
            protocol = IpProtocol.Udp;
            total += UdpHeader.Size;
            new UdpHeader(flow.SourcePort, flow.DestinationPort, (ushort)Math.Min(ushort.MaxValue, total)).WriteTo(quote);
            length = UdpHeader.Size + Math.Min(start.Length, QuotedPayload);
            start[..(length - UdpHeader.Size)].CopyTo(quote[UdpHeader.Size..]);
        }
        else
        {
            protocol = flow.Destination.IsIpv4 ? IpProtocol.Icmp : IpProtocol.Icmpv6;
            length = Math.Min(start.Length, quote.Length);
            start[..length].CopyTo(quote);
        }
        host.Internet.SendUnreachable(flow.Source, flow.Destination, protocol, quote[..length], total, reason);
        Interlocked.Increment(ref host.Statistics._icmpErrorsToGuest);
    }

    /// <summary>Closes the flow; on the stack's thread.</summary>
    public void Close()
    {
        if (_closed) return;
        _closed = true;
        _signal.Set();
        _socket.Dispose();
        Interlocked.Exchange(ref _control, null)?.Dispose();   // ends the SOCKS5 association
        LetGo();
    }

    private async Task ReceiveAsync()
    {
        try
        {
            if (_socks && !await AssociateAsync().ConfigureAwait(false)) return;
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
                catch (SocketException e) when (ReasonFor(e.SocketErrorCode) is { } reason)
                {
                    // An ICMP error for an earlier datagram (a port, host or network unreachable): the guest hears of it; the flow goes on.
                    _error = (int)reason + 1;
                    _host.Wake(this);
                    continue;
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.MessageSize or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.ConnectionRefused)
                {
                    continue;   // one too long for the buffer, or another ICMP error: the flow goes on
                }
                if (Flow.Protocol == GatewayProtocol.Icmp) n = TakeEchoReply(_buffer.AsSpan(_tail * _slotSize, n));
                else if (_socks) n = TakeProxiedDatagram(_buffer.AsSpan(_tail * _slotSize, n));
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

    // What an echo flow's socket read, made into the reply for the guest at the start of the slot: a raw IPv4 socket reads
    // the IP header too (skipped), and sees every ICMP message from the destination (only echo replies with the guest's
    // identifier are taken); a datagram socket's replies carry the kernel's identifier (the guest's put back). 0: not one.
    private int TakeEchoReply(Span<byte> received)
    {
        int offset = 0;
        if (_raw && Flow.Destination.IsIpv4)
        {
            if (received.Length < Ipv4Header.MinimumSize) return 0;
            offset = (received[0] & 0xF) * 4;
        }
        if (received.Length - offset < IcmpHeader.Size) return 0;
        var message = received[offset..];
        byte reply = Flow.Destination.IsIpv4 ? (byte)IcmpType.EchoReply : (byte)Icmpv6Type.EchoReply;
        if (message[0] != reply || message[1] != 0) return 0;
        if (_raw && BinaryPrimitives.ReadUInt16BigEndian(message[4..]) != Flow.SourcePort) return 0;
        message.CopyTo(received);
        BinaryPrimitives.WriteUInt16BigEndian(received[4..], Flow.SourcePort);
        return message.Length;
    }

    // The SOCKS5 association (on the task, before it receives): false when it could not be made.
    private async Task<bool> AssociateAsync()
    {
        var options = _host.Options;
        try
        {
            using var timeout = new CancellationTokenSource(options.ConnectTimeout);
            var (control, relay) = await Socks5Connector.AssociateAsync(options, timeout.Token).ConfigureAwait(false);
            // A full fence between storing the control socket and reading _closed (Close does the reverse: sets
            // _closed, then exchanges _control): one of the two sides sees the other's write, so the association is
            // never left open when Close runs as it is being made.
            Interlocked.Exchange(ref _control, control);
            if (_closed) { Interlocked.Exchange(ref _control, null)?.Dispose(); return false; }
            _socket.Connect(relay);
            Interlocked.Increment(ref _host.Statistics._socks5UdpAssociations);
            _ready = true;
            _host.Wake(this);   // the datagram that waited
            _ = WatchControlAsync(control);
            return true;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            if (!_closed) Interlocked.Increment(ref _host.Statistics._socks5Failures);
            _failed = true;
            return false;
        }
    }

    // RFC 1928 7: the association ends when the control connection does; the proxy ending it ends the flow.
    private async Task WatchControlAsync(Socket control)
    {
        var one = new byte[1];
        try
        {
            while (await control.ReceiveAsync(one, SocketFlags.None).ConfigureAwait(false) > 0) { }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _failed = true;
    }

    // A reply through the proxy, made into the bare datagram at the start of the slot: only from the flow's destination,
    // unfragmented. 0: not one.
    private int TakeProxiedDatagram(Span<byte> received)
    {
        if (!Socks5Connector.TryReadUdpHeader(received, out var from, out ushort port, out int header)) return 0;
        if (from != Flow.Destination || port != Flow.DestinationPort) return 0;
        received[header..].CopyTo(received);
        return received.Length - header;
    }

    private void LetGo()
    {
        if (Interlocked.Decrement(ref _owners) != 0) return;
        if (Interlocked.Exchange(ref _buffer, null) is { } b) ArrayPool<byte>.Shared.Return(b);
        if (Interlocked.Exchange(ref _up, null) is { } u) ArrayPool<byte>.Shared.Return(u);
    }

    /// <summary>A non-blocking UDP socket for a SOCKS5 flow, of the proxy's family (connected to the relay once the association stands).</summary>
    public static Socket OpenForProxy(GatewayOptions options)
    {
        var family = options.Socks5Proxy?.AddressFamily is AddressFamily.InterNetworkV6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        var socket = HostSockets.Create(options.HostNamespace, family, SocketType.Dgram, ProtocolType.Udp);
        socket.Blocking = false;
        return socket;
    }

    /// <summary>A connected, non-blocking UDP socket to <paramref name="target"/> (in the host namespace when one is set).</summary>
    public static Socket Open(GatewayOptions options, IPEndPoint target)
        => Connect(HostSockets.Create(options.HostNamespace, target.AddressFamily, SocketType.Dgram, ProtocolType.Udp), target);

    /// <summary>A connected, non-blocking ICMP socket (datagram or raw, as <paramref name="mode"/> says) to <paramref name="destination"/>.</summary>
    public static Socket OpenEcho(GatewayOptions options, IPAddress destination, GatewayEchoMode mode)
        => Connect(CreateEcho(options.HostNamespace, destination.AddressFamily, mode), new IPEndPoint(destination, 0));

    /// <summary>What the host allows for relaying echo requests of <paramref name="family"/>: a datagram ICMP socket (no privilege), else a raw one, else none.</summary>
    public static GatewayEchoMode ProbeEcho(string? netns, AddressFamily family)
    {
        foreach (var mode in new[] { GatewayEchoMode.DatagramSocket, GatewayEchoMode.RawSocket })
        {
            try
            {
                using var socket = CreateEcho(netns, family, mode);
                return mode;
            }
            catch (SocketException) { }
            catch (UnauthorizedAccessException) { }
        }
        return GatewayEchoMode.Answered;
    }

    private static Socket CreateEcho(string? netns, AddressFamily family, GatewayEchoMode mode)
        => HostSockets.Create(netns, family, mode == GatewayEchoMode.RawSocket ? SocketType.Raw : SocketType.Dgram,
            family == AddressFamily.InterNetwork ? ProtocolType.Icmp : ProtocolType.IcmpV6);

    private static Socket Connect(Socket socket, IPEndPoint target)
    {
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
