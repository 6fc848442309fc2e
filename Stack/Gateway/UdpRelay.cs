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
/// A UDP flow whose socket reports ECONNREFUSED (the destination answered a datagram with a port unreachable) sends the
/// guest an ICMP port unreachable quoting the start of its last datagram (kept for that, 64 bytes), so a guest's
/// connected socket sees the refusal as it would without the gateway.
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
    private readonly byte[]? _lastUp;   // UDP: the start of the guest's last datagram, for a port unreachable's quote
    private int _lastUpLength, _lastUpTotal;
    private volatile bool _refused;     // the host socket reported a port unreachable (the task sets it, the stack's thread clears it)
    private int _head;                  // the stack's next slot to send
    private int _tail;                  // the task's next slot to fill
    private volatile bool _closed;
    private int _owners = 2;
    internal int Queued;

    public UdpRelay(GatewayHost host, GatewayFlow flow, Socket socket, int bufferSize, TimeSpan now, bool raw = false)
    {
        _host = host;
        Flow = flow;
        _socket = socket;
        LastActive = now;
        _slotSize = bufferSize;
        _raw = raw;
        _lengths = new int[SlotsFor(bufferSize)];
        _buffer = ArrayPool<byte>.Shared.Rent(_lengths.Length * bufferSize);
        if (flow.Protocol == GatewayProtocol.Udp) _lastUp = new byte[QuotedPayload];
    }

    /// <summary>As many slots of <paramref name="slotSize"/> as fit in 64 KB, at least one.</summary>
    public static int SlotsFor(int slotSize) => Math.Max(1, 65536 / Math.Max(1, slotSize));

    public GatewayFlow Flow { get; }
    /// <summary>When a datagram last passed either way (the stack's clock).</summary>
    public TimeSpan LastActive { get; private set; }
    public bool IsClosed => _closed;

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
        _socket.Send(payload, SocketFlags.None, out var error);
        var stats = _host.Statistics;
        if (error != SocketError.Success) Interlocked.Increment(ref stats._udpDropped);
        else if (Flow.Protocol == GatewayProtocol.Icmp) Interlocked.Increment(ref stats._echoRequestsRelayed);
        else
        {
            Interlocked.Increment(ref stats._udpDatagramsUp);
            Interlocked.Add(ref stats._bytesUp, payload.Length);
        }
    }

    /// <summary>Hands what the host sent to the guest; on the stack's thread.</summary>
    public void Pump(Net.InternetLayer internet, TimeSpan now)
    {
        if (_closed) return;
        if (_refused)
        {
            _refused = false;
            SendPortUnreachable(internet);
        }
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

    // RFC 1122 3.2.2.1 / RFC 4443 3.1: the port unreachable the destination sent, carried to the guest with its datagram's
    // start (the UDP header rebuilt from the flow: the checksum is not quoted, nothing checks it).
    private void SendPortUnreachable(Net.InternetLayer internet)
    {
        if (_lastUp is not { } last) return;
        Span<byte> quote = stackalloc byte[UdpHeader.Size + QuotedPayload];
        int total = UdpHeader.Size + _lastUpTotal;
        new UdpHeader(Flow.SourcePort, Flow.DestinationPort, (ushort)Math.Min(ushort.MaxValue, total)).WriteTo(quote);
        last.AsSpan(0, _lastUpLength).CopyTo(quote[UdpHeader.Size..]);
        internet.SendUnreachable(Flow.Source, Flow.Destination, IpProtocol.Udp, quote[..(UdpHeader.Size + _lastUpLength)], total, Net.UnreachableReason.Port);
        Interlocked.Increment(ref _host.Statistics._icmpErrorsToGuest);
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
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused)
                {
                    // A port unreachable for an earlier datagram: the guest hears of it; the flow goes on.
                    _refused = true;
                    _host.Wake(this);
                    continue;
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.MessageSize or SocketError.HostUnreachable or SocketError.NetworkUnreachable)
                {
                    continue;   // one too long for the buffer, or another ICMP error: the flow goes on
                }
                if (Flow.Protocol == GatewayProtocol.Icmp) n = TakeEchoReply(_buffer.AsSpan(_tail * _slotSize, n));
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

    private void LetGo()
    {
        if (Interlocked.Decrement(ref _owners) != 0) return;
        if (Interlocked.Exchange(ref _buffer, null) is { } b) ArrayPool<byte>.Shared.Return(b);
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
