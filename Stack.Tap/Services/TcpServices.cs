using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TcpIpSharp.Transport.Tcp;

namespace TcpIpSharp.Tap.Services;

/// <summary>
/// The TCP services of <c>tcpipsharp up</c>: echo (7), discard (9), chargen (19), and a small HTTP/1.1 server on 80:
/// <c>GET /</c> a status page with the statistics, <c>GET /bytes/N</c> N bytes where byte i is i % 251,
/// <c>POST /sink</c> the body's length and SHA-256, and with <paramref name="admin"/> the routes of <see cref="AdminRoutes"/>.
/// A request with <c>Connection: keep-alive</c> keeps the connection for the next one; otherwise it closes after the response.
/// Everything runs on the stack thread through Ready callbacks.
/// </summary>
internal sealed class TcpServices(bool echo, bool discard, bool chargen, bool http, AdminRoutes? admin = null, TcpIpSharp.Services.Mdns.MdnsResponder? mdns = null) : IStackService
{
    private const int PatternPeriod = 251;
    private const int RequestLimit = 8192;
    // The send ring of the services that send in bulk (chargen, HTTP): as large as Linux lets a socket's send buffer grow
    // (tcp_wmem's 4 MB) rather than the stack's default 256 KB. Over a TAP without offloads the kernel's receiver (curl)
    // holds back its ACKs while its reader is not running (the window would not move), for about a millisecond at a
    // time on a loaded or split pair of cores: 256 KB is gone in 0.35 ms at 6 Gbit/s and the stack then waits idle for
    // the ACK, where nginx, with its socket's 4 MB, sends on (docs/benchmarks.md, branch wip-curl). The ring's storage
    // grows only as data is queued (BufferPool), so a short response still takes a 4 KB array.
    internal const int BulkSendBufferSize = 4 << 20;
    private static readonly byte[] Pattern = MakePattern();
    private readonly byte[] _buffer = new byte[64 * 1024];
    private NetworkStack? _stack;

    public TimeSpan? NextDeadline => null;

    public void Start(NetworkStack stack, TimeSpan now)
    {
        _stack = stack;
        if (echo) Listen(7, c => c.Ready = Echo);
        if (discard) Listen(9, c => c.Ready = Discard);
        var bulk = stack.Options.Tcp with { SendBufferSize = Math.Max(stack.Options.Tcp.SendBufferSize, BulkSendBufferSize) };
        if (chargen) Listen(19, c => { var state = new ChargenState(); c.Ready = x => Chargen(x, state); }, bulk);
        if (http) Listen(80, c => { var state = new HttpState(); c.Ready = x => Http(x, state); }, bulk);
    }

    public void Poll(NetworkStack stack, TimeSpan now) { }

    private void Listen(ushort port, Action<TcpConnection> onAccept, TcpConnectionOptions? options = null)
    {
        var listener = _stack!.ListenTcp(port, backlog: 256, options);
        listener.Ready = l =>
        {
            while (l.TryAccept(out var c))
            {
                onAccept(c);
                c.Ready?.Invoke(c);
            }
        };
    }

    private static bool Finished(TcpConnection c)
    {
        if (c.State == TcpState.Closed) { c.Close(); return true; }
        return false;
    }

    private void Echo(TcpConnection c)
    {
        if (Finished(c)) return;
        while (c.SendSpace > 0 && c.Available > 0)
        {
            int n = c.Receive(_buffer.AsSpan(0, Math.Min(_buffer.Length, c.SendSpace)));
            if (n <= 0) break;
            c.Send(_buffer.AsSpan(0, n));
        }
        if (c.IsEndOfStream) c.Close();
    }

    private void Discard(TcpConnection c)
    {
        if (Finished(c)) return;
        while (c.Receive(_buffer) > 0) { }
        if (c.IsEndOfStream) c.Close();
    }

    private sealed class ChargenState { public long Offset; }

    // RFC 864: an endless stream of 72-character lines, each starting one character later.
    private void Chargen(TcpConnection c, ChargenState state)
    {
        if (Finished(c)) return;
        while (c.Receive(_buffer) > 0) { }
        if (c.IsEndOfStream) { c.Close(); return; }
        while (c.SendSpace > 0)
        {
            int n = Math.Min(_buffer.Length, c.SendSpace);
            for (int i = 0; i < n; i++, state.Offset++)
            {
                long line = state.Offset / 74, column = state.Offset % 74;
                _buffer[i] = column switch { 72 => (byte)'\r', 73 => (byte)'\n', _ => (byte)(' ' + 1 + (line + column) % 94) };
            }
            c.Send(_buffer.AsSpan(0, n));
        }
    }

