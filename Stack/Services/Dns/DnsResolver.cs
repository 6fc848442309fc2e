using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Dns;

/// <summary>
/// A stub resolver (RFC 1035) run on the stack thread. It asks the stack's <see cref="NetworkStack.DnsServers"/> in
/// turn, each query from a random port with a random ID, and accepts a response only from the server asked, on port 53,
/// to that port, with that ID and that question. It follows CNAME chains to a bound, caches answers for their TTL and
/// NXDOMAIN/NODATA for a short bound, and answers numeric addresses and <c>localhost</c> without a query. A UDP answer
/// with TC set is asked again over TCP (RFC 1035 4.2.2, RFC 7766 5), to the same server first, with a fresh ID and the
/// same matching rules. A cached answer through <see cref="TryResolveCached"/> allocates nothing.
/// </summary>
public sealed class DnsResolver : IStackService
{
    private const int QueryBufferSize = 512;     // RFC 1035 4.2.1: no EDNS, so nothing larger is asked for
    private const int ReceiveBufferSize = 4096;
    private const int EndpointQueueBytes = 8192;
    private const int EndpointQueueDatagrams = 8;
    private const int LengthPrefix = 2;          // RFC 1035 4.2.2: a two-byte length before each message over TCP
    private const int HeaderLength = 12;

    // A query over TCP is one small message out and one answer in: small rings, sent at once.
    private static readonly TcpConnectionOptions TcpOptions = new() { SendBufferSize = 1024, ReceiveBufferSize = 8192, NoDelay = true };

    private readonly DnsResolverOptions _options;
    private readonly DnsCache _cache;
    private readonly List<PendingQuery> _pending = [];
    private readonly byte[] _tx = new byte[LengthPrefix + QueryBufferSize];   // the query after room for the TCP length
    private readonly byte[] _rx = new byte[ReceiveBufferSize];
    private readonly char[] _nameBuffer = new char[DnsName.MaximumTextLength];
    private NetworkStack? _stack;

