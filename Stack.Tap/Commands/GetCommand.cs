using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Commands;

/// <summary><c>tcpipsharp get URL</c>: fetches an http:// URL (by IP address) from the stack and writes the body to a file or stdout.</summary>
internal static class GetCommand
{
    public const string Usage = "get http://A.B.C.D[:PORT]/PATH [-o FILE] [--timeout SECONDS] " + HostSetup.Usage;

    public static int Run(string[] args)
    {
        var cl = new CommandLine(args, HostSetup.Switches);
        if (cl.Positional.Count != 1) throw new UsageException("get takes one URL");
        if (cl.Has("--dhcp")) throw new UsageException("get does not run DHCP yet; give --ip");
        if (!Uri.TryCreate(cl.Positional[0], UriKind.Absolute, out var url) || url.Scheme != "http")
            throw new UsageException($"'{cl.Positional[0]}' is not an http:// URL");
        if (!Ipv4Address.TryParse(url.Host, out var host))
            throw new UsageException($"'{url.Host}': names need the DNS resolver, which is not built yet; give an IPv4 address");
        var timeout = TimeSpan.FromSeconds(cl.GetDouble("--timeout", 120));
        var clock = new SystemClock();
        using var stack = HostSetup.Create(cl, clock);
        using var output = cl.Get("-o") is string path ? new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20) : Console.OpenStandardOutput();
        var fetch = new Fetch(host, (ushort)url.Port, url.PathAndQuery, url.Authority, output, timeout);
        var driver = new StackDriver(stack, clock);
        driver.Add(fetch);
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        fetch.Done = stop.Cancel;
        var watch = Stopwatch.StartNew();
        driver.Run(stop.Token);
        output.Flush();
        double seconds = watch.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"get: {fetch.Status ?? "no response"}; {fetch.BodyBytes} body bytes in {seconds:0.000} s ({fetch.BodyBytes * 8 / seconds / 1e6:0.0} Mbit/s){(fetch.Failure is null ? "" : "; " + fetch.Failure)}"));
        return fetch.Failure is null && fetch.Status is not null && fetch.Status.Contains(" 200 ", StringComparison.Ordinal) ? 0 : 1;
    }

    private sealed class Fetch(Ipv4Address host, ushort port, string path, string authority, Stream output, TimeSpan timeout) : IStackService
    {
        private TcpConnection? _connection;
        private readonly byte[] _buffer = new byte[256 * 1024];
        private readonly MemoryStream _head = new();
        private bool _headDone, _requestSent, _finished;
        private long _contentLength = -1;
        private TimeSpan _deadline;
        public string? Status { get; private set; }
        public string? Failure { get; private set; }
        public long BodyBytes { get; private set; }
        public Action? Done { get; set; }
        public TimeSpan? NextDeadline => _finished ? null : _deadline;

        public void Start(NetworkStack stack, TimeSpan now)
        {
            _deadline = now + timeout;
            _connection = stack.ConnectTcp(host, port);
        }

        public void Poll(NetworkStack stack, TimeSpan now)
        {
            if (_finished) return;
            var c = _connection!;
            if (now >= _deadline) { Finish($"timed out after {timeout.TotalSeconds} s ({c})"); return; }
            if (c.State == TcpState.Closed && c.Error != NetError.None) { Finish($"connection failed: {c.Error}"); return; }
            if (!_requestSent && c.State == TcpState.Established)
            {
                c.Send(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: tcpipsharp\r\nConnection: close\r\n\r\n"));
                _requestSent = true;
            }
            int n;
            while ((n = c.Receive(_buffer)) > 0)
            {
                var data = _buffer.AsSpan(0, n);
                if (!_headDone)
                {
                    _head.Write(data);
                    var all = _head.GetBuffer().AsSpan(0, (int)_head.Length);
                    int end = all.IndexOf("\r\n\r\n"u8);
                    if (end < 0) continue;
                    ParseHead(Encoding.ASCII.GetString(all[..end]));
                    _headDone = true;
                    data = all[(end + 4)..];
                }
                output.Write(data);
                BodyBytes += data.Length;
            }
            if (_headDone && _contentLength >= 0 && BodyBytes >= _contentLength) { c.Close(); Finish(null); return; }
            if (c.IsEndOfStream)
            {
                c.Close();
                Finish(!_headDone ? "the server closed before the response headers" : _contentLength >= 0 && BodyBytes < _contentLength ? $"short body: {BodyBytes} of {_contentLength}" : null);
            }
        }

        private void ParseHead(string head)
        {
            var lines = head.Split("\r\n");
            Status = lines[0];
            foreach (var line in lines.Skip(1))
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)
                    && long.TryParse(line.AsSpan(15).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long length))
                    _contentLength = length;
        }

        private void Finish(string? failure)
        {
            _finished = true;
            Failure = failure;
            Done?.Invoke();
        }
    }
}