    private sealed class HttpState
    {
        public byte[]? Request;        // a partial request (or one pipelined behind the last) kept between callbacks
        public byte[] Source = [];     // where the request being answered was read: Request or the shared buffer
        public int RequestLength;
        public bool Responding;
        public bool Deferred;          // an admin route answers later (a DNS lookup in flight)
        public long BodyLeft;          // bytes of /bytes/N still to send
        public long BodyOffset;
        public long SinkLeft = -1;     // bytes of a POST body still to read
        public long SinkLength;
        public IncrementalHash? Sink;
        public bool KeepAlive;         // the client asked for a persistent connection (Connection: keep-alive)
        public int Consumed;           // bytes of Request that belong to the request being answered
    }

    private void Http(TcpConnection c, HttpState s)
    {
        if (Finished(c)) { s.Sink?.Dispose(); return; }
        // A persistent connection (the client sent Connection: keep-alive, as ab -k does) answers one request after
        // another from this same callback: the response goes out in the flush of the poll that delivered the request,
        // with the ACK on it, and a request already buffered behind it (pipelined) is answered at once.
        while (true)
        {
            if (s.SinkLeft > 0 && !ReadSink(c, s)) return;
            if (!s.Responding)
            {
                // A request nearly always arrives whole: it is read into the shared buffer, and a connection gets a
                // buffer of its own only when part of a request has to wait for the next callback.
                var buffer = s.Request ?? _buffer;
                int n = c.Receive(buffer.AsSpan(s.RequestLength, RequestLimit - s.RequestLength));
                if (n > 0) s.RequestLength += n;
                int end = buffer.AsSpan(0, s.RequestLength).IndexOf("\r\n\r\n"u8);
                if (end < 0)
                {
                    if (s.RequestLength == RequestLimit) { s.KeepAlive = false; Respond(c, s, "431 Request Header Fields Too Large", "text/plain", "request too large\n"); }
                    else
                    {
                        Keep(s, buffer, 0);
                        if (c.IsEndOfStream) c.Close();
                    }
                    return;
                }
                int bodyStart = end + 4;
                s.Source = buffer;
                s.Consumed = bodyStart;
                // GET /bytes/N, the request a load test repeats, is answered from the bytes without allocating (perf
                // under ab -k: a fifth of the stack's time went to the page faults of the GC's fresh memory for the
                // request's strings); every other request goes the string way.
                if (!TryBytesRequest(c, s, buffer.AsSpan(0, end)))
                    Route(c, s, Encoding.ASCII.GetString(buffer, 0, end), bodyStart);
            }
            if (s.BodyLeft > 0) SendBytes(c, s);
            if (!s.Responding || s.Deferred || s.BodyLeft != 0 || s.SinkLeft > 0) return;
            if (!s.KeepAlive || c.State is not (TcpState.Established or TcpState.CloseWait)) { c.Close(); return; }
            // The response is queued: forget the request and look at what follows it.
            s.RequestLength -= Math.Min(s.Consumed, s.RequestLength);
            Keep(s, s.Source, s.Consumed);
            s.Source = [];
            s.Consumed = 0;
            s.Responding = false;
            s.SinkLeft = -1;
            if (s.RequestLength == 0 && c.Available == 0)
            {
                if (c.IsEndOfStream) c.Close();
                return;
            }
        }
    }

    // Keeps the RequestLength bytes at offset of buffer as the connection's own (they wait for the next callback).
    private static void Keep(HttpState s, byte[] buffer, int offset)
    {
        if (s.RequestLength == 0 || (ReferenceEquals(buffer, s.Request) && offset == 0)) return;
        s.Request ??= new byte[RequestLimit];
        buffer.AsSpan(offset, s.RequestLength).CopyTo(s.Request);
    }

    // Reads the rest of a POST /sink body; answers once it is all in (true), or closes when the client stops early.
    private bool ReadSink(TcpConnection c, HttpState s)
    {
        int n;
        while (s.SinkLeft > 0 && (n = c.Receive(_buffer.AsSpan(0, (int)Math.Min(_buffer.Length, s.SinkLeft)))) > 0)
        {
            s.Sink!.AppendData(_buffer, 0, n);
            s.SinkLeft -= n;
            s.SinkLength += n;
        }
        if (s.SinkLeft == 0)
        {
            var digest = Convert.ToHexStringLower(s.Sink!.GetHashAndReset());
            s.Sink.Dispose();
            s.Sink = null;
            Respond(c, s, "200 OK", "text/plain", $"{s.SinkLength} {digest}\n");
            return true;
        }
        if (c.IsEndOfStream) c.Close();
        return false;
    }