    /// <summary>A resolver with <paramref name="options"/> (the defaults when null); it runs once the driver calls <see cref="Start"/>.</summary>
    public DnsResolver(DnsResolverOptions? options = null)
    {
        _options = options ?? new DnsResolverOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Attempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaximumPendingQueries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.TcpAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaximumTcpMessageSize, HeaderLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_options.MaximumTcpMessageSize, ushort.MaxValue);
        _cache = new DnsCache(_options.CacheSize, _options.MaximumAddressesPerName);
    }

    /// <summary>Counters of queries, answers, cache use and rejections.</summary>
    public DnsResolverStatistics Statistics { get; } = new();

    /// <summary>Names cached now (expired entries count until they are met).</summary>
    public int CachedNames => _cache.Count;

    /// <summary>Lookups waiting for an answer.</summary>
    public int PendingQueries => _pending.Count;

    /// <inheritdoc/>
    public TimeSpan? NextDeadline
    {
        get
        {
            TimeSpan? next = null;
            foreach (var q in _pending)
                if (next is null || q.Deadline < next) next = q.Deadline;
            return next;
        }
    }

    /// <inheritdoc/>
    public void Start(NetworkStack stack, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(stack);
        _stack = stack;
    }

    /// <summary>Fails every lookup in flight and closes their ports.</summary>
    public void Stop(NetworkStack stack, TimeSpan now)
    {
        for (int i = _pending.Count - 1; i >= 0; i--) Finish(_pending[i], DnsError.TimedOut);
    }

    /// <summary>Forgets every cached answer.</summary>
    public void ClearCache() => _cache.Clear();

    /// <summary>
    /// Answers from what is known without a query: a numeric address, <c>localhost</c>, or a live cache entry (positive or
    /// negative). True when answered: <paramref name="error"/> is then <see cref="DnsError.None"/> and the first
    /// <paramref name="count"/> addresses are written, or it says why the name cannot resolve. Allocates nothing.
    /// </summary>
    public bool TryResolveCached(ReadOnlySpan<char> name, DnsType type, TimeSpan now, Span<HostAddress> addresses, out int count, out DnsError error)
    {
        count = 0;
        error = DnsError.None;
        if (TryAnswerLiteral(name, type, addresses, out count, out error))
        {
            Statistics.CacheHits++;
            return true;
        }
        var entry = _cache.Find(name, type, now);
        if (entry is null) return false;
        Statistics.CacheHits++;
        error = entry.Error;
        count = Math.Min(entry.AddressCount, addresses.Length);
        entry.Addresses.AsSpan(0, count).CopyTo(addresses);
        return true;
    }

    /// <summary>
    /// Looks <paramref name="name"/> up for <paramref name="type"/> (A, AAAA, or any other type, whose records come back as
    /// text). The lookup returned has completed at once when the answer was known; otherwise it completes in a later
    /// <see cref="Poll"/> and raises <see cref="DnsLookup.Completed"/>. A lookup of the same name and type already in
    /// flight is shared.
    /// </summary>
    public DnsLookup Resolve(string name, DnsType type, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(name);
        var stack = _stack ?? throw new InvalidOperationException("the resolver has not been started on a stack");
        var lookup = new DnsLookup(name, type);
        Span<HostAddress> literal = stackalloc HostAddress[1];
        if (TryAnswerLiteral(name, type, literal, out _, out var literalError))
        {
            Statistics.CacheHits++;
            if (literalError != DnsError.None) lookup.Fail(literalError, fromCache: true);
            else lookup.Succeed(name, [], [literal[0]], [new DnsRecord(name, type, 0, literal[0].ToString())], true, false, default);
            return lookup;
        }
        if (_cache.Find(name, type, now) is { } entry)
        {
            Statistics.CacheHits++;
            if (entry.Error != DnsError.None) lookup.Fail(entry.Error, fromCache: true);
            else lookup.Succeed(entry.CanonicalName, entry.Aliases, entry.Addresses.AsSpan(0, entry.AddressCount).ToArray(), entry.Records, true, false, default);
            return lookup;
        }
        Statistics.CacheMisses++;
        foreach (var q in _pending)
            if (q.Lookup.Type == type && DnsCache.TrimRoot(q.Lookup.Name).Equals(DnsCache.TrimRoot(name), StringComparison.OrdinalIgnoreCase)) return q.Lookup;
        if (DnsName.EncodedLength(name, out _) != WireError.None || DnsCache.TrimRoot(name).IsEmpty)
        {
            lookup.Fail(DnsError.NameNotFound, fromCache: false);
            return lookup;
        }
        // RFC 6762 3, 5.1: a .local name is asked by one-shot multicast query, never of the unicast servers.
        bool multicast = IsMulticastName(name);
        if (multicast && !_options.MulticastDns)
        {
            lookup.Fail(DnsError.NameNotFound, fromCache: false);
            return lookup;
        }
        if (!multicast && stack.ResolverServers.Count == 0)
        {
            lookup.Fail(DnsError.NoServers, fromCache: false);
            return lookup;
        }
        if (_pending.Count >= _options.MaximumPendingQueries
            || stack.OpenUdp(0, EndpointQueueBytes, EndpointQueueDatagrams, out var endpoint) != NetError.None)
        {
            lookup.Fail(DnsError.TooManyQueries, fromCache: false);
            return lookup;
        }
        // RFC 6762 11: multicast DNS goes out with TTL 255.
        if (multicast) endpoint!.MulticastTimeToLive = 255;
        var query = new PendingQuery(lookup, endpoint!, DnsCache.TrimRoot(name).ToString()) { Multicast = multicast };
        _pending.Add(query);
        Send(query, now);
        return lookup;
    }

    /// <summary>Takes the responses that arrived and retries or fails the queries whose time is up.</summary>
    public void Poll(NetworkStack stack, TimeSpan now)
    {
        for (int i = _pending.Count - 1; i >= 0; i--)
        {
            if (i >= _pending.Count) continue;
            var q = _pending[i];
            int n;
            if (q.OverTcp)
            {
                // Datagrams still arriving for the UDP query (a duplicate of the truncated answer) carry an old ID: drop them.
                while (q.Endpoint.Receive(_rx, out _, out _) >= 0) { }
                q.Endpoint.TakeError();
                PollTcp(q, now);
                continue;
            }
            while (!q.Done && (n = q.Endpoint.Receive(_rx, out var from, out var fromPort)) >= 0)
                Receive(q, _rx.AsSpan(0, Math.Min(n, _rx.Length)), from, fromPort, now);
            if (q.Done || q.OverTcp) continue;
            // An ICMP port or host unreachable from the server is as good as a timeout, sooner.
            if (q.Endpoint.TakeError() != NetError.None || now >= q.Deadline)
            {
                if (now >= q.Deadline) Statistics.Timeouts++;
                NextAttempt(q, now, DnsError.TimedOut);
            }
        }
    }

    // ---------------------------------------------------------------- queries

    private void Send(PendingQuery q, TimeSpan now)
    {
        var stack = _stack!;
        if (q.Multicast)
        {
            SendMulticast(q, now);
            return;
        }
        var servers = stack.ResolverServers;
        if (servers.Count == 0)
        {
            Finish(q, DnsError.NoServers);
            return;
        }
        q.Server = servers[q.ServerIndex % servers.Count];
        q.Id = (ushort)stack.Random.NextUInt32();   // RFC 5452 9.2: a fresh random ID for every query sent
        var writer = new DnsWriter(_tx.AsSpan(LengthPrefix));
        writer.WriteHeader(new DnsHeader(q.Id, IsRecursionDesired: true));
        if (writer.WriteQuestion(q.QueryName, q.Lookup.Type) != WireError.None)
        {
            Finish(q, DnsError.NameNotFound);
            return;
        }
        int length = writer.Finish();
        if (q.OverTcp)
        {
            SendTcp(q, length, now);
            return;
        }
        // Each round through the servers waits twice as long, up to the maximum.
        var timeout = _options.QueryTimeout;
        for (int r = 0; r < q.Round && timeout < _options.MaximumQueryTimeout; r++) timeout += timeout;
        if (timeout > _options.MaximumQueryTimeout) timeout = _options.MaximumQueryTimeout;
        q.Deadline = now + timeout;
        Statistics.QueriesSent++;
        if (q.Endpoint.SendTo(_tx.AsSpan(LengthPrefix, length), q.Server, DnsMessage.ServerPort) is not NetError.None)
            q.Deadline = now;   // no route to this server: try the next one at once
    }

    /// <summary>
    /// True for names asked by multicast (RFC 6762 3 and 4): those under <c>local</c>, and the reverse names of link-local
    /// addresses (<c>254.169.in-addr.arpa</c>, <c>8.e.f.ip6.arpa</c> to <c>b.e.f.ip6.arpa</c>).
    /// </summary>
    public static bool IsMulticastName(ReadOnlySpan<char> name)
    {
        name = DnsCache.TrimRoot(name);
        return EndsWithLabels(name, "local") || EndsWithLabels(name, "254.169.in-addr.arpa")
            || EndsWithLabels(name, "8.e.f.ip6.arpa") || EndsWithLabels(name, "9.e.f.ip6.arpa")
            || EndsWithLabels(name, "a.e.f.ip6.arpa") || EndsWithLabels(name, "b.e.f.ip6.arpa");
    }

    private static bool EndsWithLabels(ReadOnlySpan<char> name, string suffix)
        => name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && (name.Length == suffix.Length || name[^(suffix.Length + 1)] == '.');

    // RFC 6762 5.1: a one-shot query from an ordinary port to 224.0.0.251 (and ff02::fb) port 5353; responders answer it
    // as a legacy unicast query (6.7): to this port, with this ID and the question repeated.
    private void SendMulticast(PendingQuery q, TimeSpan now)
    {
        var stack = _stack!;
        q.Id = (ushort)stack.Random.NextUInt32();
        var writer = new DnsWriter(_tx.AsSpan(LengthPrefix));
        writer.WriteHeader(new DnsHeader(q.Id));
        if (writer.WriteQuestion(q.QueryName, q.Lookup.Type) != WireError.None)
        {
            Finish(q, DnsError.NameNotFound);
            return;
        }
        int length = writer.Finish();
        q.Deadline = now + _options.MulticastQueryTimeout;
        Statistics.MulticastQueriesSent++;
        var message = _tx.AsSpan(LengthPrefix, length);
        var e4 = stack.Address.IsAny ? NetError.NoAddress : q.Endpoint.SendTo(message, MulticastDnsGroupV4, MulticastDnsPort);
        var e6 = stack.Ipv6Enabled ? q.Endpoint.SendTo(message, MulticastDnsGroupV6, MulticastDnsPort) : NetError.NetworkUnreachable;
        if (e4 != NetError.None && e6 != NetError.None) q.Deadline = now;   // neither family can send: fail at once
    }

    /// <summary>The mDNS IPv4 group, 224.0.0.251 (RFC 6762 3).</summary>
    internal static readonly IpAddress MulticastDnsGroupV4 = new Ipv4Address(224, 0, 0, 251);
    /// <summary>The mDNS IPv6 group, ff02::fb.</summary>
    internal static readonly IpAddress MulticastDnsGroupV6 = Ipv6Address.Parse("ff02::fb");
    /// <summary>The mDNS port.</summary>
    internal const ushort MulticastDnsPort = 5353;

    // RFC 1035 4.2.2: over TCP the message goes after its length in two bytes; a new connection per attempt.
    private void SendTcp(PendingQuery q, int length, TimeSpan now)
    {
        q.DropTcp();
        q.Deadline = now + _options.TcpQueryTimeout;
        Statistics.QueriesSent++;
        Statistics.TcpQueriesSent++;
        BinaryPrimitives.WriteUInt16BigEndian(_tx, (ushort)length);
        try
        {
            q.Tcp = _stack!.ConnectTcp(q.Server, DnsMessage.ServerPort, TcpOptions);
        }
        catch (InvalidOperationException)
        {
            q.Deadline = now;   // no address yet, or no port free: this attempt fails at once
            return;
        }
        // Queued while the handshake runs; the ring holds a whole query, so this takes every byte.
        q.Tcp.Send(_tx.AsSpan(0, LengthPrefix + length));
    }

    // Reads length-prefixed messages from the query's connection and takes each as an answer would be taken over UDP.
    private void PollTcp(PendingQuery q, TimeSpan now)
    {
        Span<byte> prefix = stackalloc byte[LengthPrefix];
        while (!q.Done && q.Tcp is { } c)
        {
            int n;
            if (q.TcpLength < 0)
            {
                n = c.Receive(prefix[..(LengthPrefix - q.TcpFill)]);
                if (n > 0)
                {
                    for (int i = 0; i < n; i++) q.TcpPrefix = (q.TcpPrefix << 8) | prefix[i];
                    q.TcpFill += n;
                    if (q.TcpFill < LengthPrefix) continue;
                    int length = q.TcpPrefix;
                    if (length < HeaderLength || length > _options.MaximumTcpMessageSize)
                    {
                        // Too short to be a message, or larger than the bound this resolver holds: this server cannot help.
                        Statistics.RejectedMalformed++;
                        NextAttempt(q, now, DnsError.TimedOut);
                        return;
                    }
                    if (q.TcpMessage is null || q.TcpMessage.Length < length) q.TcpMessage = new byte[length];
                    q.TcpLength = length;
                    q.TcpFill = 0;
                    continue;
                }
            }
            else
            {
                n = c.Receive(q.TcpMessage.AsSpan(q.TcpFill, q.TcpLength - q.TcpFill));
                if (n > 0)
                {
                    q.TcpFill += n;
                    if (q.TcpFill < q.TcpLength) continue;
                    var message = q.TcpMessage.AsSpan(0, q.TcpLength);
                    q.TcpLength = -1;
                    q.TcpFill = 0;
                    q.TcpPrefix = 0;
                    // The connection is to the server asked, on port 53: only the ID and question are left to match.
                    Receive(q, message, q.Server, DnsMessage.ServerPort, now);
                    continue;
                }
            }
            // The server closed, reset or never answered the handshake before a whole answer came: the next server is asked.
            if (n == 0 || (c.State == TcpState.Closed && c.Error != NetError.None))
            {
                Statistics.TcpFailures++;
                NextAttempt(q, now, DnsError.TimedOut);
                return;
            }
            break;
        }
        if (!q.Done && q.OverTcp && now >= q.Deadline)
        {
            Statistics.Timeouts++;
            Statistics.TcpFailures++;
            NextAttempt(q, now, DnsError.TimedOut);
        }
    }

    // Moves to the next server, and to the next round after the last one; fails after the last round.
    private void NextAttempt(PendingQuery q, TimeSpan now, DnsError reason)
    {
        if (q.Multicast)
        {
            // Nobody answered a .local name within the attempts: it does not exist on this link.
            if (++q.Round >= _options.MulticastAttempts) Finish(q, DnsError.NameNotFound);
            else Send(q, now);
            return;
        }
        int servers = Math.Max(_stack!.ResolverServers.Count, 1);
        q.ServerIndex++;
        if (q.ServerIndex % servers == 0) q.Round++;
        if (q.Round >= (q.OverTcp ? _options.TcpAttempts : _options.Attempts))
        {
            Finish(q, q.LastServerError ? DnsError.ServerFailure : reason);
            return;
        }
        Send(q, now);
    }

    private void Receive(PendingQuery q, ReadOnlySpan<byte> datagram, IpAddress from, ushort fromPort, TimeSpan now)
    {
        if (q.Multicast)
        {
            ReceiveMulticast(q, datagram, from, fromPort, now);
            return;
        }
        // RFC 5452 9.1: only from the address and port asked (the endpoint's own port is the one the query left from).
        if (from != q.Server || fromPort != DnsMessage.ServerPort) { Statistics.RejectedSource++; return; }
        if (DnsMessage.TryParse(datagram, out var message) != WireError.None || !message.IsResponse || message.Opcode != DnsOpcode.Query)
        {
            Statistics.RejectedMalformed++;
            return;
        }
        if (message.Id != q.Id) { Statistics.RejectedId++; return; }
        var reader = message.GetReader();
        if (message.QuestionCount != 1 || !reader.TryReadQuestion(out var question))
        {
            if (reader.Error != WireError.None) Statistics.RejectedMalformed++;
            else Statistics.RejectedQuestion++;
            return;
        }
        if (question.Type != q.Lookup.Type || question.Class != DnsClass.Internet || !question.Name.Matches(q.QueryName))
        {
            Statistics.RejectedQuestion++;
            return;
        }
        if (!IsWellFormed(message))
        {
            Statistics.RejectedMalformed++;
            return;
        }
        Statistics.ResponsesAccepted++;
        if (message.IsTruncated)
        {
            Statistics.Truncated++;
            if (!q.OverTcp)
            {
                // RFC 7766 5: a truncated answer is asked again over TCP, of the same server first, whatever its RCODE.
                q.OverTcp = true;
                q.Round = 0;
                q.LastServerError = false;
                Send(q, now);
                return;
            }
        }
        switch (message.ResponseCode)
        {
            case DnsResponseCode.NoError:
                TakeAnswer(q, message, now);
                break;
            case DnsResponseCode.NameError:
                // RFC 2308 5: NXDOMAIN is cached for the SOA's negative TTL, within a short bound.
                CacheNegative(q, DnsError.NameNotFound, NegativeTtl(message), now);
                Finish(q, DnsError.NameNotFound);
                break;
            default:
                // SERVFAIL, REFUSED, NOTIMP, FORMERR: this server cannot help; ask the next one now.
                Statistics.ServerErrors++;
                q.LastServerError = true;
                NextAttempt(q, now, DnsError.ServerFailure);
                break;
        }
    }

    // RFC 6762 6.7: a legacy unicast answer comes from port 5353 of any responder on the link, with our ID and the question
    // repeated (an empty question section is taken too); records carry the cache-flush bit in their class at times.
    private void ReceiveMulticast(PendingQuery q, ReadOnlySpan<byte> datagram, IpAddress from, ushort fromPort, TimeSpan now)
    {
        // RFC 6762 11: an answer to a .local question comes from this link, or it is not believed.
        if (fromPort != MulticastDnsPort || !_stack!.IsOnLinkSource(from)) { Statistics.RejectedSource++; return; }
        if (DnsMessage.TryParse(datagram, out var message) != WireError.None || !message.IsResponse || message.Opcode != DnsOpcode.Query
            || !IsWellFormed(message))
        {
            Statistics.RejectedMalformed++;
            return;
        }
        if (message.Id != q.Id && message.Id != 0) { Statistics.RejectedId++; return; }
        if (message.QuestionCount > 1) { Statistics.RejectedQuestion++; return; }
        var reader = message.GetReader();
        if (message.QuestionCount == 1 && (!reader.TryReadQuestion(out var question) || question.Type != q.Lookup.Type
            || ((ushort)question.Class & 0x7FFF) != (ushort)DnsClass.Internet || !question.Name.Matches(q.QueryName)))
        {
            Statistics.RejectedQuestion++;
            return;
        }
        if (message.ResponseCode != DnsResponseCode.NoError) { Statistics.ServerErrors++; return; }
        Statistics.ResponsesAccepted++;
        q.Server = from;
        TakeAnswer(q, message, now);
    }

    // Walks every record once, so that a response with a malformed record anywhere is rejected as a whole.
    private static bool IsWellFormed(DnsMessage message)
    {
        var reader = message.GetReader();
        while (reader.TryReadRecord(out _)) { }
        return reader.Error == WireError.None;
    }

    private void TakeAnswer(PendingQuery q, DnsMessage message, TimeSpan now)
    {
        var type = q.Lookup.Type;
        // RFC 1034 3.6.2: follow the CNAME chain from the name asked, within this answer first.
        string current = q.QueryName;
        uint ttl = uint.MaxValue;
        bool followed = true;
        while (followed)
        {
            followed = false;
            var reader = message.GetReader();
            while (reader.TryReadRecord(out var record))
            {
                if (reader.Section != DnsSection.Answer || record.Type != DnsType.Cname || type == DnsType.Cname || !record.Name.Matches(current)) continue;
                if (q.Aliases.Count >= _options.MaximumCnameHops)
                {
                    Finish(q, DnsError.NameNotFound);
                    return;
                }
                record.DomainName.TryDecode(_nameBuffer, out int length);
                q.Aliases.Add(current);
                current = new string(_nameBuffer, 0, length);
                ttl = Math.Min(ttl, record.TimeToLive);
                followed = true;
                break;
            }
        }

        var addresses = new List<HostAddress>();
        var records = new List<DnsRecord>();
        var answers = message.GetReader();
        while (answers.TryReadRecord(out var record))
        {
            // RFC 1035 3.2.3: a query for every type (ANY) takes every record of the name.
            if ((answers.Section != DnsSection.Answer && !q.Multicast) || (record.Type != type && type != DnsType.Any) || record.Type == DnsType.Opt
                || (record.Class != DnsClass.Internet && !(q.Multicast && ((ushort)record.Class & 0x7FFF) == (ushort)DnsClass.Internet))
                || !record.Name.Matches(current)) continue;
            ttl = Math.Min(ttl, record.TimeToLive);
            if (record.Type == DnsType.A) addresses.Add(new HostAddress(record.Address));
            else if (record.Type == DnsType.Aaaa) addresses.Add(new HostAddress(Ipv6Address.Read(record.Ipv6Address)));
            records.Add(new DnsRecord(current, record.Type, record.TimeToLive, FormatData(record)));
        }

        if (records.Count == 0 && q.Multicast)
        {
            // A responder that has the name but not this type (an IPv6-only host asked for A) says so with its other
            // records: NODATA, so that getaddrinfo asks for AAAA next. Anything else: wait for another responder.
            var others = message.GetReader();
            while (others.TryReadRecord(out var record))
            {
                if (record.Type is not (DnsType.A or DnsType.Aaaa) || !record.Name.Matches(current) || record.TimeToLive == 0) continue;
                CacheNegative(q, DnsError.NoData, TimeSpan.FromSeconds(Math.Min(record.TimeToLive, 10)), now);
                Finish(q, DnsError.NoData);
                return;
            }
            return;
        }
        if (records.Count == 0)
        {
            if (message.IsTruncated)
            {
                Finish(q, DnsError.Truncated);
                return;
            }
            if (!string.Equals(current, q.QueryName, StringComparison.OrdinalIgnoreCase))
            {
                // The chain ends at a name this server gave no records for: ask for that name (RFC 1034 5.3.3).
                if (q.Aliases.Count > _options.MaximumCnameHops)
                {
                    Finish(q, DnsError.NameNotFound);
                    return;
                }
                q.QueryName = current;
                q.Round = 0;
                q.LastServerError = false;
                q.OverTcp = false;   // a new question starts over UDP
                q.DropTcp();
                Send(q, now);
                return;
            }
            // NODATA: the name exists without records of this type (RFC 2308 2.2).
            CacheNegative(q, DnsError.NoData, NegativeTtl(message), now);
            Finish(q, DnsError.NoData);
            return;
        }

        q.Lookup.OverTcp = q.OverTcp;
        q.Lookup.Succeed(current, q.Aliases.ToArray(), addresses.ToArray(), records.ToArray(), false, message.IsTruncated, q.Server);
        if (!message.IsTruncated && ttl > 0) Cache(q, ttl, now);
        Close(q, graceful: true);
        q.Lookup.RaiseCompleted();
    }

    private void Cache(PendingQuery q, uint ttl, TimeSpan now)
    {
        var lifetime = TimeSpan.FromSeconds(ttl);
        if (lifetime > _options.MaximumCacheTtl) lifetime = _options.MaximumCacheTtl;
        var lookup = q.Lookup;
        var entry = _cache.Add(lookup.Name, lookup.Type, now, now + lifetime);
        entry.CanonicalName = lookup.CanonicalName;
        entry.Aliases = lookup.Aliases;
        entry.Records = lookup.Records;
        int count = Math.Min(lookup.Addresses.Count, entry.Addresses.Length);
        for (int i = 0; i < count; i++) entry.Addresses[i] = lookup.Addresses[i];
        entry.AddressCount = count;
        Statistics.CacheEvictions = _cache.Evictions;
    }

    private void CacheNegative(PendingQuery q, DnsError error, TimeSpan ttl, TimeSpan now)
    {
        if (ttl <= TimeSpan.Zero) return;
        var entry = _cache.Add(q.Lookup.Name, q.Lookup.Type, now, now + ttl);
        entry.Error = error;
        Statistics.CacheEvictions = _cache.Evictions;
    }

    // RFC 2308 5: the negative TTL is the smaller of the SOA's TTL and its MINIMUM field; bounded here.
    private TimeSpan NegativeTtl(DnsMessage message)
    {
        var ttl = _options.NegativeCacheTtl;
        var reader = message.GetReader();
        while (reader.TryReadRecord(out var record))
        {
            if (reader.Section == DnsSection.Authority && record.Type == DnsType.Soa)
            {
                ttl = TimeSpan.FromSeconds(Math.Min(record.TimeToLive, record.Minimum));
                break;
            }
        }
        return ttl < _options.MaximumNegativeCacheTtl ? ttl : _options.MaximumNegativeCacheTtl;
    }

    private void Finish(PendingQuery q, DnsError error)
    {
        if (q.Done) return;
        q.Lookup.Fail(error, fromCache: false, error == DnsError.TimedOut ? default : q.Server);
        Close(q);
        q.Lookup.RaiseCompleted();
    }

    private void Close(PendingQuery q, bool graceful = false)
    {
        q.Done = true;
        q.Endpoint.Close();
        q.DropTcp(graceful);
        _pending.Remove(q);
    }

    // ---------------------------------------------------------------- answers without a query

    // Numeric addresses, and "localhost" with the names under it (RFC 6761 6.3), never go to a server.
    private static bool TryAnswerLiteral(ReadOnlySpan<char> name, DnsType type, Span<HostAddress> addresses, out int count, out DnsError error)
    {
        count = 0;
        error = DnsError.None;
        name = DnsCache.TrimRoot(name);
        HostAddress? v4 = null, v6 = null;
        if (Ipv4Address.TryParse(name, out var a)) v4 = new HostAddress(a);
        else if (name.Contains(':') && Ipv6Address.TryParse(name, out var b)) v6 = new HostAddress(b);
        else if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            v4 = new HostAddress(Ipv4Address.Loopback);
            v6 = new HostAddress(Ipv6Address.Loopback);
        }
        else return false;
        var answer = type switch { DnsType.A => v4, DnsType.Aaaa => v6, _ => null };
        if (answer is not { } found)
        {
            error = DnsError.NoData;
            return true;
        }
        if (addresses.Length > 0)
        {
            addresses[0] = found;
            count = 1;
        }
        return true;
    }

    // ---------------------------------------------------------------- record text

    private string FormatData(DnsRecordView record)
    {
        switch (record.Type)
        {
            case DnsType.A:
                return record.Address.ToString();
            case DnsType.Aaaa:
                return Ipv6Address.Read(record.Ipv6Address).ToString();
            case DnsType.Cname or DnsType.Ns or DnsType.Ptr:
                return Decode(record.DomainName);
            case DnsType.Mx:
                return string.Create(CultureInfo.InvariantCulture, $"{record.Preference} {Decode(record.MailExchange)}");
            case DnsType.Soa:
                return string.Create(CultureInfo.InvariantCulture,
                    $"{Decode(record.PrimaryNameServer)} {Decode(record.ResponsibleMailbox)} {record.Serial} {record.Refresh} {record.Retry} {record.Expire} {record.Minimum}");
            case DnsType.Txt:
            {
                var text = new StringBuilder();
                foreach (var part in record.Text)
                {
                    if (text.Length > 0) text.Append(' ');
                    text.Append('"').Append(Encoding.ASCII.GetString(part)).Append('"');
                }
                return text.ToString();
            }
            default:
                return Convert.ToHexString(record.Data);
        }
    }

    private string Decode(DnsName name) => name.TryDecode(_nameBuffer, out int length) == WireError.None ? new string(_nameBuffer, 0, length) : "";

    private sealed class PendingQuery(DnsLookup lookup, UdpEndpoint endpoint, string queryName)
    {
        public DnsLookup Lookup { get; } = lookup;
        public UdpEndpoint Endpoint { get; } = endpoint;
        public string QueryName { get; set; } = queryName;
        public List<string> Aliases { get; } = [];
        public IpAddress Server { get; set; }
        public ushort Id { get; set; }
        public int ServerIndex { get; set; }
        public int Round { get; set; }
        public TimeSpan Deadline { get; set; }
        public bool LastServerError { get; set; }
        public bool Done { get; set; }
        public bool Multicast { get; init; }

        // DNS over TCP: the connection of this attempt, and the message being read from it (its length once known).
        public bool OverTcp { get; set; }
        public TcpConnection? Tcp { get; set; }
        public byte[]? TcpMessage { get; set; }
        public int TcpLength { get; set; } = -1;
        public int TcpFill { get; set; }
        public int TcpPrefix { get; set; }

        // Ends this attempt's connection and forgets the partial message: a close after a whole answer, else a reset, so that
        // a failed attempt leaves nothing waiting in FIN-WAIT-2 on a server that went quiet.
        public void DropTcp(bool graceful = false)
        {
            if (graceful) Tcp?.Close();
            else Tcp?.Abort();
            Tcp = null;
            TcpLength = -1;
            TcpFill = 0;
            TcpPrefix = 0;
        }
    }
}
