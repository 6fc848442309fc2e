using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using TcpIpSharp.Gateway;
using TcpIpSharp.Links;
using TcpIpSharp.Linux;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp gateway</c>: attaches to a TUN (or a TAP) and runs the stack as a gateway for what is behind it: every
/// TCP connection and UDP flow a guest opens is relayed through this process's own sockets (see docs/gateway.md).
/// Self-contained: <see cref="GatewayCommandOptions.Parse"/> reads the arguments, <see cref="Run(GatewayCommandOptions)"/> runs.
/// </summary>
internal static class GatewayCommand
{
    public static Command Create()
    {
        var command = new Command("gateway", "Relay a guest's flows from a TUN through this host's sockets. Every TCP connection and UDP " +
                                             "flow a guest behind the TUN (or a TAP) opens goes on through a socket of this process, directly or " +
                                             "through a SOCKS5 proxy (docs/gateway.md). Statistics on SIGTERM or SIGINT.")
        {
            Opt.Value("--tun", "NAME", "the TUN device to attach to or create (IFF_TUN, bare IP packets)"),
            Opt.Value("--tap", "NAME", "a TAP device instead (the guest routes via --ip)"),
            Opt.Value("--ip", "A.B.C.D/LEN", "the gateway's own address (ping and DNS go to it)"),
            Opt.Value("--ip6", "ADDR/LEN", "an IPv6 address of the gateway's own (turns IPv6 on)"),
            Opt.Value("--socks5", "HOST:PORT", "relay TCP through this SOCKS5 proxy (RFC 1928)"),
            Opt.Value("--socks5-user", "USER", "user name for the proxy (RFC 1929), with --socks5-password"),
            Opt.Value("--socks5-password", "PASSWORD", "password for the proxy"),
            Opt.Value("--allow", "CIDR,...", "relay only these destinations"),
            Opt.Value("--deny", "CIDR,...", "refuse these destinations (a reset, or port unreachable)"),
            Opt.Value("--dns", "ADDR:PORT", "where DNS to the gateway's address is relayed (the host's resolv.conf server); A and AAAA are answered by the host's resolver"),
            Opt.Switch("--no-host-resolver", "relay A and AAAA questions too, instead of asking the host's resolver"),
            Opt.Value("--dns-cache", "N", "DNS answers the gateway keeps for their TTL, 0 for none (1024)"),
            Opt.Switch("--no-echo-relay", "answer pings to every address here instead of relaying them (the fallback when no ICMP socket opens)"),
            Opt.Value("--max-flows", "N", "TCP flows at once (4096)"),
            Opt.Value("--max-udp-flows", "N", "UDP flows at once (1024)"),
            Opt.Value("--relay-buffer", "BYTES", "host-to-guest read size per TCP flow, its buffer past 1 MB (262144)"),
            Opt.Value("--udp-idle", "SECONDS", "close a UDP flow idle this long (60)"),
            Opt.Value("--time-wait", "SECONDS", "TIME-WAIT of the stack's connections, 1-240 (60)"),
            Opt.Switch("--no-offload", "open the device without the virtio-net header and offloads"),
            Opt.Switch("--trace", "print each flow as it opens and closes"),
        };
        command.SetAction(App.Action(Run));
        return command;
    }

    public static int Run(CommandLine cl) => Run(GatewayCommandOptions.Parse(cl));

