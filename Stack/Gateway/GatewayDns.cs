using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TcpIpSharp.Net;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Gateway;

/// <summary>
/// DNS to the gateway's own address, over UDP and over TCP (RFC 7766), as slirp's and vpnkit's resolvers do: A and AAAA
/// questions are answered from the host's own resolver (<see cref="Dns.GetHostAddressesAsync(string, AddressFamily, CancellationToken)"/>:
/// /etc/hosts, nsswitch, the host's servers) with a short TTL; anything else is relayed to the configured server (or the
/// first <c>nameserver</c> of /etc/resolv.conf), over UDP for a UDP query and over TCP for a TCP one. Answers of either
/// kind are kept for their TTL in a bounded <see cref="DnsCache"/> (<see cref="GatewayOptions.DnsCacheEntries"/>).
/// </summary>
/// <remarks>
/// The stack's thread only copies a query into one of at most <see cref="GatewayOptions.MaxDnsInFlight"/>
/// <see cref="DnsQuery"/> slots and queues it to the thread pool; the lookup or relay runs there and the answer comes back
/// through the gateway's wake queue. A UDP query with no free slot is dropped (the guest's resolver asks again); a TCP
/// session with no free slot stops reading until one frees.
/// </remarks>
internal sealed class GatewayDns
{
    /// <summary>The longest query taken (a longer one is dropped, or ends its TCP session).</summary>
    public const int MaximumQuery = 4096;
    /// <summary>The longest answer (with its two-byte TCP length, one 64 KB buffer).</summary>
    public const int MaximumResponse = 65534;
    /// <summary>How long an answer from the host's resolver may be cached (a short TTL: the host's view may change).</summary>
    public const uint HostAnswerTimeToLive = 10;
    /// <summary>How long a lookup or a relayed query may take before the answer is SERVFAIL.</summary>
    public static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(5);

    private readonly GatewayHost _host;
    private readonly GatewayOptions _options;
    private readonly Stack<DnsQuery> _free = new();
    private readonly List<DnsTcpSession> _sessions = new(8);
    private readonly List<DnsTcpSession> _waitingForSlot = new(8);
    private int _created;
    private readonly DnsCache? _cache;
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();

    public GatewayDns(GatewayHost host, GatewayOptions options, IPEndPoint? upstream)
    {
        _host = host;
        _options = options;
        Upstream = upstream;
        if (options.DnsCacheEntries > 0) _cache = new DnsCache(options.DnsCacheEntries);
    }

    /// <summary>The cache of answers (null without one).</summary>
    internal DnsCache? Cache => _cache;

    // The cache's clock (real time: the DNS tasks run on the thread pool, not in the stack's poll).
    private TimeSpan CacheClock => System.Diagnostics.Stopwatch.GetElapsedTime(_started);

    /// <summary>Where questions other than A and AAAA (and all of them without the host resolver) go; null: nowhere (SERVFAIL).</summary>
    public IPEndPoint? Upstream { get; }
    /// <summary>Whether DNS to the gateway's address is answered at all.</summary>
    public bool Enabled => _options.ResolveOnHost || Upstream is not null;
    public int SessionCount => _sessions.Count;

    // ------------------------------------------------------------------ the stack's thread

