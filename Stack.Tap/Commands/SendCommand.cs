using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp send A.B.C.D PORT [-i FILE]</c>: a TCP client that connects from the stack, sends a file (or standard
/// input) to the peer, half-closes, and waits for the peer to close, as <c>nc -N</c> does. It is the stack's side of an
/// upload to a kernel sink (<c>socat -u TCP-LISTEN:PORT -</c>).
/// </summary>
internal static class SendCommand
{
    public static Command Create()
    {
        var command = new Command("send", "Send a file or standard input to a TCP peer from the stack. It half-closes at the end and waits for the peer to close, as nc -N.")
        {
            Opt.Argument("ADDRESS", "the peer's IPv4 or IPv6 address"),
            Opt.Argument("PORT", "the peer's TCP port"),
            Opt.Value("-i", "FILE", "send FILE (standard input without it)"),
            Opt.Value("--timeout", "SECONDS", "give up after SECONDS (300)"),
        };
        LinkOptions.AddTo(command);
        command.SetAction(App.Action(Run));
        return command;
    }

    public static int Run(CommandLine cl)
    {
        if (cl.Positional.Count != 2) throw new UsageException("send takes an address and a port");
        var address = CommandLine.ParseIpAddress(cl.Positional[0], "address");
        if (!ushort.TryParse(cl.Positional[1], NumberStyles.None, CultureInfo.InvariantCulture, out ushort port) || port == 0)
            throw new UsageException($"'{cl.Positional[1]}' is not a port (1-65535)");
        if (cl.Has("--dhcp")) throw new UsageException("send takes --ip; --dhcp is not supported here");
        if (cl.Get("-i") is string inputPath && !File.Exists(inputPath)) throw new UsageException($"-i: {inputPath}: no such file");
        var timeout = TimeSpan.FromSeconds(cl.GetDouble("--timeout", 300));
        var clock = new SystemClock();
        using var stack = HostSetup.Create(cl, clock);
        using var input = cl.Get("-i") is string path ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20) : Console.OpenStandardInput();
        var upload = new Upload(address, port, input, timeout);
        var driver = new StackDriver(stack, clock);
        driver.Add(upload);
        // Bytes, rate and time left (of a file's length) on standard error, only when it is a terminal.
        var progress = ProgressLine.ForConsole();
        long? length = input is FileStream { CanSeek: true } file ? file.Length : null;
        if (progress is not null) driver.Add(new TransferProgress("send", () => upload.Sent, () => length, progress));
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        upload.Done = stop.Cancel;
        var watch = Stopwatch.StartNew();
        driver.Run(stop.Token);
        progress?.Clear();
        double seconds = upload.Seconds > 0 ? upload.Seconds : watch.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"send: {upload.Sent} bytes to {address}:{port} in {seconds:0.000} s ({upload.Sent * 8 / seconds / 1e6:0.0} Mbit/s){(upload.Failure is null ? "" : "; " + upload.Failure)}"));
        Console.Error.WriteLine(GetCommand.RetransmitLine("send", stack));
        // Where the stack's thread spent the transfer: on a CPU, or runnable and waiting for one (on a loaded machine the
        // second dominates, and the Mbit/s above measure the scheduler as much as the stack), with the ACKs it took in.
        if (upload.Schedule is { } t)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"send: stack thread on a cpu {t.Run / 1e9:0.000} s, waiting for one {t.Wait / 1e9:0.000} s, {t.Slices} slices; tcp segments received {stack.Statistics.Tcp.Received}"));
        return upload.Failure is null ? 0 : 1;
    }

    // Connects, then keeps the send ring full from the input; at its end half-closes and waits for the peer's FIN.
    private sealed class Upload(IpAddress address, ushort port, Stream input, TimeSpan timeout) : IStackService
    {
        private TcpConnection? _connection;
        private readonly byte[] _buffer = new byte[256 * 1024];
        private readonly byte[] _drain = new byte[4096];
        private int _pending, _offset;
        private bool _inputDone, _finished;
        private TimeSpan _deadline, _started;
        public long Sent { get; private set; }
        public double Seconds { get; private set; }
        public string? Failure { get; private set; }
        public Action? Done { get; set; }
        /// <summary>The stack thread's schedule over the transfer (Linux schedstat: ns on a CPU, ns waiting for one, slices); null where unreadable.</summary>
        public (long Run, long Wait, long Slices)? Schedule { get; private set; }
        private (long Run, long Wait, long Slices)? _scheduleAtStart;
        public TimeSpan? NextDeadline => _finished ? null : _deadline;

        public void Start(NetworkStack stack, TimeSpan now)
        {
            _deadline = now + timeout;
            _started = now;
            _scheduleAtStart = ThreadSchedule();   // Start and Poll run on the stack's thread (the driver's Run)
        }

        public void Poll(NetworkStack stack, TimeSpan now)
        {
            if (_finished) return;
            if (_connection is null)
            {
                // IPv6: an address of ours must pass duplicate address detection first.
                if (stack.SourceAddressFor(address).IsAny)
                {
                    if (now >= _deadline) Finish(now, "no usable source address");
                    return;
                }
                _connection = stack.ConnectTcp(address, port);
            }
            var c = _connection;
            if (now >= _deadline) { Finish(now, $"timed out after {timeout.TotalSeconds} s ({c})"); return; }
            if (c.State == TcpState.Closed)
            {
                Finish(now, c.Error != NetError.None ? $"connection failed: {c.Error}" : _inputDone ? null : "the peer closed before all was sent");
                return;
            }
            if (c.State is TcpState.SynSent or TcpState.SynReceived) return;
            while (!_inputDone && c.SendSpace > 0)
            {
                if (_pending == 0)
                {
                    _offset = 0;
                    _pending = input.Read(_buffer, 0, Math.Min(_buffer.Length, c.SendSpace));
                    if (_pending == 0) { _inputDone = true; c.Shutdown(); break; }
                }
                int n = c.Send(_buffer.AsSpan(_offset, _pending));
                if (n == 0) break;
                _offset += n;
                _pending -= n;
                Sent += n;
            }
            // Whatever the peer says back is read and dropped; its FIN ends the upload.
            while (c.Receive(_drain) > 0) { }
            if (_inputDone && c.IsEndOfStream) { c.Close(); Finish(now, null); }
        }

        private void Finish(TimeSpan now, string? failure)
        {
            _finished = true;
            Failure = failure;
            Seconds = (now - _started).TotalSeconds;
            if (_scheduleAtStart is { } a && ThreadSchedule() is { } b) Schedule = (b.Run - a.Run, b.Wait - a.Wait, b.Slices - a.Slices);
            Done?.Invoke();
        }

        // /proc/thread-self/schedstat (Linux): time on a CPU and time runnable but waiting for one, in ns, and timeslices run.
        private static (long Run, long Wait, long Slices)? ThreadSchedule()
        {
            try
            {
                var fields = File.ReadAllText("/proc/thread-self/schedstat").Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length >= 3
                    && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out long run)
                    && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long wait)
                    && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out long slices)
                    ? (run, wait, slices) : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;   // no procfs, or a kernel without schedstats
            }
        }
    }
}
