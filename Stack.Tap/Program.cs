using TcpIpSharp.Tap.Cli;

namespace TcpIpSharp.Tap;

/// <summary>The <c>tcpipsharp</c> program: the command line is defined and run by <see cref="App"/>.</summary>
internal static class Program
{
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

    internal static int Run(string[] args, TextWriter output, TextWriter error) => App.Run(args, output, error);
}