    public static int Run(GatewayCommandOptions o)
    {
        var clock = new SystemClock();
        ILink link = o.Tun is not null ? TunLink.Open(o.Tun, null, o.Offloads) : TapLink.Open(o.Tap!, null, o.Offloads);
        var tcp = new Transport.Tcp.TcpConnectionOptions { TimeWaitTimeout = o.TimeWait };
        var options = new NetworkStackOptions
        {
            Address = o.Address,
            PrefixLength = o.PrefixLength,
            AnnounceOnUp = o.Tun is null,
            Tcp = tcp,
            // Room for every flow in TIME-WAIT beside the open ones.
            TcpMaxConnections = Math.Max(16_384, o.MaxFlows * 4),
            Ipv6 = o.Ipv6Address is { } v6 ? new Net.Ipv6.Ipv6Options { StaticAddresses = [(v6.Address, v6.PrefixLength)] } : null,
        };
        using var stack = new NetworkStack(link, options);
        stack.PublishMetrics();
        var driver = new StackDriver(stack, clock);
        var gatewayOptions = new GatewayOptions
        {
            MaxTcpFlows = o.MaxFlows,
            MaxUdpFlows = o.MaxUdpFlows,
            DnsCacheEntries = o.DnsCache,
            RelayBufferSize = o.RelayBuffer,
            Allow = o.Allow,
            Deny = o.Deny,
            Socks5Proxy = o.Socks5,
            Socks5User = o.Socks5User,
            Socks5Password = o.Socks5Password,
            DnsServer = o.Dns,
            ResolveOnHost = o.HostResolver,
            RelayEcho = o.EchoRelay,
            UdpIdleTimeout = o.UdpIdle,
            Trace = o.Trace ? line => { Console.WriteLine("tcpipsharp: " + line); Console.Out.Flush(); } : null,
        };
        using var gateway = GatewayHost.Start(driver, gatewayOptions);
        gateway.Statistics.Publish();
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        string offloads = link switch { TunLink t => t.OffloadsEnabled ? "offloads" : "no offloads", TapLink t => t.OffloadsEnabled ? "offloads" : "no offloads", _ => "" };
        Console.WriteLine($"tcpipsharp: gateway on {o.Tun ?? o.Tap} ({(o.Tun is not null ? "tun" : "tap")}, {offloads}) as {o.Address}/{o.PrefixLength}" +
                          (o.Ipv6Address is { } a6 ? $" and {a6.Address}/{a6.PrefixLength}" : "") +
                          $"; tcp and udp relayed {(o.Socks5 is null ? "directly" : $"through socks5 {o.Socks5}")}; dns {(o.HostResolver ? "A/AAAA from the host's resolver, the rest " : "")}to {gateway.DnsServer?.ToString() ?? "(none)"} (udp and tcp)" +
                          $"; ping {Echo(gateway.EchoModeIpv4)} (ipv4), {Echo(gateway.EchoModeIpv6)} (ipv6)");
        Console.Out.Flush();
        driver.Run(stop.Token);
        static string Echo(GatewayEchoMode mode) => mode switch
        {
            GatewayEchoMode.DatagramSocket => "relayed (icmp datagram socket)",
            GatewayEchoMode.RawSocket => "relayed (raw icmp socket)",
            _ => "answered here",
        };
        Console.WriteLine("tcpipsharp: gateway statistics");
        Console.Write(gateway.Statistics.ToString());
        Console.WriteLine("tcpipsharp: statistics");
        Console.Write(stack.Statistics.ToString());
        return 0;
    }
}

