using System.Net.Http;
using TcpIpSharp.Links;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Services.Dns;
using TcpIpSharp.Storage;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Sockets;

/// <summary>
/// A stack as the socket layer sees it: a <see cref="NetworkStack"/>, its resolver and optional DHCP client, driven
/// by a <see cref="StackDriver"/> it owns (the one driver the program and the services use too: a thread that polls,
/// and a gate every socket call holds while it touches the core). Sockets are made from it with <see cref="Socket"/>;
/// <see cref="Default"/> lets Pico code call <c>Socket(AF_INET, SOCK_STREAM)</c> without naming a stack.
/// Every member is thread-safe.
/// </summary>
public sealed class SocketStack : IDisposable
{
    private readonly List<Socket> _raw = [];
    private readonly Net.RawIcmpHandler _onRawIcmp;
    private bool _disposed;

    private SocketStack(NetworkStack stack, NetworkStackOptions options, StackDriver driver, DhcpClientOptions? dhcp, DnsResolverOptions? dns)
    {
        Stack = stack;
        Options = options;
        Driver = driver;
        Resolver = new DnsResolver(dns);
        if (dhcp is not null) Dhcp = new DhcpClient(dhcp);
        if (options.AutoIp is not null) AutoIp = new Services.AutoIp.AutoIpClient(options.AutoIp, Dhcp);
        Sntp = new Services.Sntp.SntpClient(null, Dhcp, driver.Clock);
        _onRawIcmp = OnRawIcmp;
        List<IStackService> services = [Resolver, Sntp];
        if (Dhcp is not null) services.Add(Dhcp);
        if (AutoIp is not null) services.Add(AutoIp);
        driver.Attach(stack, [.. services]);
    }

    /// <summary>The stack used by <see cref="SocketModule"/>'s functions when none is named (set it once at start-up).</summary>
    public static SocketStack? Default { get; set; }

    /// <summary>The core stack. Touch it only inside <see cref="Invoke{T}"/>: it belongs to the stack thread.</summary>
    public NetworkStack Stack { get; }

    /// <summary>The options the stack was made with.</summary>
    public NetworkStackOptions Options { get; }

    /// <summary>The DHCP client, when the stack was started with one.</summary>
    public DhcpClient? Dhcp { get; }

    /// <summary>The IPv4 link-local client, when <see cref="NetworkStackOptions.AutoIp"/> was given.</summary>
    public Services.AutoIp.AutoIpClient? AutoIp { get; }

    /// <summary>The SNTP client <see cref="NtpTimeModule"/> uses (servers given per call, or DHCP's option 42).</summary>
    public Services.Sntp.SntpClient Sntp { get; }

    internal DnsResolver Resolver { get; }
    internal StackDriver Driver { get; }
    internal HashSet<ushort> BoundTcpPorts { get; } = [];

    /// <summary>The time on the stack's clock (virtual in tests).</summary>
    public TimeSpan Now => Driver.Now;

    /// <summary>
    /// Starts a stack on <paramref name="link"/> with its own stack thread on the system clock. With
    /// <paramref name="dhcp"/> the address comes from DHCP (leave <see cref="NetworkStackOptions.Address"/> unset).
    /// </summary>
    public static SocketStack Start(ILink link, NetworkStackOptions options, DhcpClientOptions? dhcp = null, DnsResolverOptions? dns = null, IRandomSource? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var driver = new StackDriver(DriverMode.RealTime);
        var stack = new SocketStack(new NetworkStack(link, options, random), options, driver, dhcp, dns);
        driver.Start();
        return stack;
    }

    /// <summary>
    /// Two stacks (192.0.2.10 and 192.0.2.11) over an in-memory pair, driven by one stack thread on a virtual clock
    /// that jumps ahead only while a caller is blocked and nothing else is happening: timeouts of seconds take
    /// microseconds and repeat exactly. Dispose both (the first disposes the shared thread).
    /// </summary>
    public static (SocketStack A, SocketStack B) CreateVirtualPair(NetworkStackOptions? options = null, int seed = 1)
        => CreatePair(DriverMode.VirtualTime, options, seed);

