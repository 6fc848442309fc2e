using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Services.AutoIp;
using TcpIpSharp.Services.Dns;
using TcpIpSharp.Services.Mdns;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Tap.Services;

namespace TcpIpSharp.Tap.Commands;

/// <summary><c>tcpipsharp up</c>: attaches to a TAP (or a pcap interface), appears there as a host, runs until interrupted, then prints statistics.</summary>
internal static class UpCommand
{
    private static readonly string[] KnownServices = ["echo", "discard", "chargen", "http"];

    public static Command Create()
    {
        var command = new Command("up", "Run the stack as a host on a TAP or pcap interface until interrupted. It answers ping and ARP, runs the services, and prints its statistics when it stops.")
        {
            Opt.Value("--services", "LIST|none", "the services to run, comma-separated: echo, discard, chargen (UDP and TCP), http (TCP 80); all by default", [.. KnownServices, "none"]),
            Opt.Switch("--admin", "add GET /heap and GET /resolve/NAME to the HTTP service"),
            Opt.Switch("--status", "a live line on standard error (when it is a terminal): frames, connections and drops per second"),
            Opt.Switch("--json", "print the statistics on exit as one JSON object (one line) instead of the table"),
            Opt.Switch("--autoip", "an IPv4 link-local address (169.254/16, RFC 3927) instead of --ip; with --dhcp, the fall-back after 10 s without a lease, handed back when one arrives"),
            Opt.Switch("--no-mdns", "no mDNS responder (by default the stack answers HOSTNAME.local and publishes its services by DNS-SD, as a Pico W does)"),
        };
        LinkOptions.AddTo(command);
        command.SetAction(App.Action(Run));
        return command;
    }

