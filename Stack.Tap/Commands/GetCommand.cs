using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Services.Dns;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp get URL</c>: fetches an http:// URL from the stack and writes the body to a file or stdout. A host name
/// is resolved by the stack's resolver (servers from --dns, or from DHCP with --dhcp) before connecting.
/// </summary>
internal static class GetCommand
{
    public static Command Create()
    {
        var command = new Command("get", "Fetch an http:// URL from the stack. A client over TCP; the body goes to FILE or standard output, the figures to standard error.")
        {
            Opt.Argument("URL", "http://HOST[:PORT]/PATH; a host name is resolved by the stack (servers from --dns or --dhcp)"),
            Opt.Value("-o", "FILE", "write the body to FILE (standard output without it)"),
            Opt.Value("--timeout", "SECONDS", "give up after SECONDS (120)"),
        };
        LinkOptions.AddTo(command);
        command.SetAction(App.Action(Run));
        return command;
    }

    public static int Run(CommandLine cl)
    {
        if (cl.Positional.Count != 1) throw new UsageException("get takes one URL");
        if (!Uri.TryCreate(cl.Positional[0], UriKind.Absolute, out var url) || url.Scheme != "http")
            throw new UsageException($"'{cl.Positional[0]}' is not an http:// URL");
        if (url.HostNameType == UriHostNameType.IPv6 && cl.Has("--no-ipv6")) throw new UsageException($"'{url.Host}' is an IPv6 address: leave out --no-ipv6");
        var dhcp = HostSetup.Dhcp(cl);
        if (url.HostNameType is not (UriHostNameType.IPv4 or UriHostNameType.IPv6) && dhcp is null && !cl.Has("--dns"))
            throw new UsageException($"'{url.Host}' is a name: give the DNS server with --dns A.B.C.D, or use --dhcp");
        var timeout = TimeSpan.FromSeconds(cl.GetDouble("--timeout", 120));
        var clock = new SystemClock();
        using var stack = HostSetup.Create(cl, clock);
        using var output = cl.Get("-o") is string path ? new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20) : Console.OpenStandardOutput();
        var resolver = new DnsResolver();
        var fetch = new Fetch(resolver, dhcp, url.HostNameType == UriHostNameType.IPv6 ? url.DnsSafeHost : url.IdnHost, (ushort)url.Port, url.PathAndQuery, url.Authority, output, timeout);
        var driver = new StackDriver(stack, clock);
        if (dhcp is not null) driver.Add(dhcp);
        driver.Add(resolver);
        driver.Add(fetch);
        // Bytes, rate and time left on standard error, only when it is a terminal.
        var progress = ProgressLine.ForConsole();
        if (progress is not null) driver.Add(new TransferProgress("get", () => fetch.BodyBytes, () => fetch.ContentLength, progress));
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        fetch.Done = stop.Cancel;
        var watch = Stopwatch.StartNew();
        driver.Run(stop.Token);
        progress?.Clear();
        output.Flush();
        double seconds = watch.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"get: {fetch.Status ?? "no response"}; {fetch.BodyBytes} body bytes in {seconds:0.000} s ({fetch.BodyBytes * 8 / seconds / 1e6:0.0} Mbit/s){(fetch.Failure is null ? "" : "; " + fetch.Failure)}"));
        Console.Error.WriteLine(RetransmitLine("get", stack));
        return fetch.Failure is null && fetch.Status is not null && fetch.Status.Contains(" 200 ", StringComparison.Ordinal) ? 0 : 1;
    }

    /// <summary>One line of the TCP counters that tell how a transfer recovered from loss.</summary>
    internal static string RetransmitLine(string command, NetworkStack stack)
    {
        var values = stack.Statistics.TcpDetail.All().ToDictionary(p => p.Name, p => p.Read());
        return string.Create(CultureInfo.InvariantCulture,
            $"{command}: tcp retransmits timeout={values["tcp.retransmits_timeout"]} fast={values["tcp.retransmits_fast"]} sack={values["tcp.retransmits_sack"]} tlp={values["tcp.tail_loss_probes"]} rack_losses={values["tcp.rack_losses"]} dsack_received={values["tcp.dsack_received"]} dsack_sent={values["tcp.dsack_sent"]} spurious_undo={values["tcp.spurious_undo"]} frto_spurious={values["tcp.frto_spurious"]} eifel_undo={values["tcp.eifel_undo"]}; out_of_order={values["tcp.out_of_order"]} out_of_order_dropped={values["tcp.out_of_order_dropped"]} paws_drops={values["tcp.paws_drops"]} duplicate_acks={values["tcp.duplicate_acks"]} segments_sent={values["tcp.segments_sent"]}; " +
            $"ecn negotiated={values["tcp.ecn_negotiated"]} ce_received={values["tcp.ecn_ce_received"]} ece_received={values["tcp.ecn_ece_received"]} cwr_sent={values["tcp.ecn_cwr_sent"]} reductions={values["tcp.ecn_reductions"]}");
    }

    // Waits for a DHCP lease when --dhcp runs, resolves the host (a numeric address is answered at once), then fetches.
    private sealed class Fetch(DnsResolver resolver, DhcpClient? dhcp, string host, ushort port, string path, string authority, Stream output, TimeSpan timeout)
        : IStackService
    {
        private TcpConnection? _connection;
        private DnsLookup? _lookup;
        private readonly byte[] _buffer = new byte[256 * 1024];
        private readonly MemoryStream _head = new();
        private bool _headDone, _requestSent, _finished;
        private long _contentLength = -1;
        private TimeSpan _deadline;
        public string? Status { get; private set; }
        public string? Failure { get; private set; }
        public long BodyBytes { get; private set; }
        public long? ContentLength => _contentLength >= 0 ? _contentLength : null;
        public Action? Done { get; set; }
        public TimeSpan? NextDeadline => _finished ? null : _deadline;

        public void Start(NetworkStack stack, TimeSpan now) => _deadline = now + timeout;

        public void Poll(NetworkStack stack, TimeSpan now)
        {
            if (_finished) return;
            if (_connection is null && !Connect(stack, now)) return;
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

        // True once connecting has started; false while waiting for the lease or the name, or when either failed.
        private bool Connect(NetworkStack stack, TimeSpan now)
        {
            if (dhcp is not null && dhcp.Status != DhcpStatus.GotIp)
            {
                if (now >= _deadline) Finish($"no DHCP lease within {timeout.TotalSeconds} s (state {dhcp.State})");
                return false;
            }
            _lookup ??= resolver.Resolve(host, host.Contains(':') ? DnsType.Aaaa : DnsType.A, now);
            // A name without an A record: its AAAA (IPv4 preferred, as getaddrinfo's default).
            if (_lookup.IsCompleted && _lookup.Error == DnsError.NoData && _lookup.Type == DnsType.A && stack.Ipv6Enabled) _lookup = resolver.Resolve(host, DnsType.Aaaa, now);
            if (!_lookup.IsCompleted)
            {
                if (now >= _deadline) Finish($"{host}: no answer from the DNS servers within {timeout.TotalSeconds} s");
                return false;
            }
            if (_lookup.Error != DnsError.None)
            {
                Finish($"{host}: getaddrinfo error {_lookup.Errno} ({DnsLookup.MessageOf(_lookup.Error)})");
                return false;
            }
            var first = _lookup.Addresses[0];
            IpAddress address = first.Family == HostAddressFamily.Ipv4 ? first.Ipv4 : first.Ipv6;
            // IPv6: wait until an address of ours passed duplicate address detection.
            if (stack.SourceAddressFor(address).IsAny)
            {
                if (now >= _deadline) Finish($"no usable {(address.IsIpv4 ? "IPv4" : "IPv6")} address within {timeout.TotalSeconds} s");
                return false;
            }
            if (!_lookup.FromCache)
                Console.Error.WriteLine($"get: {host} is {address} (answered by {_lookup.Server}{(_lookup.OverTcp ? " over TCP" : "")})");
            _connection = stack.ConnectTcp(address, port);
            return true;
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
