using System.Diagnostics;
using System.Text;

namespace TcpIpSharp.Tests.Interop;

/// <summary>A process started by a test (usually inside a namespace with <c>ip netns exec</c>), its output collected as it runs. Dispose kills it if it still runs.</summary>
public sealed class NsProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private ProcessResult? _result;
    private bool _disposed;

    /// <summary>Starts <paramref name="command"/> (program and arguments, no shell).</summary>
    public NsProcess(IReadOnlyList<string> command)
    {
        ArgumentOutOfRangeException.ThrowIfZero(command.Count);
        Command = string.Join(' ', command);
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1)) info.ArgumentList.Add(argument);
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The command line, for messages.</summary>
    public string Command { get; }

    /// <summary>The process id (of <c>ip netns exec</c>, which becomes the command).</summary>
    public int Id => _process.Id;

    /// <summary>True once the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Its standard input, to feed it data.</summary>
    public StreamWriter StandardInput => _process.StandardInput;

    /// <summary>What it printed to standard output so far.</summary>
    public string OutputSoFar { get { lock (_stdout) return _stdout.ToString(); } }

    /// <summary>Waits up to <paramref name="timeout"/> for the process to end; kills it (and its children) if it has not. After <see cref="Dispose"/>, returns how it ended.</summary>
    public ProcessResult WaitForExit(TimeSpan timeout)
    {
        if (_result is not null) return _result;
        bool exited = _process.WaitForExit(timeout);
        if (!exited) Kill();
        return Collect(exited);
    }

    private ProcessResult Collect(bool exitedByItself)
    {
        _process.WaitForExit(TimeSpan.FromSeconds(5));
        if (_process.HasExited) _process.WaitForExit();  // flushes the asynchronous output readers
        string stdout, stderr;
        lock (_stdout) stdout = _stdout.ToString();
        lock (_stderr) stderr = _stderr.ToString();
        _result = new ProcessResult(Command, exitedByItself && _process.HasExited ? _process.ExitCode : -1, !exitedByItself, stdout, stderr);
        return _result;
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already exited
        }
    }

    /// <summary>Kills the process if it still runs (its result then says it was killed).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_result is null)
        {
            bool exited = _process.HasExited;
            if (!exited) Kill();
            Collect(exited);
        }
        _process.Dispose();
    }
}