    public static int Run(CommandLine cl)
    {
        var services = ParseServices(cl.Get("--services"));
        var dhcp = HostSetup.Dhcp(cl);
        var clock = new SystemClock();
        using var stack = HostSetup.Create(cl, clock);
        stack.PublishMetrics();
        var driver = new StackDriver(stack, clock);
        // --status: the live line on standard error (a terminal only); a line of news erases it first, and it comes back within the second.
        var status = cl.Has("--status") ? ProgressLine.ForConsole() : null;
        void Say(string line)
        {
            status?.Clear();
            Console.WriteLine(line);
        }
        if (dhcp is not null)
        {
            driver.Add(dhcp);
            dhcp.StateChanged += new DhcpReporter(stack, Say).OnStateChanged;
        }
        if (cl.Has("--autoip"))
        {
            var autoIp = new AutoIpClient(new AutoIpOptions(), dhcp);
            autoIp.StateChanged += (c, previous) =>
            {
                if (c.State == AutoIpState.Bound) Say($"tcpipsharp: autoip {c.Address}/16 bound (link-local, no gateway)");
                else if (previous == AutoIpState.Bound) Say($"tcpipsharp: autoip {c.Address} given up ({c.State})");
            };
            autoIp.Conflict += (c, address, mac) => Say($"tcpipsharp: autoip {address} is in use by {mac}");
            driver.Add(autoIp);
        }
        driver.Add(new UdpServices(services.Contains("echo"), services.Contains("discard"), services.Contains("chargen")));
        // --admin: GET /heap (forces a full GC) and GET /resolve/NAME (through a resolver of its own when --dns is given).
        AdminRoutes? admin = null;
        if (cl.Has("--admin"))
        {
            var resolver = stack.DnsServers.Count > 0 ? new DnsResolver() : null;
            if (resolver is not null) driver.Add(resolver);
            admin = new AdminRoutes(resolver);
        }
        if (status is not null) driver.Add(new StatusLine(status));
        // mDNS (RFC 6762) and DNS-SD (RFC 6763), on unless --no-mdns: HOSTNAME.local, and one instance per TCP service.
        MdnsResponder? mdns = null;
        string hostname = HostSetup.Hostname(cl) ?? "PicoW";
        if (!cl.Has("--no-mdns"))
        {
            mdns = new MdnsResponder();
            foreach (var (name, type, port) in new[] { ("http", "_http._tcp", 80), ("echo", "_echo._tcp", 7), ("discard", "_discard._tcp", 9), ("chargen", "_chargen._tcp", 19) })
                if (services.Contains(name)) mdns.Register(new ServiceInstance(hostname, type, (ushort)port, name == "http" ? ["path=/"] : null));
            mdns.NameChanged += c => Say($"tcpipsharp: mdns: {c.OldName} is taken on the link; now {c.NewName}");
            driver.Add(mdns);
        }
        driver.Add(new TcpServices(services.Contains("echo"), services.Contains("discard"), services.Contains("chargen"), services.Contains("http"), admin, mdns));

        // Each IPv6 address is printed when duplicate address detection has passed and it is in use (or when it fails).
        stack.Ipv6AddressPreferred += a => Say($"tcpipsharp: ipv6 {a.Address}/{a.PrefixLength} preferred ({a.Origin switch
        {
            Net.Ipv6.Ipv6AddressOrigin.LinkLocal => "link-local",
            Net.Ipv6.Ipv6AddressOrigin.Autoconfigured => $"slaac, preferred {Lifetime(a.PreferredLifetime)}, valid {Lifetime(a.ValidLifetime)}",
            _ => "static",
        }})");
        stack.Ipv6AddressConflict += (a, mac) => Say($"tcpipsharp: ipv6 {a}: duplicate address detected (in use by {mac?.ToString() ?? "another node"}); not used");
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        var listed = services.Where(s => s != "http").Select(s => $"{s} (udp+tcp {s switch { "echo" => 7, "discard" => 9, _ => 19 }})").Prepend("icmp-echo");
        if (services.Contains("http")) listed = listed.Append(admin is null ? "http (tcp 80)" : "http (tcp 80, with /heap and /resolve/NAME)");
        Console.WriteLine($"tcpipsharp: up on {cl.Get("--tap") ?? cl.Get("--pcap-if")} as " +
                          (dhcp is not null ? (cl.Has("--autoip") ? "a DHCP client (link-local fall-back)" : "a DHCP client")
                           : cl.Has("--autoip") ? "an IPv4 link-local host (probing)" : $"{stack.Address}/{stack.PrefixLength} gw {stack.Gateway}") +
                          $" mac {stack.MacAddress} mtu {stack.Mtu}{(stack.Ipv6Enabled ? ", ipv6 link-local + slaac" : "")}; services: {string.Join(", ", listed)}" +
                          (mdns is null ? "" : $"; mdns {hostname}.local"));
        Console.Out.Flush();
        driver.Run(stop.Token);
        status?.Clear();
        if (dhcp is not null && dhcp.Statistics.ReleasesSent > 0) Console.WriteLine("tcpipsharp: dhcp: lease released");
        if (cl.Has("--json"))
        {
            Console.WriteLine(StatisticsJson(stack.Statistics.Snapshot().Concat(dhcp?.Statistics.Snapshot() ?? [])));
            return ExitCodes.Success;
        }
        Console.WriteLine("tcpipsharp: statistics");
        Console.Write(stack.Statistics.ToString());
        if (dhcp is not null)
            foreach (var (name, value) in dhcp.Statistics.Snapshot()) Console.WriteLine($"  {name} {value}");
        return 0;
    }

    /// <summary>Prints the configuration in the Pico's <c>ifconfig()</c> order when DHCP binds, and again whenever it changes or is lost.</summary>
    private sealed class DhcpReporter(NetworkStack stack, Action<string> say)
    {
        private string? _printed;

        public void OnStateChanged(DhcpClient client, DhcpState previous)
        {
            if (client.Lease is { } lease && client.Status == DhcpStatus.GotIp)
            {
                var ifconfig = DhcpLease.IfconfigString(stack.Address, stack.SubnetMask, stack.Gateway, stack.DnsServers.Count > 0 ? stack.DnsServers[0] : default);
                if (ifconfig == _printed) return;
                _printed = ifconfig;
                string time = lease.IsInfinite ? "infinite lease" : $"lease {lease.LeaseTime.TotalSeconds:0} s (T1 {lease.RenewalTime.TotalSeconds:0} s, T2 {lease.RebindingTime.TotalSeconds:0} s)";
                say(string.Create(CultureInfo.InvariantCulture,
                    $"tcpipsharp: dhcp {(previous is DhcpState.Renewing or DhcpState.Rebinding ? "renewed with changes" : "bound")}: {ifconfig} {time} from {lease.ServerIdentifier}, mtu {stack.Mtu}"));
            }
            else if (_printed is not null && client.Status != DhcpStatus.GotIp && client.State != DhcpState.Stopped)
            {
                _printed = null;
                say($"tcpipsharp: dhcp: address lost ({previous} -> {client.State}); {DhcpLease.IfconfigString(default, default, default, default)}");
            }
            Console.Out.Flush();
        }
    }

    /// <summary>
    /// The counters as one JSON object on one line, grouped by the part of the name before its first dot:
    /// <c>{"link":{"received":12,...},"tcp":{...},"drop":{"UdpNoEndpoint":0,...},"dhcp":{...}}</c>. Every counter, zeros too,
    /// so that a script finds the keys it reads.
    /// </summary>
    internal static string StatisticsJson(IEnumerable<KeyValuePair<string, long>> counters)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var group in counters.GroupBy(c => c.Key.Split('.', 2)[0]))
            {
                w.WriteStartObject(group.Key);
                foreach (var (name, value) in group) w.WriteNumber(name.Contains('.') ? name.Split('.', 2)[1] : name, value);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Lifetime(TimeSpan? t) => t is TimeSpan v ? string.Create(CultureInfo.InvariantCulture, $"{v.TotalSeconds:0} s") : "infinite";

    internal static HashSet<string> ParseServices(string? list)
    {
        if (list is null) return [.. KnownServices];
        if (list == "none") return [];
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!KnownServices.Contains(name)) throw new UsageException($"--services: unknown service '{name}' (known: {string.Join(", ", KnownServices)}, or none)");
            set.Add(name);
        }
        return set;
    }
}
