using Microsoft.Extensions.Logging;
using TcpIpSharp.Links;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Linux;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Cli;

/// <summary>Builds a stack and its link from the link options (<see cref="LinkOptions"/>) shared by every command that opens one.</summary>
internal static class HostSetup
{
    public static NetworkStackOptions Options(CommandLine cl)
    {
        Ipv4Address address = default, gateway = default;
        int prefix = 0;
        if (cl.Has("--dhcp"))
        {
            if (cl.Has("--ip") || cl.Has("--gw")) throw new UsageException("--dhcp configures the address and gateway: leave out --ip and --gw");
        }
        else if (cl.HasIfDefined("--autoip") && !cl.Has("--ip"))
        {
            // up --autoip alone: no address until the link-local client has probed one (RFC 3927).
            if (cl.Has("--gw")) throw new UsageException("--autoip takes no --gw: link-local destinations are never routed");
        }
        else
        {
            if (cl.HasIfDefined("--autoip")) throw new UsageException("--autoip chooses the address: leave out --ip (or give --dhcp for link-local as its fall-back)");
            (address, prefix) = CommandLine.ParseCidr(cl.Get("--ip") ?? throw new UsageException("--ip A.B.C.D/LEN or --dhcp is required"));
            gateway = cl.Get("--gw") is string gw ? CommandLine.ParseAddress(gw, "--gw") : default;
        }
        var dns = new List<Ipv4Address>();
        var dns6 = new List<Ipv6Address>();
        if (cl.Get("--dns") is string servers)
            foreach (var text in servers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var server = CommandLine.ParseIpAddress(text, "--dns");
                if (server.IsIpv4) dns.Add(server.AsIpv4);
                else if (cl.Has("--no-ipv6")) throw new UsageException($"--dns: '{text}' is an IPv6 server: leave out --no-ipv6");
                else dns6.Add(server.AsIpv6);
            }
        MacAddress mac;
        if (cl.Get("--mac") is string m)
        {
            if (!MacAddress.TryParse(m, out mac)) throw new UsageException($"--mac: '{m}' is not a MAC address");
        }
        else mac = RandomMac();
        int? mtu = cl.Has("--mtu") ? cl.GetInt("--mtu", 1500) : null;
        if (mtu is < 68 or > 65535) throw new UsageException("--mtu must be between 68 and 65535");
        var tcp = new Transport.Tcp.TcpConnectionOptions();
        if (cl.Has("--time-wait"))
        {
            // RFC 9293 3.4.2 asks for 2 MSL (the stack's default is 60 s, as Linux); shorter only for tests and benchmarks.
            int seconds = cl.GetInt("--time-wait", 60);
            if (seconds is < 1 or > 240) throw new UsageException("--time-wait must be between 1 and 240 seconds");
            tcp = tcp with { TimeWaitTimeout = TimeSpan.FromSeconds(seconds) };
        }
        // --no-rack: loss detection by the duplicate-ACK threshold (RFC 6675) instead of RACK (RFC 8985), as Linux's
        // net.ipv4.tcp_recovery=0; for comparisons.
        if (cl.Has("--no-rack")) tcp = tcp with { RackLossDetection = false };
        if (cl.Get("--ecn") is string ecn)
        {
            // RFC 3168 ECN, as Linux's net.ipv4.tcp_ecn: off (0), accept (2, the default: answer peers that ask), request (1: ask too).
            tcp = tcp with
            {
                Ecn = ecn switch
                {
                    "off" => Transport.Tcp.TcpEcnMode.Off,
                    "accept" => Transport.Tcp.TcpEcnMode.Accept,
                    "request" => Transport.Tcp.TcpEcnMode.Request,
                    _ => throw new UsageException("--ecn takes off, accept or request"),
                },
            };
        }
        return new NetworkStackOptions { Address = address, PrefixLength = prefix, Gateway = gateway, MacAddress = mac, Mtu = mtu, DnsServers = dns, Tcp = tcp, Ipv6 = Ipv6(cl) is { } v6 ? v6 with { DnsServers = dns6 } : null, Hostname = Hostname(cl) ?? "PicoW" };
    }

    // A random locally administered unicast address, as the kernel gives a new TAP. A method of its own: a method with
    // stackalloc is JIT-compiled fully optimised at once (no tier 0), which for all of Options cost start-up time.
    private static MacAddress RandomMac()
    {
        Span<byte> b = stackalloc byte[6];
        System.Security.Cryptography.RandomNumberGenerator.Fill(b);
        b[0] = (byte)((b[0] & 0xFE) | 0x02);
        return MacAddress.Read(b);
    }