    internal static (SocketStack A, SocketStack B) CreatePair(DriverMode mode, NetworkStackOptions? options = null, int seed = 1, int queueFrames = 4096)
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: queueFrames);
        var o = options ?? new NetworkStackOptions();
        var oa = o with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = Ipv4Address.Parse("192.0.2.10"), PrefixLength = 24 };
        var ob = o with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = Ipv4Address.Parse("192.0.2.11"), PrefixLength = 24 };
        var driver = new StackDriver(mode);
        var sa = new SocketStack(new NetworkStack(a, oa, new SeededRandomSource(seed)), oa, driver, null, null);
        var sb = new SocketStack(new NetworkStack(b, ob, new SeededRandomSource(seed + 1)), ob, driver, null, null);
        driver.Start();
        return (sa, sb);
    }

    /// <summary>
    /// A new socket (<c>socket.socket(af, type, proto)</c>): AF_INET or AF_INET6 with SOCK_STREAM or SOCK_DGRAM, or
    /// SOCK_RAW with IPPROTO_ICMP (AF_INET) or IPPROTO_ICMPV6 (AF_INET6). AF_INET6 needs a stack with IPv6 on.
    /// </summary>
    public Socket Socket(int af = SocketModule.AF_INET, int type = SocketModule.SOCK_STREAM, int proto = 0)
    {
        if (af is not (SocketModule.AF_INET or SocketModule.AF_INET6)) throw new OSError(Errno.EAFNOSUPPORT, $"address family {af} (AF_INET and AF_INET6 are supported, as on the Pico)");
        if (af == SocketModule.AF_INET6 && !Stack.Ipv6Enabled) throw new OSError(Errno.EAFNOSUPPORT, "this stack has IPv6 off (NetworkStackOptions.Ipv6)");
        if (type is not (SocketModule.SOCK_STREAM or SocketModule.SOCK_DGRAM or SocketModule.SOCK_RAW)) throw new OSError(Errno.EINVAL, $"socket type {type}");
        if (type == SocketModule.SOCK_RAW && proto != (af == SocketModule.AF_INET ? SocketModule.IPPROTO_ICMP : SocketModule.IPPROTO_ICMPV6))
            throw new OSError(Errno.EOPNOTSUPP, "raw sockets carry ICMP (AF_INET) or ICMPv6 (AF_INET6) only");
        ObjectDisposedException.ThrowIf(_disposed, this);
        var socket = new Socket(this, af, type, proto);
        if (type == SocketModule.SOCK_RAW) lock (Driver.Gate) OpenRaw(socket);
        return socket;
    }

    /// <summary>
    /// <c>socket.getaddrinfo(host, port, af, type, proto, flags)</c>: resolves through the stack's DNS resolver (numeric
    /// addresses and <c>localhost</c> at once), blocking the caller only. A name that does not resolve raises
    /// <see cref="OSError"/> with the resolver's getaddrinfo number (-2 EAI_NONAME, -3 EAI_AGAIN, ...).
    /// </summary>
    public IReadOnlyList<AddrInfo> GetAddrInfo(string host, int port, int af = 0, int type = 0, int proto = 0, int flags = 0)
    {
        ArgumentNullException.ThrowIfNull(host);
        DnsLookup lookup;
        lock (Driver.Gate)
        {
            lookup = ResolveBlocking(host, af == SocketModule.AF_INET6 ? DnsType.Aaaa : DnsType.A);
            // No family asked: IPv4 first, AAAA when the name has no A record (MicroPython's ipconfig(prefer=4) default).
            if (af == 0 && Stack.Ipv6Enabled && lookup.Error is DnsError.NoData) lookup = ResolveBlocking(host, DnsType.Aaaa);
        }
        return ToAddrInfo(lookup, port, af, type, proto, flags);
    }

    // Under the gate: a lookup, waited for.
    private DnsLookup ResolveBlocking(string host, DnsType type)
    {
        var lookup = Resolver.Resolve(host, type, Driver.Now);
        if (!lookup.IsCompleted)
        {
            lookup.Completed += _ => Driver.Signal();
            Driver.Kick();
            while (!lookup.IsCompleted) Driver.WaitOrRaise(null);
        }
        return lookup;
    }

    /// <summary>As <see cref="GetAddrInfo"/>, without blocking a thread.</summary>
    public async ValueTask<IReadOnlyList<AddrInfo>> GetAddrInfoAsync(string host, int port, int af = 0, int type = 0, int proto = 0, int flags = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        var lookup = await ResolveAsync(host, af == SocketModule.AF_INET6 ? DnsType.Aaaa : DnsType.A, cancellationToken).ConfigureAwait(false);
        if (af == 0 && Stack.Ipv6Enabled && lookup.Error is DnsError.NoData) lookup = await ResolveAsync(host, DnsType.Aaaa, cancellationToken).ConfigureAwait(false);
        return ToAddrInfo(lookup, port, af, type, proto, flags);
    }

    private async ValueTask<DnsLookup> ResolveAsync(string host, DnsType type, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        DnsLookup lookup;
        lock (Driver.Gate)
        {
            lookup = Resolver.Resolve(host, type, Driver.Now);
            if (lookup.IsCompleted) done.TrySetResult();
            else
            {
                lookup.Completed += _ => done.TrySetResult();
                Driver.Kick();
            }
        }
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return lookup;
    }

    private static List<AddrInfo> ToAddrInfo(DnsLookup lookup, int port, int af, int type, int proto, int flags)
    {
        if (lookup.Error != DnsError.None) throw new OSError(lookup.Errno, $"{DnsLookup.MessageOf(lookup.Error)} ({lookup.Name})");
        var list = new List<AddrInfo>();
        foreach (var info in AddressInfo.FromLookup(lookup, port, af, type, proto, flags))
            list.Add(new AddrInfo(info.Family, info.SocketType, info.Protocol, info.CanonicalName,
                new SockAddr(info.Address.Family == HostAddressFamily.Ipv4 ? info.Address.Ipv4 : (IpAddress)info.Address.Ipv6, port)));
        if (list.Count == 0) throw new OSError(-5, $"{DnsLookup.MessageOf(DnsError.NoData)} ({lookup.Name})");
        return list;
    }

    /// <summary>
    /// The stack's wall-clock time (UTC): the system's, moved by what <see cref="NtpTimeModule.SetTime"/> (or
    /// <see cref="NetworkStack.SetWallClock"/>) set. The TLS layer checks certificate dates against it once it was set.
    /// </summary>
    public DateTime UtcNow()
    {
        lock (Driver.Gate) return Stack.WallClock(Driver.Now);
    }

    /// <summary>What the stack's wall clock adds to the system's (0 until SNTP or the program set it).</summary>
    public TimeSpan WallClockOffset()
    {
        lock (Driver.Gate) return Stack.WallClockOffset;
    }

    /// <summary>Runs <paramref name="action"/> against the core while holding the command channel (never blocks in it).</summary>
    public T Invoke<T>(Func<NetworkStack, T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        lock (Driver.Gate)
        {
            var result = action(Stack);
            Driver.Kick();
            return result;
        }
    }

    /// <summary>
    /// Runs <paramref name="service"/> beside the sockets on this stack's driver: started at once under the gate, then
    /// polled after every poll of the stack and stopped when the stack is disposed.
    /// </summary>
    public void AddService(IStackService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Driver.Add(Stack, service);
    }

    /// <summary>The mDNS responder started by <see cref="StartMdns"/>, or null. Touch it inside <see cref="Invoke{T}"/>.</summary>
    public Services.Mdns.MdnsResponder? Mdns { get; private set; }

    /// <summary>
    /// Starts the mDNS responder (RFC 6762) for <see cref="NetworkStackOptions.Hostname"/> (or
    /// <see cref="Services.Mdns.MdnsOptions.Hostname"/>) with <paramref name="services"/> published by DNS-SD, as the
    /// Pico W's lwIP answers <c>PicoW.local</c>. Once per stack.
    /// </summary>
    public Services.Mdns.MdnsResponder StartMdns(Services.Mdns.MdnsOptions? options = null, IEnumerable<Services.Mdns.ServiceInstance>? services = null)
    {
        // A bad host name is refused here, before the responder is added anywhere (it would fail in Start otherwise,
        // leaving a half-started service behind and Mdns set for good).
        Services.Mdns.MdnsResponder.CheckHostname(options?.Hostname ?? Stack.Options.Hostname);
        var responder = new Services.Mdns.MdnsResponder(options);
        foreach (var s in services ?? []) responder.Register(s);
        lock (Driver.Gate)
        {
            if (Mdns is not null) throw new InvalidOperationException("the mDNS responder is running already");
            Mdns = responder;
        }
        AddService(responder);
        return responder;
    }

    /// <summary>Browses for <paramref name="serviceType"/> (e.g. "_http._tcp") for <paramref name="duration"/> through the responder <see cref="StartMdns"/> started.</summary>
    public async Task<IReadOnlyList<Services.Mdns.DiscoveredService>> BrowseAsync(string serviceType, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        Services.Mdns.MdnsBrowse browse;
        lock (Driver.Gate)
        {
            var responder = Mdns ?? throw new InvalidOperationException("start the mDNS responder first (StartMdns)");
            browse = responder.Browse(serviceType, duration, Driver.Now);
            Driver.Kick();
        }
        return await browse.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>WLAN.status()</c> in the Pico's numbers.</summary>
    public WlanStatus Status()
    {
        lock (Driver.Gate)
        {
            if (Driver.Failure is not null) return WlanStatus.ConnectFail;
            if (_disposed || !Driver.IsRunning) return WlanStatus.Idle;
            if (!Driver.HasPolled) return WlanStatus.Connecting;
            if (Dhcp is not null) return Dhcp.Status == DhcpStatus.GotIp ? WlanStatus.GotIp : WlanStatus.NoIp;
            return Stack.Address.IsAny ? WlanStatus.NoIp : WlanStatus.GotIp;
        }
    }

    /// <summary><c>WLAN.isconnected()</c>: true once the interface has an address (status GOT_IP).</summary>
    public bool IsConnected() => Status() == WlanStatus.GotIp;

    /// <summary><c>WLAN.ifconfig()</c>: (ip, subnet, gateway, dns).</summary>
    public IfConfig IfConfig()
    {
        lock (Driver.Gate)
        {
            var dns = Stack.DnsServers.Count > 0 ? Stack.DnsServers[0] : Ipv4Address.Any;
            return new IfConfig(Stack.Address.ToString(), Stack.SubnetMask.ToString(), Stack.Gateway.ToString(), dns.ToString());
        }
    }

    /// <summary>
    /// <c>WLAN.ipconfig(key)</c> (MicroPython 1.24's dual-stack query): <c>"addr4"</c> → <c>(ip, netmask)</c>,
    /// <c>"gw4"</c> → the gateway, <c>"addr6"</c> → a list of <see cref="Ipv6AddressConfig"/> (address, state,
    /// preferred lifetime, valid lifetime: lwIP's state numbers and lifetimes, as the Pico reports them),
    /// <c>"autoconf6"</c> → whether SLAAC is on. Another key raises <see cref="ArgumentException"/> (the Pico's ValueError).
    /// </summary>
    public object IpConfig(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (Driver.Gate)
        {
            return key switch
            {
                "addr4" => (Stack.Address.ToString(), Stack.SubnetMask.ToString()),
                "gw4" => Stack.Gateway.ToString(),
                "addr6" => Stack.Ipv6Addresses.Select(Ipv6AddressConfig.From).ToList(),
                "autoconf6" => Options.Ipv6?.Autoconfigure ?? false,
                _ => throw new ArgumentException($"unknown config param '{key}'", nameof(key)),
            };
        }
    }

    /// <summary><c>WLAN.ifconfig((ip, subnet, gateway, dns))</c>: configures the interface by hand.</summary>
    public void IfConfig(IfConfig config)
    {
        var mask = Ipv4Address.Parse(config.Subnet);
        int prefix = System.Numerics.BitOperations.PopCount(mask.Value);
        lock (Driver.Gate)
        {
            Stack.Configure(Ipv4Address.Parse(config.Ip), prefix, Ipv4Address.Parse(config.Gateway));
            Stack.SetDnsServers([Ipv4Address.Parse(config.Dns)]);
            Driver.Kick();
        }
    }

    /// <summary>
    /// A <see cref="SocketsHttpHandler"/> whose connections go through this stack: names resolved by the stack's
    /// resolver, TCP by the stack, TLS (for https) by .NET over the socket's stream.
    /// </summary>
    public SocketsHttpHandler CreateHttpHandler() => new() { ConnectCallback = ConnectCallback, UseProxy = false };

    /// <summary>The <see cref="SocketsHttpHandler.ConnectCallback"/> that opens a connection through this stack.</summary>
    public async ValueTask<Stream> ConnectCallback(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endpoint = context.DnsEndPoint;
        // An IPv6 literal URL (http://[2001:db8::1]/) may come with its brackets.
        var host = endpoint.Host.StartsWith('[') && endpoint.Host.EndsWith(']') ? endpoint.Host[1..^1] : endpoint.Host;
        var info = await GetAddrInfoAsync(host, endpoint.Port, cancellationToken: cancellationToken).ConfigureAwait(false);
        var socket = Socket(info[0].Af);
        try
        {
            await socket.ConnectAsync(info[0].SockAddr, cancellationToken).ConfigureAwait(false);
            return socket.GetStream();
        }
        catch
        {
            socket.Close();
            throw;
        }
    }

    // ------------------------------------------------------------------ raw ICMP

    private void OpenRaw(Socket socket)
    {
        _raw.Add(socket);
        Stack.Ipv4.RawIcmpReceived = _onRawIcmp;
        if (Stack.Ipv6 is { } v6) v6.RawIcmpReceived = _onRawIcmp;
    }

    internal void CloseRaw(Socket socket)
    {
        _raw.Remove(socket);
        if (_raw.Count == 0)
        {
            Stack.Ipv4.RawIcmpReceived = null;
            if (Stack.Ipv6 is { } v6) v6.RawIcmpReceived = null;
        }
    }

    private void OnRawIcmp(ReadOnlySpan<byte> packet, IpAddress source)
    {
        foreach (var s in _raw)
            if ((s.Family == SocketModule.AF_INET6) == source.IsIpv6) s.DeliverRaw(packet, source);
    }

    internal static DatagramQueue NewRawQueue() => new(64 * 1024, 16);

    /// <summary>
    /// Stops the driver (shared by a pair: disposing either stops it), which stops the services and keeps polling for at
    /// most <see cref="StackDriver.ShutdownGrace"/> while frames still wait for neighbour resolution (a DHCP RELEASE), then
    /// disposes the link.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Driver.Stop();   // the pair shares one: disposing either stops it (services stopped, last frames given their grace)
        Stack.Dispose();
        if (ReferenceEquals(Default, this)) Default = null;
    }
}
