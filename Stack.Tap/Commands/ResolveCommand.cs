using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Services.Dns;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp resolve NAME</c>: looks a name up through the stack's resolver (its DNS server given with --dns or
/// learnt by --dhcp) and prints the answers as <c>host</c> does, then the <c>getaddrinfo</c> list the Pico would get.
/// </summary>
internal static class ResolveCommand
{
    public static Command Create()
    {
        var command = new Command("resolve", "Look NAME up with the stack's DNS resolver. The servers come from --dns or --dhcp; a NAME.local is asked by multicast DNS instead (RFC 6762), with neither. The answers are printed as host prints them, then the getaddrinfo list.")
        {
            Opt.Argument("NAME", "the name to look up"),
            Opt.Value("--type", "TYPE", "the record type: A, AAAA, CNAME, MX, TXT, NS, PTR, SOA or a number (A)", "A", "AAAA", "CNAME", "MX", "TXT", "NS", "PTR", "SOA"),
            Opt.Value("--port", "N", "the port of the getaddrinfo list printed after the answers (0)"),
            Opt.Value("--timeout", "SECONDS", "give up after SECONDS (30)"),
        };
        LinkOptions.AddTo(command);
        command.SetAction(App.Action(Run));
        return command;
    }

    public static int Run(CommandLine cl)
    {
        if (cl.Positional.Count != 1) throw new UsageException("resolve takes one NAME");
        string name = cl.Positional[0];
        var type = ParseType(cl.Get("--type") ?? "A");
        int port = cl.GetInt("--port", 0);
        if (port is < 0 or > 65535) throw new UsageException("--port must be between 0 and 65535");
        var timeout = TimeSpan.FromSeconds(cl.GetDouble("--timeout", 30));
        var dhcp = HostSetup.Dhcp(cl);
        // A .local name is asked by multicast DNS (RFC 6762 5.1) and never sent to a unicast server: no server needed.
        bool local = name.TrimEnd('.').EndsWith(".local", StringComparison.OrdinalIgnoreCase);
        if (dhcp is null && !cl.Has("--dns") && !local) throw new UsageException("give the DNS server with --dns A.B.C.D, or use --dhcp (a NAME.local needs neither)");

        var clock = new SystemClock();
        using var stack = HostSetup.Create(cl, clock);
        var driver = new StackDriver(stack, clock);
        if (dhcp is not null) driver.Add(dhcp);
        var resolver = new DnsResolver();
        driver.Add(resolver);
        // With DHCP, a lease first; with only IPv6 servers, an IPv6 address of ours that passed DAD.
        var job = new CommandJob<DnsLookup>(dhcp, timeout, (_, now) => resolver.Resolve(name, type, now), l => l.IsCompleted,
            ready: s => s.ResolverServers.Count == 0 || s.ResolverServers.Any(server => !s.SourceAddressFor(server).IsAny));
        driver.Add(job);
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        job.Done = stop.Cancel;
        driver.Run(stop.Token);

        var lookup = job.Completed ? job.Work : null;
        // The resolver's counters (wrong IDs, sources, questions rejected...) on standard error, for tests and diagnosis.
        foreach (var (counter, value) in resolver.Statistics.Snapshot())
            if (value != 0) Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tcpipsharp resolve: {counter} {value}"));
        if (lookup is null)
        {
            Console.WriteLine(dhcp is not null && dhcp.Status != DhcpStatus.GotIp
                ? $"tcpipsharp resolve: no DHCP lease within {timeout.TotalSeconds:0} s (state {dhcp.State})"
                : $"tcpipsharp resolve: {name}: no answer within {timeout.TotalSeconds:0} s");
            return 1;
        }
        Print(lookup, port);
        return lookup.Error == DnsError.None ? 0 : 1;
    }

    private static void Print(DnsLookup lookup, int port)
    {
        if (lookup.Error != DnsError.None)
        {
            string what = lookup.Error switch
            {
                DnsError.NameNotFound => "3(NXDOMAIN)",
                DnsError.NoData => $"has no {TypeName(lookup.Type)} record",
                _ => lookup.Error.ToString(),
            };
            Console.WriteLine(lookup.Error == DnsError.NoData ? $"{lookup.Name} {what}" : $"Host {lookup.Name} not found: {what}");
            Console.WriteLine($"getaddrinfo('{lookup.Name}', {port}): OSError: [Errno {lookup.Errno}] {DnsLookup.MessageOf(lookup.Error)}");
            return;
        }
        if (lookup.Aliases.Count > 0)
        {
            var owner = lookup.Name;
            foreach (var alias in lookup.Aliases.Skip(1).Append(lookup.CanonicalName))
            {
                Console.WriteLine($"{owner} is an alias for {alias}.");
                owner = alias;
            }
        }
        foreach (var record in lookup.Records)
        {
            Console.WriteLine(record.Type switch
            {
                DnsType.A => $"{record.Name} has address {record.Data}",
                DnsType.Aaaa => $"{record.Name} has IPv6 address {record.Data}",
                DnsType.Mx => $"{record.Name} mail is handled by {record.Data}.",
                DnsType.Txt => $"{record.Name} descriptive text {record.Data}",
                DnsType.Cname => $"{record.Name} is an alias for {record.Data}.",
                DnsType.Ns => $"{record.Name} name server {record.Data}.",
                DnsType.Ptr => $"{record.Name} domain name pointer {record.Data}.",
                _ => $"{record.Name} has {TypeName(record.Type)} record {record.Data}",
            });
        }
        if (lookup.Truncated) Console.WriteLine(";; the answer was truncated (TC) even over TCP: records may be missing");
        if (lookup.Type is DnsType.A or DnsType.Aaaa)
            Console.WriteLine($"getaddrinfo('{lookup.Name}', {port}) = [{string.Join(", ", AddressInfo.FromLookup(lookup, port))}]");
        Console.WriteLine(lookup.FromCache ? ";; answered without a query" : $";; answered by {lookup.Server}{(lookup.OverTcp ? " over TCP after a truncated UDP answer" : "")}");
    }

    private static string TypeName(DnsType type) => type == DnsType.Aaaa ? "AAAA" : type.ToString().ToUpperInvariant();

    private static DnsType ParseType(string text)
    {
        if (text.Equals("AAAA", StringComparison.OrdinalIgnoreCase)) return DnsType.Aaaa;
        if (Enum.TryParse<DnsType>(text, ignoreCase: true, out var type) && Enum.IsDefined(type) && type is not DnsType.Opt and not DnsType.Any)
            return type;
        if (ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ushort number) && number > 0) return (DnsType)number;
        throw new UsageException($"--type: '{text}' is not a record type (A, AAAA, CNAME, MX, TXT, NS, PTR, SOA, or a number)");
    }
}
