using System.Diagnostics;

namespace TcpIpSharp.Tests.Support;

/// <summary>Runs command-line tools (tshark, capinfos, the built tcpipsharp) from tests.</summary>
internal static class ExternalTool
{
    /// <summary>The full path of a command on PATH, or null.</summary>
    public static string? Find(string command)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, command);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Fails the test, naming the Debian package, when a command is missing.</summary>
    public static string Require(string command, string package)
    {
        string? path = Find(command);
        if (path is null) Assert.Fail($"{command} is not installed (apt-get install {package}; ./test.sh installs it)");
        return path!;
    }

    /// <summary>Runs a program to completion (at most <paramref name="timeoutSeconds"/>) and returns its exit status and output.</summary>
    public static (int ExitCode, string StandardOutput, string StandardError) Run(string program, IEnumerable<string> arguments, int timeoutSeconds = 120)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + program);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} did not finish within {timeoutSeconds} s");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