    /// <summary>A UDP query to our address, port 53: copied and queued; true (taken) even when dropped.</summary>
    public bool OnUdp(IpAddress source, ushort sourcePort, IpAddress destination, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < DnsHeader.Size || payload.Length > MaximumQuery) { Interlocked.Increment(ref _host.Statistics._dnsDropped); return true; }
        var query = TryTake();
        if (query is null) { Interlocked.Increment(ref _host.Statistics._dnsDropped); return true; }
        payload.CopyTo(query.Query);
        query.QueryLength = payload.Length;
        query.OverTcp = false;
        query.Guest = source;
        query.GuestPort = sourcePort;
        query.Local = destination;
        Submit(query);
        return true;
    }

    /// <summary>A free slot (its buffers rented), or null when <see cref="GatewayOptions.MaxDnsInFlight"/> are in flight.</summary>
    public DnsQuery? TryTake()
    {
        if (!_free.TryPop(out var query))
        {
            if (_created >= Math.Max(1, _options.MaxDnsInFlight)) return null;
            _created++;
            query = new DnsQuery(this);
        }
        query.Rent();
        return query;
    }

    public void Submit(DnsQuery query)
    {
        Interlocked.Increment(ref _host.Statistics._dnsQueries);
        ThreadPool.UnsafeQueueUserWorkItem(query, preferLocal: false);
    }

    /// <summary>An answer is back (from the wake queue): send it, or hand it to its session; then free the slot.</summary>
    public void Complete(DnsQuery query, InternetLayer internet, TimeSpan now)
    {
        if (query.OverTcp)
        {
            if (query.Session is { } session && session.TakeAnswer(query, now)) return;   // the session frees it once written
        }
        else if (query.ResponseLength > 0)
        {
            if (internet.SendUdpFrom(query.Local, DnsMessage.ServerPort, query.Guest, query.GuestPort, query.Response.AsSpan(2, query.ResponseLength)) != NetError.None)
                Interlocked.Increment(ref _host.Statistics._dnsDropped);
        }
        Release(query);
    }

    public void Release(DnsQuery query)
    {
        query.Return();
        _free.Push(query);
        if (_waitingForSlot.Count > 0)
        {
            var session = _waitingForSlot[^1];
            _waitingForSlot.RemoveAt(_waitingForSlot.Count - 1);
            _host.MarkActive(session);
        }
    }

    /// <summary>A session found no free slot: it is pumped again when one frees.</summary>
    public void WaitForSlot(DnsTcpSession session)
    {
        if (!_waitingForSlot.Contains(session)) _waitingForSlot.Add(session);
    }

    /// <summary>A TCP connection to our address, port 53: its SYN-ACK goes at once; the session reads length-prefixed queries.</summary>
    public void Accept(TcpConnection connection, TimeSpan now)
    {
        var session = new DnsTcpSession(this, connection, now);
        _sessions.Add(session);
        connection.Ready = _ => _host.MarkActive(session);
        connection.ReleaseSynAck(now);
        Interlocked.Increment(ref _host.Statistics._dnsTcpSessions);
    }

    public void OnSessionEnded(DnsTcpSession session)
    {
        _sessions.Remove(session);
        _waitingForSlot.Remove(session);
    }

    /// <summary>Closes sessions idle for <see cref="GatewayOptions.DnsTcpIdleTimeout"/> (RFC 7766 6.2.3: the server closes idle connections).</summary>
    public void Sweep(TimeSpan now)
    {
        for (int i = _sessions.Count - 1; i >= 0; i--) _sessions[i].CloseIfIdle(now, _options.DnsTcpIdleTimeout);
    }

    public void Stop()
    {
        for (int i = _sessions.Count - 1; i >= 0; i--) _sessions[i].Abort();
        _sessions.Clear();
    }

    // ------------------------------------------------------------------ the thread pool

    /// <summary>Answers one query (never throws); hands it back to the stack's thread.</summary>
    internal async Task AnswerAsync(DnsQuery query)
    {
        try
        {
            query.ResponseLength = await AnswerAsync(query.Query!.AsMemory(0, query.QueryLength), query.Response.AsMemory(2, MaximumResponse), query.OverTcp).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // a query that fails gets SERVFAIL (or nothing), never an exception on the pool
        catch (Exception)
#pragma warning restore CA1031
        {
            query.ResponseLength = WriteError(query.Query.AsSpan(0, query.QueryLength), DnsResponseCode.ServerFailure, query.Response.AsSpan(2, MaximumResponse));
        }
        if (query.ResponseLength > 0) BinaryPrimitives.WriteUInt16BigEndian(query.Response, (ushort)query.ResponseLength);
        else Interlocked.Increment(ref _host.Statistics._dnsDropped);
        _host.Wake(query);
    }

    private async ValueTask<int> AnswerAsync(ReadOnlyMemory<byte> query, Memory<byte> response, bool overTcp)
    {
        if (DnsMessage.TryParse(query.Span, out var message) != WireError.None || message.IsResponse) return 0;
        if (_cache is null) return await AnswerUncachedAsync(query, response, overTcp).ConfigureAwait(false);
        int cached = _cache.TryAnswer(query.Span, response.Span, overTcp ? MaximumResponse : UdpLimit(message), CacheClock);
        if (cached > 0)
        {
            Interlocked.Increment(ref _host.Statistics._dnsCacheHits);
            return cached;
        }
        int n = await AnswerUncachedAsync(query, response, overTcp).ConfigureAwait(false);
        if (n > 0) _cache.Store(query.Span, response.Span[..n], CacheClock);
        return n;
    }

    // The longest UDP answer the guest takes: 512 bytes, or the EDNS payload size its OPT record says (RFC 6891 6.2.3),
    // at most the longest answer the cache keeps.
    private static int UdpLimit(DnsMessage query)
        => Math.Clamp(DnsCache.ReadEdns(query).PayloadSize, DnsMessage.MaximumUdpSize, DnsCache.MaximumAnswer);

    private async ValueTask<int> AnswerUncachedAsync(ReadOnlyMemory<byte> query, Memory<byte> response, bool overTcp)
    {
        if (_options.ResolveOnHost && TryGetAddressQuestion(query.Span, out string? name, out var family, out int questionEnd))
        {
            Interlocked.Increment(ref _host.Statistics._dnsHostLookups);
            var (code, addresses) = await LookUpAsync(name, family).ConfigureAwait(false);
            return WriteAnswer(query.Span, questionEnd, code, addresses, overTcp ? MaximumResponse : DnsMessage.MaximumUdpSize, response.Span);
        }
        if (Upstream is null) return WriteError(query.Span, DnsResponseCode.ServerFailure, response.Span);
        Interlocked.Increment(ref _host.Statistics._dnsRelayed);
        using var timeout = new CancellationTokenSource(QueryTimeout);
        try
        {
            int n = overTcp ? await RelayTcpAsync(Upstream, query, response, timeout.Token).ConfigureAwait(false)
                            : await RelayUdpAsync(Upstream, query, response, timeout.Token).ConfigureAwait(false);
            return n > 0 ? n : WriteError(query.Span, DnsResponseCode.ServerFailure, response.Span);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            return WriteError(query.Span, DnsResponseCode.ServerFailure, response.Span);
        }
    }

    /// <summary>The host's answer: NOERROR with its addresses (none: the name has only the other family's), NXDOMAIN, or SERVFAIL.</summary>
    private static async ValueTask<(DnsResponseCode, IPAddress[])> LookUpAsync(string name, AddressFamily family)
    {
        using var timeout = new CancellationTokenSource(QueryTimeout);
        try
        {
            return (DnsResponseCode.NoError, await Dns.GetHostAddressesAsync(name, family, timeout.Token).ConfigureAwait(false));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData)
        {
            // getaddrinfo says "no such name" for a name that has addresses of the other family only: NXDOMAIN would
            // tell the guest the name does not exist at all, so ask once for either family.
            try
            {
                var any = await Dns.GetHostAddressesAsync(name, AddressFamily.Unspecified, timeout.Token).ConfigureAwait(false);
                return (any.Length > 0 || e.SocketErrorCode == SocketError.NoData ? DnsResponseCode.NoError : DnsResponseCode.NameError, []);
            }
            catch (SocketException again) when (again.SocketErrorCode is SocketError.HostNotFound)
            {
                return (DnsResponseCode.NameError, []);
            }
            catch (Exception other) when (other is SocketException or OperationCanceledException)
            {
                return (DnsResponseCode.ServerFailure, []);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ArgumentException)
        {
            return (DnsResponseCode.ServerFailure, []);   // TryAgain, a timeout, the resolver's failure, a name it refuses
        }
    }

    private async ValueTask<int> RelayUdpAsync(IPEndPoint upstream, ReadOnlyMemory<byte> query, Memory<byte> response, CancellationToken token)
    {
        using var socket = HostSockets.Create(_options.HostNamespace, upstream.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(upstream, token).ConfigureAwait(false);
        await socket.SendAsync(query, SocketFlags.None, token).ConfigureAwait(false);
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(query.Span);
        while (true)
        {
            int n = await socket.ReceiveAsync(response, SocketFlags.None, token).ConfigureAwait(false);
            if (n >= DnsHeader.Size && BinaryPrimitives.ReadUInt16BigEndian(response.Span) == id) return n;
        }
    }

    private async ValueTask<int> RelayTcpAsync(IPEndPoint upstream, ReadOnlyMemory<byte> query, Memory<byte> response, CancellationToken token)
    {
        using var socket = await HostSockets.ConnectAsync(_options.HostNamespace, upstream, token).ConfigureAwait(false);
        var length = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)query.Length);
        await socket.SendAsync(length, SocketFlags.None, token).ConfigureAwait(false);
        await socket.SendAsync(query, SocketFlags.None, token).ConfigureAwait(false);
        await ReceiveExactlyAsync(socket, length, token).ConfigureAwait(false);
        int n = BinaryPrimitives.ReadUInt16BigEndian(length);
        if (n < DnsHeader.Size || n > response.Length) return 0;
        await ReceiveExactlyAsync(socket, response[..n], token).ConfigureAwait(false);
        return n;
    }

    private static async ValueTask ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken token)
    {
        for (int got = 0; got < buffer.Length;)
        {
            int n = await socket.ReceiveAsync(buffer[got..], SocketFlags.None, token).ConfigureAwait(false);
            if (n == 0) throw new IOException("the DNS server closed the connection");
            got += n;
        }
    }

    // ------------------------------------------------------------------ messages (no state: tested on their own)

    /// <summary>
    /// Whether <paramref name="query"/> is a standard query with one question, class IN, type A or AAAA (what the host's
    /// resolver answers); gives the name (without the final dot), the family and where the question ends.
    /// </summary>
    internal static bool TryGetAddressQuestion(ReadOnlySpan<byte> query, out string name, out AddressFamily family, out int questionEnd)
    {
        name = "";
        family = AddressFamily.Unspecified;
        questionEnd = 0;
        if (DnsMessage.TryParse(query, out var message) != WireError.None || message.IsResponse || message.Opcode != DnsOpcode.Query || message.QuestionCount != 1) return false;
        var reader = new DnsReader(message);
        if (!reader.TryReadQuestion(out var question) || question.Class != DnsClass.Internet || question.Type is not (DnsType.A or DnsType.Aaaa)) return false;
        Span<char> text = stackalloc char[DnsName.MaximumLength];
        if (question.Name.TryDecode(text, out int length) != WireError.None || length == 0) return false;
        name = new string(text[..length]);
        family = question.Type == DnsType.A ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        questionEnd = reader.Position;
        return true;
    }

    /// <summary>
    /// The answer to an address question: the query's header and question, then one record per address of the asked
    /// family (the name as a pointer to the question's), as many as fit in <paramref name="limit"/> bytes (TC when some did
    /// not: the guest asks again over TCP).
    /// </summary>
    internal static int WriteAnswer(ReadOnlySpan<byte> query, int questionEnd, DnsResponseCode code, IReadOnlyList<IPAddress> addresses, int limit, Span<byte> response)
    {
        limit = Math.Min(limit, response.Length);
        if (questionEnd > limit) return 0;
        query[..questionEnd].CopyTo(response);
        var type = (DnsType)BinaryPrimitives.ReadUInt16BigEndian(query[(questionEnd - DnsReader.Field.QuestionSize)..]);
        var family = type == DnsType.A ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
        int dataLength = type == DnsType.A ? Ipv4Address.Size : Ipv6Address.Size;
        int p = questionEnd, answers = 0;
        bool truncated = false;
        foreach (var address in addresses)
        {
            if (address.AddressFamily != family) continue;
            if (p + 2 + DnsReader.Field.RecordFixedSize + dataLength > limit) { truncated = true; break; }
            BinaryPrimitives.WriteUInt16BigEndian(response[p..], (ushort)(0xC000 | DnsMessage.Field.Questions));   // RFC 1035 4.1.4
            p += 2;
            BinaryPrimitives.WriteUInt16BigEndian(response[(p + DnsReader.Field.Type)..], (ushort)type);
            BinaryPrimitives.WriteUInt16BigEndian(response[(p + DnsReader.Field.Class)..], (ushort)DnsClass.Internet);
            BinaryPrimitives.WriteUInt32BigEndian(response[(p + DnsReader.Field.TimeToLive)..], HostAnswerTimeToLive);
            BinaryPrimitives.WriteUInt16BigEndian(response[(p + DnsReader.Field.DataLength)..], (ushort)dataLength);
            p += DnsReader.Field.RecordFixedSize;
            address.TryWriteBytes(response[p..], out _);
            p += dataLength;
            answers++;
        }
        DnsMessage.TryParse(query, out var message);
        new DnsHeader(message.Id, IsResponse: true, Opcode: message.Opcode, IsTruncated: truncated, IsRecursionDesired: message.IsRecursionDesired,
            IsRecursionAvailable: true, ResponseCode: code, QuestionCount: 1, AnswerCount: (ushort)answers).WriteTo(response);
        return p;
    }

    /// <summary>An answer with no records and <paramref name="code"/>, echoing the query's question when it has one that parses; 0 when the query has no header.</summary>
    internal static int WriteError(ReadOnlySpan<byte> query, DnsResponseCode code, Span<byte> response)
    {
        if (DnsMessage.TryParse(query, out var message) != WireError.None) return 0;
        int end = DnsHeader.Size;
        ushort questions = 0;
        if (message.QuestionCount == 1)
        {
            var reader = new DnsReader(message);
            if (reader.TryReadQuestion(out _) && reader.Position <= response.Length) { end = reader.Position; questions = 1; }
        }
        query[..end].CopyTo(response);
        new DnsHeader(message.Id, IsResponse: true, Opcode: message.Opcode, IsRecursionDesired: message.IsRecursionDesired,
            IsRecursionAvailable: true, ResponseCode: code, QuestionCount: questions).WriteTo(response);
        return end;
    }
}
