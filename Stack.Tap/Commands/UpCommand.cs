using System.Runtime.InteropServices;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Tap.Services;

namespace TcpIpSharp.Tap.Commands;

/// <summary><c>tcpipsharp up</c>: attaches to a TAP (or a pcap interface), appears there as a host, runs until interrupted, then prints statistics.</summary>
internal static class UpCommand
{
    public const string Usage = "up " + HostSetup.Usage + " [--services LIST|none]";
    private static readonly string[] KnownServices = ["echo", "discard", "chargen", "http"];

    public static int Run(string[] args)
    {
        var cl = new CommandLine(args, "--trace");
        var services = ParseServices(cl.Get("--services"));
        var clock = new SystemClock();
        using var stack = HostSetup.Create(cl, clock);
        stack.PublishMetrics();
        var driver = new StackDriver(stack, clock);
        driver.Add(new UdpServices(services.Contains("echo"), services.Contains("discard"), services.Contains("chargen")));

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        var udpServices = services.Where(s => s != "http").Select(s => $"udp-{s}({s switch { "echo" => 7, "discard" => 9, _ => 19 }})");
        Console.WriteLine($"tcpipsharp: up on {cl.Get("--tap") ?? cl.Get("--pcap-if")} as {stack.Address}/{stack.PrefixLength}" +
                          $" gw {stack.Gateway} mac {stack.MacAddress} mtu {stack.Mtu}; services: {string.Join(", ", udpServices.Prepend("icmp-echo"))}" +
                          (services.Count > 0 ? "; TCP services are not built yet" : ""));
        Console.Out.Flush();
        driver.Run(stop.Token);
        Console.WriteLine("tcpipsharp: statistics");
        Console.Write(stack.Statistics.ToString());
        return 0;
    }

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