    // Dual-stack by default, as the Pico W since MicroPython 1.24: a link-local address and SLAAC from router
    // advertisements; --ip6 adds a static address, --gw6 a static default router; --no-ipv6 leaves IPv4 alone.
    private static Net.Ipv6.Ipv6Options? Ipv6(CommandLine cl)
    {
        if (cl.Has("--no-ipv6"))
        {
            if (cl.Has("--ip6") || cl.Has("--gw6")) throw new UsageException("--no-ipv6 turns IPv6 off: leave out --ip6 and --gw6");
            return null;
        }
        var options = new Net.Ipv6.Ipv6Options();
        if (cl.Get("--ip6") is string text)
        {
            int slash = text.IndexOf('/');
            if (slash < 0 || !Ipv6Address.TryParse(text.AsSpan(0, slash), out var a) || a.IsMulticast || a.IsUnspecified
                || !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int length) || length is < 1 or > 128)
                throw new UsageException($"--ip6: '{text}' is not an IPv6 address with a prefix length (ADDR/LEN, LEN 1..128)");
            options = options with { StaticAddresses = [(a, length)] };
        }
        if (cl.Get("--gw6") is string gw)
        {
            if (!Ipv6Address.TryParse(gw, out var g) || g.IsMulticast || g.IsUnspecified) throw new UsageException($"--gw6: '{gw}' is not an IPv6 unicast address");
            options = options with { StaticGateway = g };
        }
        return options;
    }

    /// <summary>The DHCP client <c>--dhcp</c> asks for (null without it); DNS servers given by hand win over DHCP's.</summary>
    public static DhcpClient? Dhcp(CommandLine cl)
    {
        if (!cl.Has("--dhcp")) return null;
        return new DhcpClient(new DhcpClientOptions { HostName = Hostname(cl), ApplyDnsServers = !cl.Has("--dns") });
    }

    /// <summary>
    /// --hostname: the name mDNS answers as NAME.local and DHCP sends (null without it: the Pico's "PicoW" for mDNS, no
    /// name to DHCP). One label of letters, digits and '-', at most 60 (room for the '-N' of an mDNS rename), as a Pico's <c>network.hostname()</c> takes;
    /// a trailing ".local" is taken off.
    /// </summary>
    public static string? Hostname(CommandLine cl)
    {
        var name = cl.Get("--hostname");
        if (name is null) return null;
        if (name.EndsWith(".local", StringComparison.OrdinalIgnoreCase)) name = name[..^6];
        if (name is { Length: 0 or > 60 } || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            throw new UsageException($"--hostname: '{cl.Get("--hostname")}' is not a host name (one label: letters, digits and '-', at most 60)");
        return name;
    }

    public static ILink Link(CommandLine cl, IClock clock, MacAddress mac)
    {
        ILink link;
        // A TAP takes checksum and segmentation offloads (64 KB TCP segments both ways) unless --no-offload; without
        // them, --tx-thread writes the frames from a thread of the link's own (the kernel's receive work in each write
        // then overlaps the stack's).
        // Without offloads frames cross in batches through io_uring when the kernel allows it (--uring insists, also with
        // offloads; --no-uring never tries).
        if (cl.Get("--tap") is string tap)
        {
            if ((cl.Has("--uring") || cl.Has("--uring-sqpoll")) && cl.Has("--no-uring")) throw new UsageException(cl.Has("--uring") ? "--uring and --no-uring exclude each other" : "--uring-sqpoll and --no-uring exclude each other");
            // --tx-thread asks for the per-frame path's writer thread, so it implies per-frame calls unless --uring.
            var io = cl.Has("--uring-sqpoll") ? TapIoMode.IoUringPolled
                : cl.Has("--uring") ? TapIoMode.IoUring : cl.Has("--no-uring") || cl.Has("--tx-thread") ? TapIoMode.PerFrame : TapIoMode.Auto;
            int? queue = cl.Has("--txqueuelen") ? cl.GetInt("--txqueuelen", CreatedTapTransmitQueue) : null;
            if (queue is < 1 or > MaximumTransmitQueue) throw new UsageException($"--txqueuelen must be between 1 and {MaximumTransmitQueue}");
            var tapLink = TapLink.Open(tap, null, offloads: !cl.Has("--no-offload"), transmitThread: cl.Has("--tx-thread"), io);
            SetTransmitQueue(tapLink, queue);
            link = tapLink;
        }
        else if (cl.Get("--pcap-if") is string iface) link = PcapLiveLink.Open(iface, ownMac: mac);
        else throw new UsageException("--tap NAME or --pcap-if IFACE is required");
        // --reorder RATE[,MS[,K]]: the library's fault injector holds back that share of the frames the stack sends by
        // MS milliseconds (5 by default; times 0.5-1; fractions allowed), so later frames overtake them (DESIGN.md 7: this
        // kernel has no netem); with K, until K later frames went out or MS passed, whichever is first (reordering of
        // degree K). --reorder-rx does the same to the frames the stack receives (the peer's sending meets it). For
        // measuring loss detection under reordering against a real peer.
        var sent = ParseReorder(cl, "--reorder");
        var received = ParseReorder(cl, "--reorder-rx");
        if (sent is not null || received is not null)
        {
            var options = new FaultOptions();
            if (sent is var (rate, delay, k)) options = options with { ReorderRate = rate, ReorderDelay = delay, ReorderDisplacement = k };
            if (received is var (rxRate, rxDelay, rxK)) options = options with { ReceiveReorderRate = rxRate, ReceiveReorderDelay = rxDelay, ReceiveReorderDisplacement = rxK };
            link = new FaultInjectorLink(link, options, Environment.TickCount, clock);
        }
        if (cl.Get("--pcap") is string pcap) link = PcapTracerLink.ToFile(link, pcap, clock);
        return link;
    }

    // RATE[,MS[,K]] of --reorder and --reorder-rx, or null when the option is absent.
    private static (double Rate, TimeSpan Delay, int K)? ParseReorder(CommandLine cl, string option)
    {
        if (cl.Get(option) is not string value) return null;
        var parts = value.Split(',');
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        double ms = 5;
        int k = 0;
        if (!double.TryParse(parts[0], System.Globalization.NumberStyles.Float, inv, out double rate) || rate is < 0 or > 1
            || parts.Length > 3
            || (parts.Length >= 2 && (!double.TryParse(parts[1], System.Globalization.NumberStyles.Float, inv, out ms) || ms is < 0 or > 10_000))
            || (parts.Length == 3 && (!int.TryParse(parts[2], System.Globalization.NumberStyles.None, inv, out k) || k is < 1 or > 10_000 || ms <= 0)))
            throw new UsageException($"{option}: '{value}' is not RATE[,MS[,K]] (RATE 0..1, MS 0..10000, K 1..10000)");
        return (rate, TimeSpan.FromTicks((long)(ms * TimeSpan.TicksPerMillisecond)), k);
    }

    /// <summary>
    /// The transmit queue (txqueuelen, frames) a TAP gets when the stack creates it, instead of the kernel's 1,000: a burst
    /// of 1,000 clients' SYNs (<c>ab -c 1000</c>) overflowed 1,000 while the stack's thread was busy and every dropped
    /// SYN cost its client a 1 s retransmission (docs/benchmarks.md, branch wip-ab).
    /// </summary>
    public const int CreatedTapTransmitQueue = 10_000;
    private const int MaximumTransmitQueue = 1_000_000;

    // --txqueuelen N sets the queue of any TAP; without it a TAP the stack created gets CreatedTapTransmitQueue and one
    // made by someone else keeps its creator's. Refused (no CAP_NET_ADMIN): a warning, and the stack runs on.
    private static void SetTransmitQueue(TapLink link, int? asked)
    {
        int? frames = asked ?? (link.Created ? CreatedTapTransmitQueue : null);
        if (frames is not int n) return;
        try
        {
            link.SetTransmitQueueLength(n);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"tcpipsharp: warning: the TAP's transmit queue stays at {link.TransmitQueueLength} frames ({e.Message}); " +
                                    $"bursts larger than that are dropped by the kernel (as root: ip link set {link.Name} txqueuelen {n})");
        }
    }

    public static ILoggerFactory? Logging(CommandLine cl)
    {
        if (cl.Get("--log-level") is not string level) return null;
        if (!Enum.TryParse<LogLevel>(level, ignoreCase: true, out var min)) throw new UsageException($"--log-level: '{level}' is not one of {string.Join(", ", Enum.GetNames<LogLevel>())}");
        return LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }).SetMinimumLevel(min));
    }

    public static NetworkStack Create(CommandLine cl, IClock clock)
    {
        var options = Options(cl);
        var link = Link(cl, clock, options.MacAddress);
        var stack = new NetworkStack(link, options, loggerFactory: Logging(cl));
        if (cl.Has("--trace"))
        {
            long number = 0;
            stack.FrameObserver = (frame, outgoing, now) =>
                Console.WriteLine((outgoing ? "> " : "< ") + Diagnostics.FrameFormatter.FormatSummary(frame, ++number));
        }
        return stack;
    }
}
