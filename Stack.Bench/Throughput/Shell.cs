using System.Diagnostics;

namespace TcpIpSharp.Bench.Throughput;

/// <summary>Runs a command with a time limit and returns its exit status and output (never throws for a failed command).</summary>
internal static class Shell
{
    /// <summary>What a finished command left.</summary>
    public readonly record struct Result(int Code, string Output, string Error)
    {
        /// <summary>Throws unless the command exited 0, naming it and quoting its error output.</summary>
        public Result Check(string what) => Code == 0 ? this : throw new InvalidOperationException($"{what} failed (exit {Code}): {Error.Trim()} {Output.Trim()}");
    }

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/>, killing it after <paramref name="timeout"/>.</summary>
    public static Result Run(TimeSpan timeout, string file, params string[] args)
    {
        using var p = Start(file, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return new Result(-1, stdout.Result, $"timed out after {timeout.TotalSeconds:0} s; " + stderr.Result);
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a command with a 10 s limit and throws if it fails.</summary>
    public static string Check(string file, params string[] args)
        => Run(TimeSpan.FromSeconds(10), file, args).Check($"{file} {string.Join(' ', args)}").Output;

    /// <summary>Starts a command with its output redirected.</summary>
    public static Process Start(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
    }

    /// <summary>The full path of a program on PATH (or in /usr/sbin and /sbin), or null.</summary>
    public static string? Which(string tool)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
        return directories.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
    }
}