    // RFC 9112 9.3: the connection persists only when the client asks for it with Connection: keep-alive (HTTP/1.0 and
    // HTTP/1.1 alike; a server may close an HTTP/1.1 connection after any response, saying Connection: close), so
    // clients that read a response to the end of the stream keep working.
    private static bool WantsKeepAlive(string[] lines)
    {
        bool keep = false;
        foreach (var line in lines.AsSpan(1))
        {
            if (!line.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase)) continue;
            var value = line.AsSpan(11);
            if (value.Contains("close", StringComparison.OrdinalIgnoreCase)) return false;
            if (value.Contains("keep-alive", StringComparison.OrdinalIgnoreCase)) keep = true;
        }
        return keep;
    }

    private static ReadOnlySpan<byte> BytesResponseHead => "HTTP/1.1 200 OK\r\nServer: tcpipsharp\r\nContent-Type: application/octet-stream\r\nContent-Length: "u8;

    // GET /bytes/N HTTP/1.x, parsed from the request's bytes (false for anything else, or anything Route would answer
    // with an error): the same response as Route's, headers formatted on the stack, nothing allocated.
    private static bool TryBytesRequest(TcpConnection c, HttpState s, ReadOnlySpan<byte> head)
    {
        int lineEnd = head.IndexOf("\r\n"u8);
        var requestLine = lineEnd < 0 ? head : head[..lineEnd];
        if (!requestLine.StartsWith("GET /bytes/"u8)) return false;
        var rest = requestLine["GET /bytes/".Length..];
        int space = rest.IndexOf((byte)' ');
        if (space <= 0 || !rest[(space + 1)..].StartsWith("HTTP/1."u8) || rest[(space + 1)..].Contains((byte)' ')) return false;
        long n = 0;
        foreach (byte digit in rest[..space])
        {
            // As long.TryParse with NumberStyles.None: digits only, and no overflow.
            if (digit is < (byte)'0' or > (byte)'9' || n > (long.MaxValue - 9) / 10) return false;
            n = n * 10 + (digit - '0');
        }
        s.KeepAlive = WantsKeepAlive(lineEnd < 0 ? default : head[(lineEnd + 2)..]);
        s.Responding = true;
        s.BodyLeft = n;
        s.BodyOffset = 0;
        Span<byte> response = stackalloc byte[160];
        BytesResponseHead.CopyTo(response);
        int length = BytesResponseHead.Length;
        System.Buffers.Text.Utf8Formatter.TryFormat(n, response[length..], out int written);
        length += written;
        var tail = s.KeepAlive ? "\r\nConnection: keep-alive\r\n\r\n"u8 : "\r\nConnection: close\r\n\r\n"u8;
        tail.CopyTo(response[length..]);
        c.Send(response[..(length + tail.Length)]);
        return true;
    }

    // WantsKeepAlive over the header lines' bytes (the lines after the request line, CRLF apart).
    private static bool WantsKeepAlive(ReadOnlySpan<byte> headers)
    {
        bool keep = false;
        while (!headers.IsEmpty)
        {
            int end = headers.IndexOf("\r\n"u8);
            var line = end < 0 ? headers : headers[..end];
            headers = end < 0 ? default : headers[(end + 2)..];
            if (line.Length < 11 || !System.Text.Ascii.EqualsIgnoreCase(line[..11], "Connection:"u8)) continue;
            var value = line[11..];
            if (ContainsIgnoreCase(value, "close"u8)) return false;
            if (ContainsIgnoreCase(value, "keep-alive"u8)) keep = true;
        }
        return keep;
    }

    private static bool ContainsIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowercase)
    {
        for (int i = 0; i + lowercase.Length <= text.Length; i++)
            if (System.Text.Ascii.EqualsIgnoreCase(text.Slice(i, lowercase.Length), lowercase)) return true;
        return false;
    }

    private void Route(TcpConnection c, HttpState s, string head, int bodyStart)
    {
        var lines = head.Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal)) { Respond(c, s, "400 Bad Request", "text/plain", "bad request line\n"); return; }
        string method = parts[0], path = parts[1];
        s.KeepAlive = WantsKeepAlive(lines);
        if (method == "GET" && path == "/") { Respond(c, s, "200 OK", "text/plain", StatusPage()); return; }
        if (admin is not null && method == "GET" && path == "/heap") { Respond(c, s, "200 OK", "text/plain", AdminRoutes.Heap(_stack!)); return; }
        if (admin is not null && method == "GET" && path.StartsWith("/resolve/", StringComparison.Ordinal))
        {
            s.Responding = s.Deferred = true;
            s.KeepAlive = false;
            admin.Resolve(_stack!, path[9..], (status, body) =>
            {
                s.Deferred = false;
                if (c.State is TcpState.Established or TcpState.CloseWait) Respond(c, s, status, "text/plain", body);
                else c.Close();
            });
            return;
        }
        if (method == "GET" && path.StartsWith("/bytes/", StringComparison.Ordinal))
        {
            if (!long.TryParse(path.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out long n)) { Respond(c, s, "400 Bad Request", "text/plain", "N must be a number\n"); return; }
            s.Responding = true;
            s.BodyLeft = n;
            s.BodyOffset = 0;
            SendHeaders(c, s, "200 OK", "application/octet-stream", n);
            return;
        }
        if (method == "POST" && path == "/sink")
        {
            long length = -1;
            foreach (var line in lines.Skip(1))
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) long.TryParse(line.AsSpan(15).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out length);
            if (length < 0) { Respond(c, s, "411 Length Required", "text/plain", "Content-Length required\n"); return; }
            s.Responding = true;
            s.Sink = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            s.SinkLeft = length;
            // Body bytes already read with the headers.
            int already = (int)Math.Min(s.RequestLength - bodyStart, length);
            s.Sink.AppendData(s.Source, bodyStart, already);
            s.SinkLeft -= already;
            s.SinkLength = already;
            s.Consumed = bodyStart + already;
            if (s.SinkLeft == 0)
            {
                var digest = Convert.ToHexStringLower(s.Sink.GetHashAndReset());
                s.Sink.Dispose();
                s.Sink = null;
                Respond(c, s, "200 OK", "text/plain", $"{length} {digest}\n");
            }
            return;   // the rest of the body: Http's loop reads it
        }
        Respond(c, s, "404 Not Found", "text/plain", "not found\n");
    }

    private void SendBytes(TcpConnection c, HttpState s)
    {
        while (s.BodyLeft > 0 && c.SendSpace > 0)
        {
            int n = (int)Math.Min(Math.Min(s.BodyLeft, c.SendSpace), Pattern.Length - PatternPeriod);
            int sent = c.Send(Pattern.AsSpan((int)(s.BodyOffset % PatternPeriod), n));
            s.BodyLeft -= sent;
            s.BodyOffset += sent;
            if (sent == 0) break;
        }
    }

    private static void SendHeaders(TcpConnection c, HttpState s, string status, string type, long length)
        => c.Send(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nServer: tcpipsharp\r\nContent-Type: {type}\r\nContent-Length: {length}\r\nConnection: {(s.KeepAlive ? "keep-alive" : "close")}\r\n\r\n"));

    private static void Respond(TcpConnection c, HttpState s, string status, string type, string body)
    {
        s.Responding = true;
        var bytes = Encoding.UTF8.GetBytes(body);
        SendHeaders(c, s, status, type, bytes.Length);
        c.Send(bytes);
        if (!s.KeepAlive) c.Close();
    }

    private string StatusPage()
    {
        var stack = _stack!;
        string page = $"tcpipsharp {stack.Address}/{stack.PrefixLength} mac {stack.MacAddress} mtu {stack.Mtu}\n";
        // The multicast groups joined (IGMP, and MLD over IPv6) and what mDNS answers for, then the counters.
        page += $"groups: {string.Join(", ", stack.Ipv4MulticastGroups.Select(g => g.ToString()).Concat(stack.Ipv6MulticastGroups.Select(g => g.ToString())))}\n";
        if (mdns is not null)
            page += $"mdns: {mdns.HostFullName}{(mdns.HostnameEstablished ? "" : " (probing)")}; services: {string.Join(", ", mdns.Services.Select(s => $"{s.Instance}.{s.Type}.local port {s.Port}"))}\n";
        page += $"\n{stack.Statistics}";
        // With offloads the TAP link checks (and drops) TCP and UDP checksums the kernel did not vouch for before the
        // stack sees the frame: show those drops too, or an attack with bad checksums would be dropped but not counted.
        if (stack.Link is TcpIpSharp.Linux.TapLink tap)
            foreach (var (name, value) in new[] { ("tap.checksum_errors", tap.ChecksumErrors), ("tap.oversize_dropped", tap.OversizeDropped), ("tap.receive_errors", tap.ReceiveErrors) })
                if (value != 0) page += string.Create(CultureInfo.InvariantCulture, $"{name,-34} {value}\n");
        return page;
    }

    private static byte[] MakePattern()
    {
        var p = new byte[64 * 1024 + PatternPeriod];
        for (int i = 0; i < p.Length; i++) p[i] = (byte)(i % PatternPeriod);
        return p;
    }
}
