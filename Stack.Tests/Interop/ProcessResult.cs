namespace TcpIpSharp.Tests.Interop;

/// <summary>How a process ended: its exit code, or that it was killed (at its time limit, or by the cleanup) before it exited by itself; and what it printed.</summary>
public sealed record ProcessResult(string Command, int ExitCode, bool Killed, string StandardOutput, string StandardError)
{
    /// <summary>True when the process exited by itself with status 0.</summary>
    public bool Succeeded => !Killed && ExitCode == 0;

    /// <summary>Returns this result, or throws naming the command, its status and its output.</summary>
    public ProcessResult ThrowIfFailed() => Succeeded ? this : throw new InvalidOperationException(ToString());

    public override string ToString()
        => $"'{Command}' {(Killed ? "was killed (time limit or cleanup) before it exited" : $"exited {ExitCode}")}"
           + (StandardOutput.Length > 0 ? $"\nstdout: {StandardOutput.TrimEnd()}" : "")
           + (StandardError.Length > 0 ? $"\nstderr: {StandardError.TrimEnd()}" : "");
}
