using System.Globalization;

namespace TcpIpSharp.Tap.Cli;

/// <summary>
/// One line of progress on standard error, rewritten in place (carriage return, then erase to the end of the line).
/// Only when standard error is a terminal: <see cref="ForConsole"/> gives null otherwise, so that scripts, pipes and
/// tests see exactly the output they always saw.
/// </summary>
internal sealed class ProgressLine(TextWriter error)
{
    private bool _shown;

    /// <summary>A progress line on standard error when it is a terminal and <paramref name="error"/> is standard error; else null.</summary>
    public static ProgressLine? ForConsole(TextWriter? error = null)
        => !Console.IsErrorRedirected && (error is null || ReferenceEquals(error, Console.Error)) ? new ProgressLine(Console.Error) : null;

    public void Show(string text)
    {
        error.Write("\r" + text + "\u001b[K");
        error.Flush();
        _shown = true;
    }

    /// <summary>Erases the line, so that what is printed next starts on a clean one.</summary>
    public void Clear()
    {
        if (!_shown) return;
        error.Write("\r\u001b[K");
        error.Flush();
        _shown = false;
    }

    public static string Bytes(double n) => n switch
    {
        >= 1e9 => string.Create(CultureInfo.InvariantCulture, $"{n / 1e9:0.00} GB"),
        >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{n / 1e6:0.0} MB"),
        >= 1e3 => string.Create(CultureInfo.InvariantCulture, $"{n / 1e3:0.0} kB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{n:0} B"),
    };

    public static string Duration(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
        : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}:{t.Seconds:00}");
}

/// <summary>
/// The progress of a transfer (<c>get</c>, <c>send</c>), run on the stack thread as a service: bytes so far, of how
/// many when known, the rate over the last second or so, and the time left. Four times a second.
/// </summary>
internal sealed class TransferProgress(string command, Func<long> done, Func<long?> total, ProgressLine line) : IStackService
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);
    private TimeSpan _next, _start;
    private readonly Queue<(TimeSpan At, long Bytes)> _window = new();
    private bool _stopped;

    public TimeSpan? NextDeadline => _stopped ? null : _next;

    public void Start(NetworkStack stack, TimeSpan now) => (_start, _next) = (now, now + Period);

    public void Poll(NetworkStack stack, TimeSpan now)
    {
        if (_stopped) return;
        // The first line as soon as bytes move (so a short transfer shows one too), then four a second.
        if (now < _next && (_window.Count > 0 || done() == 0)) return;
        _next = now + Period;
        long bytes = done();
        _window.Enqueue((now, bytes));
        while (_window.Count > 1 && now - _window.Peek().At > TimeSpan.FromSeconds(2)) _window.Dequeue();
        var (at, before) = _window.Peek();
        double seconds = (now - at).TotalSeconds;
        double rate = seconds > 0 ? (bytes - before) / seconds : 0;
        string text = $"{command}: {ProgressLine.Bytes(bytes)}";
        if (total() is long all and > 0)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" of {ProgressLine.Bytes(all)} ({100.0 * bytes / all:0}%)");
            if (rate > 0) text += string.Create(CultureInfo.InvariantCulture, $", {rate * 8 / 1e6:0.0} Mbit/s, {ProgressLine.Duration(TimeSpan.FromSeconds(Math.Max(0, all - bytes) / rate))} left");
        }
        else if (rate > 0) text += string.Create(CultureInfo.InvariantCulture, $", {rate * 8 / 1e6:0.0} Mbit/s");
        text += ", " + ProgressLine.Duration(now - _start);
        line.Show(text);
    }

    public void Stop(NetworkStack stack, TimeSpan now)
    {
        _stopped = true;
        line.Clear();
    }
}

/// <summary>
/// <c>up --status</c>: a one-line live view, once a second: frames in and out, connections, and drops, per second.
/// </summary>
internal sealed class StatusLine(ProgressLine line) : IStackService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    private TimeSpan _next, _last;
    private long _in, _out, _drops;
    private bool _stopped;

    public TimeSpan? NextDeadline => _stopped ? null : _next;

    public void Start(NetworkStack stack, TimeSpan now)
    {
        (_in, _out, _drops) = Read(stack);
        (_last, _next) = (now, now + Period);
    }

    public void Poll(NetworkStack stack, TimeSpan now)
    {
        if (_stopped || now < _next) return;
        var (received, sent, drops) = Read(stack);
        double seconds = Math.Max(1e-3, (now - _last).TotalSeconds);
        line.Show(string.Create(CultureInfo.InvariantCulture,
            $"up: {(received - _in) / seconds:0} frames/s in, {(sent - _out) / seconds:0} out, {stack.Tcp.Count} tcp connections, {(drops - _drops) / seconds:0} drops/s; {received} in, {sent} out, {drops} dropped"));
        (_in, _out, _drops, _last, _next) = (received, sent, drops, now, now + Period);
    }

    public void Stop(NetworkStack stack, TimeSpan now)
    {
        _stopped = true;
        line.Clear();
    }

    private static (long In, long Out, long Drops) Read(NetworkStack stack)
    {
        long received = 0, sent = 0, drops = 0;
        foreach (var (name, value) in stack.Statistics.Snapshot())
        {
            if (name == "link.received") received = value;
            else if (name == "link.sent") sent = value;
            else if (name.StartsWith("drop.", StringComparison.Ordinal)) drops += value;
        }
        return (received, sent, drops);
    }
}
