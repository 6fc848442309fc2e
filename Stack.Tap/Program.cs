using System.Reflection;
using TcpIpSharp.Tap.Commands;

namespace TcpIpSharp.Tap;

/// <summary>The <c>tcpipsharp</c> program: dispatches on its first argument to one command.</summary>
internal static class Program
{
    private const string Help = """
        usage: tcpipsharp COMMAND [ARGS]

        commands:
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
            default:
                error.WriteLine($"tcpipsharp: unknown command '{args[0]}'; see tcpipsharp --help");
                return 2;
        }
    }

    private static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
}
