using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Gateway;

/// <summary>
/// Gateway mode (user-mode networking, as slirp, vpnkit and tun2socks): the stack takes every TCP connection and UDP
/// datagram a guest sends to any address, and relays each flow through a host socket to its original destination (or
/// through a SOCKS5 proxy, or a socket of the rule's choosing); ICMP echo to any address is relayed where the host allows
/// it (<see cref="EchoModeIpv4"/>) or answered by the stack, and
/// DNS queries to the gateway's own address (UDP and TCP) are answered by <see cref="GatewayDns"/>. See docs/gateway.md.
/// </summary>
/// <remarks>
/// A service on the stack's <see cref="StackDriver"/>: everything that touches the stack runs on the driver's thread in
/// <see cref="IStackService.Poll"/>. Relayed TCP flows' host sockets are called from that thread too, non-blocking,
/// with readiness from epoll (<see cref="HostPoller"/>); connects, connectors, long transfers, UDP and DNS hand work back
/// through a queue of flows (each flow at most once in it, so it holds at most as many entries as there are flows) and
/// a kick that wakes the driver. Start it with <see cref="Start"/> before the stack opens any connection.
/// </remarks>
public sealed class GatewayHost : IStackService, IDisposable
{
    private readonly StackDriver _driver;
    private readonly ConcurrentQueue<object> _woken = new();
    private readonly List<PumpedFlow> _active = new(64);
    private readonly List<PumpedFlow> _pumping = new(64);
    private readonly HashSet<TcpRelay> _tcp = new(64);
    /// <summary>Tests: the relayed TCP flows (the stack's thread only).</summary>
    internal IReadOnlyCollection<TcpRelay> TcpRelays => _tcp;
    private readonly Dictionary<(GatewayProtocol, IpAddress, ushort, IpAddress, ushort), UdpRelay> _udp = new(64);   // UDP and echo flows
    private readonly List<UdpRelay> _expired = new(16);
    private readonly Func<GatewayFlow, CancellationToken, ValueTask<Socket?>> _direct, _socks5;
    private readonly IPEndPoint? _dns;
    private readonly GatewayDns _dnsService;
    private bool _dnsSyn;                // the SYN being taken is DNS over TCP to our own address
    private NetworkStack? _stack;
    private Transport.Tcp.TcpListener? _listener;
    private GatewayDecision _decision;   // the rule's answer for the SYN being taken (filter, then the SYN callback)
    private TimeSpan _nextSweep;
    private int _pending;
    private HostPoller? _poller;

    private GatewayHost(StackDriver driver, GatewayOptions options)
    {
        _driver = driver;
        Options = options;
        _direct = (flow, token) => ConnectDirectAsync(flow, token);
        _socks5 = ConnectSocks5Async;
        _dns = options.DnsServer ?? HostSockets.HostResolver();
        _dnsService = new GatewayDns(this, options, _dns);
        // Chosen once, here: what the host allows for relaying pings (docs/gateway.md).
        EchoModeIpv4 = options.RelayEcho ? UdpRelay.ProbeEcho(options.HostNamespace, AddressFamily.InterNetwork) : GatewayEchoMode.Answered;
        EchoModeIpv6 = options.RelayEcho ? UdpRelay.ProbeEcho(options.HostNamespace, AddressFamily.InterNetworkV6) : GatewayEchoMode.Answered;
    }

    /// <summary>How IPv4 echo requests to other addresses are treated: relayed (through which socket) or answered by the gateway.</summary>
    public GatewayEchoMode EchoModeIpv4 { get; }
    /// <summary>How ICMPv6 echo requests to other addresses are treated.</summary>
    public GatewayEchoMode EchoModeIpv6 { get; }

    /// <summary>The options.</summary>
    public GatewayOptions Options { get; }
    /// <summary>The counters (also on the <c>TcpIpSharp</c> meter once <see cref="GatewayStatistics.Publish"/> is called).</summary>
    public GatewayStatistics Statistics { get; } = new();
    /// <summary>Where DNS queries to the gateway's address go (the configured server or the host's resolver), or null.</summary>
    public IPEndPoint? DnsServer => _dns;

