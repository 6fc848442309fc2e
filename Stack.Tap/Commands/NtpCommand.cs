using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Services.Sntp;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp ntp [SERVER]</c>: one SNTP query (RFC 4330 / RFC 5905 client mode) from the stack, printed as
/// <c>ntpdate -q</c> prints it: the server's stratum, the offset of the local clock from it and the round-trip delay.
/// Without SERVER the servers come from DHCP option 42 (with --dhcp). Never sets the system clock.
/// </summary>
internal static class NtpCommand
{
    public static Command Create()
    {
        var command = new Command("ntp", "Ask an NTP server the time by SNTP, as ntpdate -q does. The offset and round-trip delay are printed and the system clock is never set; without SERVER, the servers DHCP gave are asked (option 42, with --dhcp).")
        {
            Opt.Argument("SERVER", "the server's IPv4 or IPv6 address (DHCP option 42's servers without it)", optional: true),
            Opt.Value("--timeout", "SECONDS", "wait for each of the two attempts (1)"),
        };
        LinkOptions.AddTo(command);
        command.SetAction(App.Action(Run));
        return command;
    }

    public static int Run(CommandLine cl)
    {
        if (cl.Positional.Count > 1) throw new UsageException("ntp takes at most one SERVER");
        IpAddress? server = cl.Positional.Count == 1 ? CommandLine.ParseIpAddress(cl.Positional[0], "SERVER") : null;
        var dhcp = HostSetup.Dhcp(cl);
        if (server is null && dhcp is null) throw new UsageException("give the SERVER, or --dhcp to ask the servers of DHCP option 42");
        double seconds = cl.GetDouble("--timeout", 1);
        if (seconds is < 0.001 or > 60) throw new UsageException("--timeout must be between 0.001 and 60 seconds");

        var clock = new SystemClock();
        using var stack = HostSetup.Create(cl, clock);
        var driver = new StackDriver(stack, clock);
        if (dhcp is not null) driver.Add(dhcp);
        // The driver's clock for the request's and the reply's times (T1, T4), not the poll's: a poll can start late.
        var sntp = new SntpClient(new SntpClientOptions { Servers = server is { } s ? [s] : [], Timeout = TimeSpan.FromSeconds(seconds) }, dhcp, driver.Clock);
        driver.Add(sntp);
        var job = new CommandJob<SntpQuery>(dhcp, TimeSpan.FromSeconds(2 * seconds + (dhcp is null ? 1 : 30)), (_, now) => sntp.Query(now), q => q.IsCompleted);
        driver.Add(job);
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        job.Done = stop.Cancel;
        driver.Run(stop.Token);

        var query = job.Work;
        if (query is null || !query.IsCompleted)
        {
            Console.WriteLine(dhcp is not null && dhcp.Status != DhcpStatus.GotIp
                ? "tcpipsharp ntp: no DHCP lease in time"
                : $"tcpipsharp ntp: {server?.ToString() ?? "the DHCP servers"}: no answer");
            return ExitCodes.Failed;
        }
        if (query.Error != SntpError.None)
        {
            Console.WriteLine($"tcpipsharp ntp: {query}");
            return ExitCodes.Failed;
        }
        // ntpdate -q: "server ..., stratum N, offset +S, delay S", then the date line with the adjustment it would make.
        Console.WriteLine(query.ToString());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{query.Time.ToLocalTime():d MMM HH:mm:ss} tcpipsharp ntp: adjust time server {query.Server} offset {query.OffsetText} sec"));
        return ExitCodes.Success;
    }
}
