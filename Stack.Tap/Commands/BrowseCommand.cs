using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Services.Mdns;
using TcpIpSharp.Tap.Cli;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp browse TYPE</c>: browses the link for DNS-SD instances of a type (RFC 6763, by multicast DNS)
/// from the stack and prints each one resolved, as <c>avahi-browse -r</c> does.
/// </summary>
internal static class BrowseCommand
{
    public static Command Create()
    {
        var command = new Command("browse", "Browse for DNS-SD services, as avahi-browse -r does. TYPE is one such as _http._tcp; the browse runs by multicast DNS for --timeout seconds and prints each instance resolved. Exit 1 when none answered.")
        {
            Opt.Argument("TYPE", "the service type, e.g. _http._tcp or _ipp._tcp (.local may follow)"),
            Opt.Value("--timeout", "SECONDS", "how long to browse (3)"),
        };
        LinkOptions.AddTo(command);
        command.SetAction(App.Action(Run));
        return command;
    }

    public static int Run(CommandLine cl)
    {
        if (cl.Positional.Count != 1) throw new UsageException("browse takes one TYPE");
        string type = cl.Positional[0].TrimEnd('.');
        if (type.EndsWith(".local", StringComparison.OrdinalIgnoreCase)) type = type[..^6];
        var labels = type.Split('.');
        if (labels.Length != 2 || !labels[0].StartsWith('_') || labels[1] is not ("_tcp" or "_udp") || labels[0].Length is < 2 or > 16)
            throw new UsageException($"browse: '{cl.Positional[0]}' is not a service type (_NAME._tcp or _NAME._udp, RFC 6763 7)");
        double seconds = cl.GetDouble("--timeout", 3);
        if (seconds is <= 0 or > 3600) throw new UsageException("--timeout must be between 0 and 3600 seconds");
        var dhcp = HostSetup.Dhcp(cl);

        var clock = new SystemClock();
        using var stack = HostSetup.Create(cl, clock);
        var driver = new StackDriver(stack, clock);
        if (dhcp is not null) driver.Add(dhcp);
        var responder = new MdnsResponder(new MdnsOptions { Publish = false });   // a querier, as avahi-browse: claims no name
        driver.Add(responder);
        var job = new CommandJob<MdnsBrowse>(dhcp, TimeSpan.FromSeconds(seconds + (dhcp is null ? 0 : 30)),
            (_, now) => responder.Browse(type, TimeSpan.FromSeconds(seconds), now), b => b.IsCompleted);
        driver.Add(job);
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        job.Done = stop.Cancel;
        driver.Run(stop.Token);

        if (job.Work is not { } browse)
        {
            Console.WriteLine($"tcpipsharp browse: no DHCP lease within {seconds:0.#} s");
            return ExitCodes.Failed;
        }
        string link = cl.Get("--tap") ?? cl.Get("--pcap-if") ?? "?";
        int shown = 0;
        foreach (var s in browse.Services.Where(s => !s.Removed))
        {
            shown++;
            // avahi-browse -r: "=" a resolved instance, one block per address, else "+" a name only.
            if (!s.IsResolved)
            {
                Console.WriteLine($"+ {link,6} {"?",4} {s.Instance,-24} {s.Type,-16} local");
                continue;
            }
            foreach (var address in s.Addresses)
            {
                Console.WriteLine($"= {link,6} {(address.IsIpv4 ? "IPv4" : "IPv6")} {s.Instance,-24} {s.Type,-16} local");
                Console.WriteLine($"   hostname = [{s.HostName}]");
                Console.WriteLine($"   address = [{address}]");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   port = [{s.Port}]"));
                Console.WriteLine($"   txt = [{string.Join(" ", s.Txt.Select(t => $"\"{t}\""))}]");
            }
        }
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tcpipsharp browse: {shown} instance{(shown == 1 ? "" : "s")} of {type} in {seconds:0.#} s ({browse.QueriesSent} queries)"));
        return shown > 0 ? ExitCodes.Success : ExitCodes.Failed;
    }
}