    /// <summary>
    /// Turns the driver's stack into a gateway: adds the service to <paramref name="driver"/> (before or after it
    /// starts, but before the stack has any TCP connection).
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">Not on Linux: the TCP relay drives host sockets through epoll.</exception>
    public static GatewayHost Start(StackDriver driver, GatewayOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(driver);
        // The relayed TCP flows' host sockets are driven from the stack's thread through epoll (HostPoller).
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("the gateway drives its host sockets with epoll: Linux only");
        var host = new GatewayHost(driver, options ?? new GatewayOptions());
        driver.Add(host);
        return host;
    }

    // ------------------------------------------------------------------ IStackService (the stack's thread)

    void IStackService.Start(NetworkStack stack, TimeSpan now)
    {
        _stack = stack;
#pragma warning disable CA1416 // Start refuses other platforms
        _poller = new HostPoller(this, stack.Link);
#pragma warning restore CA1416
        stack.Ipv4.AcceptAnyDestination = true;
        if (stack.Ipv6 is { } v6) v6.AcceptAnyDestination = true;
        var tcp = stack.Tcp;
        _listener = tcp.ListenAnyDestination(Math.Max(1, Options.MaxTcpFlows), Math.Max(1, Options.MaxPendingConnects), null);
        _listener.Ready = l => { while (l.TryAccept(out _)) { } };   // the relay has each connection from its SYN on
        tcp.AnyDestinationFilter = TakeSyn;
        tcp.AnyDestinationSyn = OnSyn;
        stack.Internet.AnyDestinationUdp = OnUdp;
        if (EchoModeIpv4 != GatewayEchoMode.Answered || EchoModeIpv6 != GatewayEchoMode.Answered) stack.Internet.AnyDestinationEcho = OnEcho;
        _nextSweep = now + TimeSpan.FromSeconds(1);
    }

    void IStackService.Poll(NetworkStack stack, TimeSpan now)
    {
#pragma warning disable CA1416 // Start refuses other platforms
        if (_poller!.Inline && _tcp.Count > 0) _poller.Harvest();
#pragma warning restore CA1416
        while (_woken.TryDequeue(out var item))
        {
            if (item is TcpRelay tcp) { Volatile.Write(ref tcp.Queued, 0); tcp.Pump(now); }
            else if (item is UdpRelay udp) { Volatile.Write(ref udp.Queued, 0); udp.Pump(stack.Internet, now); }
            else if (item is DnsQuery query) _dnsService.Complete(query, stack.Internet, now);
        }
        // A pump may make another flow ready (a DNS slot freed for a waiting session): a few rounds, the rest next poll.
        for (int round = 0; round < 4 && _active.Count > 0; round++)
        {
            _pumping.AddRange(_active);
            _active.Clear();
            foreach (var relay in _pumping) { relay.Active = false; relay.Pump(now); }
            _pumping.Clear();
        }
        if (now >= _nextSweep) Sweep(now);
    }

    TimeSpan? IStackService.NextDeadline => _active.Count > 0 ? TimeSpan.Zero : _udp.Count > 0 || _dnsService.SessionCount > 0 || _pending > 0 ? _nextSweep : null;

    void IStackService.Stop(NetworkStack stack, TimeSpan now)
    {
        foreach (var relay in _tcp.ToArray()) relay.Abort();
#pragma warning disable CA1416 // Start refuses other platforms
        _poller?.Dispose();
#pragma warning restore CA1416
        _dnsService.Stop();
        foreach (var relay in _udp.Values) relay.Close();
        Interlocked.Add(ref Statistics._udpClosed, _udp.Count);
        _udp.Clear();
        Volatile.Write(ref Statistics._udpActive, 0);
    }

    // ------------------------------------------------------------------ TCP

