using System.Reflection;
using TcpIpSharp.Capture;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Tap.Commands;

namespace TcpIpSharp.Tap;

/// <summary>The <c>tcpipsharp</c> program: dispatches on its first argument to one command.</summary>
internal static class Program
{
    private static readonly string Help = $"""
        usage: tcpipsharp COMMAND [ARGS]

        commands:
          {UpCommand.Usage}
                                 attach to a TAP (or a pcap interface) and run as a host there until interrupted
          {PingCommand.Usage}
                                 ping HOST from the stack
          {GetCommand.Usage}
                                 fetch a URL from the stack (a client over TCP)
          {SendCommand.Usage}
                                 send a file (or stdin) to a TCP peer from the stack, then half-close
          {ResolveCommand.Usage}
                                 look NAME up with the stack's DNS resolver (server from --dns or --dhcp)
          {ReplayCommand.Usage}
                                 replay a capture with the stack as one of its hosts (virtual time) and print
                                 the verdict: every recorded frame of the host reproduced or not (exit 1 if not)
          {GatewayCommand.Usage}
                                 (root) run as a gateway on a TUN or TAP: relay every flow through this host's sockets
          {DemoCommand.Usage}
                                 (root) the stack in a throwaway namespace answering ping, arping and socat
          decode FILE [--json]   print one line per frame of a pcap/pcapng capture (Ethernet link type):
                                 a tcpdump-style summary, or with --json one JSON object per line

        options:
          --help                 this text
          --version              the program's version
        """;

    private static int Main(string[] args)
    {
        using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
        try
        {
            return Run(args, output, Console.Error);
        }
        finally
        {
            output.Flush();
        }
    }

    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0)
        {
            error.WriteLine(Help);
            return 2;
        }
        string[] rest = args[1..];
        try
        {
            switch (args[0])
            {
                case "--help" or "-h" or "help":
                    output.WriteLine(Help);
                    return 0;
                case "--version":
                    output.WriteLine("tcpipsharp " + Version);
                    return 0;
                case "decode":
                    return DecodeCommand.Run(rest, output, error);
                // The long-running commands print as they go, straight to the console.
                case "up":
                    return UpCommand.Run(rest);
                case "ping":
                    return PingCommand.Run(rest);
                case "get":
                    return GetCommand.Run(rest);
                case "send":
                    return SendCommand.Run(rest);
                case "resolve":
                    return ResolveCommand.Run(rest);
                case "replay":
                    return ReplayCommand.Run(rest);
                case "demo":
                    return DemoCommand.Run(rest);
                case "gateway":
                    return GatewayCommand.Run(rest);
                default:
                    error.WriteLine($"tcpipsharp: unknown command '{args[0]}'; see tcpipsharp --help");
                    return 2;
            }
        }
        catch (UsageException e)
        {
            error.WriteLine($"tcpipsharp {args[0]}: {e.Message}");
            error.WriteLine("usage: tcpipsharp " + args[0] switch
            {
                "up" => UpCommand.Usage, "ping" => PingCommand.Usage, "get" => GetCommand.Usage, "send" => SendCommand.Usage, "resolve" => ResolveCommand.Usage,
                "replay" => ReplayCommand.Usage, "demo" => DemoCommand.Usage, "gateway" => GatewayCommand.Usage, _ => args[0],
            });
            return 2;
        }
        catch (CaptureFormatException e)
        {
            error.WriteLine($"tcpipsharp {args[0]}: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            // A link that cannot be opened: no such TAP, no permission, no libpcap.
            error.WriteLine($"tcpipsharp {args[0]}: {e.Message}");
            return 1;
        }
    }

    private static string Version =>
        (typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];
}