/// <summary>The <c>gateway</c> command's options (the parser the lead ports to System.CommandLine builds one of these).</summary>
internal sealed record GatewayCommandOptions
{
    public string? Tun { get; init; }
    public string? Tap { get; init; }
    public Ipv4Address Address { get; init; }
    public int PrefixLength { get; init; }
    public (Ipv6Address Address, int PrefixLength)? Ipv6Address { get; init; }
    public EndPoint? Socks5 { get; init; }
    public string? Socks5User { get; init; }
    public string? Socks5Password { get; init; }
    public IReadOnlyList<IPNetwork> Allow { get; init; } = [];
    public IReadOnlyList<IPNetwork> Deny { get; init; } = [];
    public IPEndPoint? Dns { get; init; }
    public int MaxFlows { get; init; } = 4096;
    public int MaxUdpFlows { get; init; } = 1024;
    public int DnsCache { get; init; } = 1024;
    public int RelayBuffer { get; init; } = 256 * 1024;
    public TimeSpan UdpIdle { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan TimeWait { get; init; } = TimeSpan.FromSeconds(60);
    public bool Offloads { get; init; } = true;
    public bool HostResolver { get; init; } = true;
    public bool EchoRelay { get; init; } = true;
    public bool Trace { get; init; }

    public static GatewayCommandOptions Parse(CommandLine cl)
    {
        string? tun = cl.Get("--tun"), tap = cl.Get("--tap");
        if ((tun is null) == (tap is null)) throw new UsageException("give one of --tun NAME or --tap NAME");
        var (address, prefix) = CommandLine.ParseCidr(cl.Require("--ip"));
        (Ipv6Address, int)? v6 = null;
        if (cl.Get("--ip6") is string text)
        {
            int slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0 || !Wire.Ipv6Address.TryParse(text.AsSpan(0, slash), out var a) || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int len) || len is < 1 or > 128)
                throw new UsageException($"--ip6: '{text}' is not ADDR/LEN");
            v6 = (a, len);
        }
        string? user = cl.Get("--socks5-user"), password = cl.Get("--socks5-password");
        if ((user is null) != (password is null)) throw new UsageException("--socks5-user and --socks5-password go together");
        int maxFlows = cl.GetInt("--max-flows", 4096);
        if (maxFlows is < 1 or > 1_000_000) throw new UsageException("--max-flows must be between 1 and 1000000");
        int maxUdpFlows = cl.GetInt("--max-udp-flows", 1024);
        if (maxUdpFlows is < 1 or > 1_000_000) throw new UsageException("--max-udp-flows must be between 1 and 1000000");
        int dnsCache = cl.GetInt("--dns-cache", 1024);
        if (dnsCache is < 0 or > 1_000_000) throw new UsageException("--dns-cache must be between 0 and 1000000");
        int relayBuffer = cl.GetInt("--relay-buffer", 256 * 1024);
        if (relayBuffer is < 1024 or > 16 * 1024 * 1024) throw new UsageException("--relay-buffer must be between 1024 and 16777216 bytes");
        int udpIdle = cl.GetInt("--udp-idle", 60), timeWait = cl.GetInt("--time-wait", 60);
        if (udpIdle is < 1 or > 3600) throw new UsageException("--udp-idle must be between 1 and 3600 seconds");
        if (timeWait is < 1 or > 240) throw new UsageException("--time-wait must be between 1 and 240 seconds");
        return new GatewayCommandOptions
        {
            Tun = tun,
            Tap = tap,
            Address = address,
            PrefixLength = prefix,
            Ipv6Address = v6,
            Socks5 = cl.Get("--socks5") is string s ? ParseEndPoint(s, "--socks5") : null,
            Socks5User = user,
            Socks5Password = password,
            Allow = Networks(cl.Get("--allow"), "--allow"),
            Deny = Networks(cl.Get("--deny"), "--deny"),
            Dns = cl.Get("--dns") is string d ? ParseEndPoint(d, "--dns", 53) : null,
            MaxFlows = maxFlows,
            MaxUdpFlows = maxUdpFlows,
            DnsCache = dnsCache,
            RelayBuffer = relayBuffer,
            UdpIdle = TimeSpan.FromSeconds(udpIdle),
            TimeWait = TimeSpan.FromSeconds(timeWait),
            Offloads = !cl.Has("--no-offload"),
            HostResolver = !cl.Has("--no-host-resolver"),
            EchoRelay = !cl.Has("--no-echo-relay"),
            Trace = cl.Has("--trace"),
        };
    }

    private static IReadOnlyList<IPNetwork> Networks(string? list, string what)
    {
        if (list is null) return [];
        var result = new List<IPNetwork>();
        foreach (var item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            result.Add(IPNetwork.TryParse(item, out var net) ? net : throw new UsageException($"{what}: '{item}' is not a CIDR (ADDR/LEN)"));
        return result;
    }

    private static IPEndPoint ParseEndPoint(string text, string what, int defaultPort = 0)
    {
        if (IPEndPoint.TryParse(text, out var ep) && (ep.Port != 0 || defaultPort != 0))
            return ep.Port == 0 ? new IPEndPoint(ep.Address, defaultPort) : ep;
        throw new UsageException($"{what}: '{text}' is not ADDR:PORT");
    }
}