    // The stack's TCP table asks, for a SYN to an address and port no listener has: take it (true), or reset (false).
    // The table also asks for segments that open nothing (an ACK, a FIN or a reset for no connection, a SYN beyond its
    // bounds), so what is noted here for OnSyn holds only until the next question.
    private bool TakeSyn(IpAddress source, ushort sourcePort, IpAddress destination, ushort port)
    {
        _dnsSyn = false;
        if (port == DnsMessage.ServerPort && _dnsService.Enabled && destination == _stack!.Internet.SourceAddressFor(source))
        {
            // DNS over TCP to the gateway itself (RFC 7766), answered here: bounded by its own count of sessions.
            if (_dnsService.SessionCount >= Options.MaxDnsTcpSessions) { Interlocked.Increment(ref Statistics._dnsDropped); return false; }
            _dnsSyn = true;
            return true;
        }
        var flow = new GatewayFlow(GatewayProtocol.Tcp, source, sourcePort, destination, port);
        _decision = Decide(flow);
        if (_decision.Action is GatewayAction.Reject)
        {
            Interlocked.Increment(ref Statistics._tcpRefused);
            return false;
        }
        if (_decision.Action is GatewayAction.Drop) return true;   // taken, then closed without a word (OnSyn)
        if (_tcp.Count >= Options.MaxTcpFlows) { Interlocked.Increment(ref Statistics._tcpFlowLimit); return false; }
        if (_pending >= Options.MaxPendingConnects) { Interlocked.Increment(ref Statistics._pendingLimit); return false; }
        return true;
    }

    private void OnSyn(TcpConnection connection)
    {
        if (_dnsSyn)
        {
            _dnsSyn = false;
            _dnsService.Accept(connection, Now);
            return;
        }
        var decision = _decision;
        _decision = default;
        if (decision.Action is GatewayAction.Drop) { connection.DropHeld(); return; }
        var flow = new GatewayFlow(GatewayProtocol.Tcp, connection.RemoteAddress, connection.RemotePort, connection.LocalAddress, connection.LocalPort);
        var connector = decision.Action switch
        {
            GatewayAction.Socks5 => _socks5,
            GatewayAction.Handle when decision.Connector is { } c => c,
            _ => Options.HostNamespace is null ? null : _direct,   // null: the stack's thread connects, non-blocking
        };
        var relay = new TcpRelay(this, connection, flow, connector);
        connection.Ready = _ => MarkActive(relay);
        _tcp.Add(relay);
        _pending++;
        Volatile.Write(ref Statistics._tcpActive, _tcp.Count);
        Options.Trace?.Invoke($"open {flow} ({decision.Action})");
        relay.Start(Now);
    }

    internal void MarkActive(PumpedFlow relay)
    {
        if (relay.Active) return;
        relay.Active = true;
        _active.Add(relay);
    }

    internal void OnConnected(TcpRelay relay) => _pending--;

    /// <summary>The stack's IP layers (on the stack's thread).</summary>
    internal Net.InternetLayer Internet => _stack!.Internet;

    /// <summary>The stack's time (on the stack's thread).</summary>
    internal TimeSpan Now => _stack?.Interface.Now ?? default;

    internal void OnFinished(TcpRelay relay, bool wasConnecting)
    {
        if (wasConnecting) _pending--;
        _tcp.Remove(relay);
        Interlocked.Increment(ref Statistics._tcpClosed);
        Volatile.Write(ref Statistics._tcpActive, _tcp.Count);
        Options.Trace?.Invoke($"close {relay.Flow}");
    }

    private async ValueTask<Socket?> ConnectSocks5Async(GatewayFlow flow, CancellationToken token)
    {
        try
        {
            return await Socks5Connector.ConnectAsync(Options, flow, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            Interlocked.Increment(ref Statistics._socks5Failures);
            throw;
        }
    }

    private async ValueTask<Socket?> ConnectDirectAsync(GatewayFlow flow, CancellationToken token)
        => await HostSockets.ConnectAsync(Options.HostNamespace, flow.DestinationEndPoint, token).ConfigureAwait(false);

    // ------------------------------------------------------------------ UDP

    private bool OnUdp(IpAddress source, ushort sourcePort, IpAddress destination, ushort port, ReadOnlySpan<byte> payload)
    {
        var stack = _stack!;
        var now = stack.Interface.Now;
        if (_udp.TryGetValue((GatewayProtocol.Udp, source, sourcePort, destination, port), out var relay))
        {
            relay.SendUp(payload, now);
            return true;
        }
        var flow = new GatewayFlow(GatewayProtocol.Udp, source, sourcePort, destination, port);
        if (destination == stack.Internet.SourceAddressFor(source))
        {
            // To the gateway itself: DNS is answered (the host's resolver, or relayed); anything else is refused.
            if (port != DnsMessage.ServerPort || !_dnsService.Enabled) return false;
            return _dnsService.OnUdp(source, sourcePort, destination, payload);
        }
        var decision = Decide(flow);
        if (decision.Action is GatewayAction.Reject) { Interlocked.Increment(ref Statistics._udpRejected); return false; }
        if (decision.Action is GatewayAction.Drop) return true;
        if (decision.Action is GatewayAction.Socks5 && Options.Socks5Proxy is null) { Interlocked.Increment(ref Statistics._udpRejected); return false; }
        OpenFlow(flow, payload, now, GatewayEchoMode.Answered, socks: decision.Action is GatewayAction.Socks5);
        return true;
    }

    // An echo request to an address not ours (the stack answers it itself when this returns false).
    private bool OnEcho(IpAddress source, IpAddress destination, ReadOnlySpan<byte> message)
    {
        var mode = destination.IsIpv4 ? EchoModeIpv4 : EchoModeIpv6;
        if (mode == GatewayEchoMode.Answered || message.Length < IcmpHeader.Size) return false;
        var now = _stack!.Interface.Now;
        ushort identifier = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        if (_udp.TryGetValue((GatewayProtocol.Icmp, source, identifier, destination, 0), out var relay))
        {
            relay.SendUp(message, now);
            return true;
        }
        var flow = new GatewayFlow(GatewayProtocol.Icmp, source, identifier, destination, 0);
        var decision = Decide(flow);
        if (decision.Action is GatewayAction.Reject)
        {
            _stack.Internet.SendUnreachable(source, destination, destination.IsIpv4 ? IpProtocol.Icmp : IpProtocol.Icmpv6, message, message.Length, Net.UnreachableReason.Prohibited);
            return true;
        }
        if (decision.Action is GatewayAction.Drop) return true;
        OpenFlow(flow, message, now, mode);
        return true;
    }

    // A new UDP or echo flow in the NAT table, within its bound, and its first datagram sent.
    private void OpenFlow(in GatewayFlow flow, ReadOnlySpan<byte> first, TimeSpan now, GatewayEchoMode echo, bool socks = false)
    {
        if (_udp.Count >= Options.MaxUdpFlows)
        {
            Sweep(now);   // make room from idle flows first
            if (_udp.Count >= Options.MaxUdpFlows) { Interlocked.Increment(ref Statistics._udpFlowLimit); return; }
        }
        Socket socket;
        try
        {
            socket = flow.Protocol == GatewayProtocol.Icmp ? UdpRelay.OpenEcho(Options, flow.Destination.ToIPAddress(), echo)
                : socks ? UdpRelay.OpenForProxy(Options) : UdpRelay.Open(Options, flow.DestinationEndPoint);
        }
        catch (SocketException e)
        {
            Interlocked.Increment(ref Statistics._relayErrors);
            // The host's routing refused the connect (no route; an "unreachable" route): what the router would say.
            if (!socks && e.SocketErrorCode is SocketError.HostUnreachable or SocketError.NetworkUnreachable)
                UdpRelay.SendError(this, flow, e.SocketErrorCode == SocketError.HostUnreachable ? Net.UnreachableReason.Host : Net.UnreachableReason.Network, first, first.Length);
            return;
        }
        var relay = new UdpRelay(this, flow, socket, Options.UdpBufferSize, now, raw: echo == GatewayEchoMode.RawSocket, socks: socks);
        _udp.Add(KeyOf(flow), relay);
        Interlocked.Increment(ref Statistics._udpOpened);
        Volatile.Write(ref Statistics._udpActive, _udp.Count);
        Options.Trace?.Invoke($"open {flow}");
        relay.Start();
        relay.SendUp(first, now);
    }

    private static (GatewayProtocol, IpAddress, ushort, IpAddress, ushort) KeyOf(in GatewayFlow flow)
        => (flow.Protocol, flow.Source, flow.SourcePort, flow.Destination, flow.DestinationPort);

    private void Sweep(TimeSpan now)
    {
        _nextSweep = now + TimeSpan.FromSeconds(1);
        if (_pending > 0)
            foreach (var relay in _tcp)
                if (relay.IsConnecting && now >= relay.ConnectDeadline) MarkActive(relay);   // it refuses the guest when pumped
        _dnsService.Sweep(now);
        foreach (var (key, relay) in _udp)
            if (relay.IsFailed || now - relay.LastActive >= (relay.Flow.DestinationPort == 53 || relay.Flow.Protocol == GatewayProtocol.Icmp ? TimeSpan.FromSeconds(10) : Options.UdpIdleTimeout)) _expired.Add(relay);
        foreach (var relay in _expired)
        {
            _udp.Remove(KeyOf(relay.Flow));
            relay.Close();
            Interlocked.Increment(ref Statistics._udpClosed);
            Options.Trace?.Invoke($"close {relay.Flow}");
        }
        _expired.Clear();
        Volatile.Write(ref Statistics._udpActive, _udp.Count);
    }

    // ------------------------------------------------------------------ rules and wake-ups

    private GatewayDecision Decide(in GatewayFlow flow)
    {
        if (Options.Deny.Count > 0 || Options.Allow.Count > 0)
        {
            var address = flow.Destination.ToIPAddress();
            foreach (var net in Options.Deny) if (net.Contains(address)) return GatewayDecision.Reject;
            if (Options.Allow.Count > 0)
            {
                bool allowed = false;
                foreach (var net in Options.Allow) if (net.Contains(address)) { allowed = true; break; }
                if (!allowed) return GatewayDecision.Reject;
            }
        }
        if (Options.Rule is { } rule) return rule(flow);
        // Through the proxy when there is one: TCP by CONNECT, UDP by UDP ASSOCIATE; echo has no SOCKS5 form (relayed directly).
        return Options.Socks5Proxy is not null && flow.Protocol != GatewayProtocol.Icmp ? GatewayDecision.Socks5 : GatewayDecision.Relay;
    }

    /// <summary>A relay's socket or connector has work for the stack's thread: queue the flow (once) and wake the driver. Any thread.</summary>
    internal void Wake(TcpRelay relay)
    {
        if (Enqueue(relay)) _driver.Kick();
    }

    /// <summary>Queues the flow for the stack's thread (once); true if it was not queued yet. The caller kicks the driver.</summary>
    internal bool Enqueue(TcpRelay relay)
    {
        if (Interlocked.Exchange(ref relay.Queued, 1) != 0) return false;
        _woken.Enqueue(relay);
        return true;
    }

    /// <summary>Wakes the stack's thread (once for a batch of flows queued with <see cref="Enqueue"/>).</summary>
    internal void KickDriver() => _driver.Kick();

    /// <summary>The epoll thread that watches the relayed flows' host sockets (made when the service starts).</summary>
#pragma warning disable CA1416 // Start refuses other platforms
    internal HostPoller Poller => _poller!;
#pragma warning restore CA1416

    /// <summary>A DNS query was answered on the thread pool: hand it to the stack's thread.</summary>
    internal void Wake(DnsQuery query)
    {
        _woken.Enqueue(query);
        _driver.Kick();
    }

    internal void Wake(UdpRelay relay)
    {
        if (Interlocked.Exchange(ref relay.Queued, 1) != 0) return;
        _woken.Enqueue(relay);
        _driver.Kick();
    }

    /// <summary>Disposes the statistics' meter.</summary>
    public void Dispose() => Statistics.Dispose();
}
