using System.Buffers.Binary;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Gateway;

/// <summary>
/// The gateway's cache of DNS answers (its own from the host's resolver and the relayed server's), keyed by the
/// question's name (letters' case ignored), type and class and the query's DO bit (RFC 3225), as a stub resolver's cache (dnsmasq's, systemd-resolved's):
/// an answer lives for the least TTL of its records (RFC 1035 3.2.1, RFC 2181 5.2: OPT's is not a TTL), at most
/// <see cref="MaximumTimeToLive"/>; a negative one (NXDOMAIN, or NOERROR with no answer) for min(SOA TTL, SOA MINIMUM) of
/// the SOA in its authority section (RFC 2308 5), at most <see cref="MaximumNegativeTimeToLive"/>, and not at all
/// without one (RFC 2308 5). Truncated answers, other response codes (SERVFAIL), other opcodes and answers longer than
/// <see cref="MaximumAnswer"/> are not kept. A hit is the stored answer with the query's ID, RD flag and question bytes
/// (its letters' case, RFC 5452 9.4 "0x20"), and every TTL less the whole seconds it has been held (RFC 1035 6.1.2).
/// </summary>
/// <remarks>
/// Bounded: at most <c>capacity</c> entries of at most <see cref="MaximumAnswer"/> bytes each; a full cache drops its
/// least recently used entry, expired entries go when met. Called from the DNS tasks on the thread pool: one lock.
/// An entry's bytes are allocated once when stored (per answer, not per packet).
/// </remarks>
internal sealed class DnsCache
{
    /// <summary>The longest answer kept.</summary>
    public const int MaximumAnswer = 4096;
    /// <summary>The longest a positive answer is kept, whatever its TTLs say (seconds).</summary>
    public const uint MaximumTimeToLive = 3600;
    /// <summary>The longest a negative answer is kept (seconds; RFC 2308 5 suggests 1 to 3 hours at most).</summary>
    public const uint MaximumNegativeTimeToLive = 900;

    private sealed class Entry(string key, byte[] answer, TimeSpan stored, TimeSpan expires)
    {
        public readonly string Key = key;
        public readonly byte[] Answer = answer;
        public readonly TimeSpan Stored = stored;
        public readonly TimeSpan Expires = expires;
    }

    private readonly int _capacity;
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries;
    private readonly LinkedList<Entry> _recent = new();   // most recently used first
    private readonly Lock _gate = new();

    public DnsCache(int capacity)
    {
        _capacity = Math.Max(1, capacity);
        _entries = new Dictionary<string, LinkedListNode<Entry>>(Math.Min(_capacity, 1024), StringComparer.Ordinal);
    }

    /// <summary>Entries held (expired ones until met).</summary>
    public int Count { get { lock (_gate) return _entries.Count; } }

    /// <summary>
    /// Writes the cached answer to <paramref name="query"/> into <paramref name="response"/>; its length, or 0 when there
    /// is none (or it has expired, or is longer than <paramref name="limit"/>: the query is then answered as without a cache).
    /// </summary>
    public int TryAnswer(ReadOnlySpan<byte> query, Span<byte> response, int limit, TimeSpan now)
    {
        if (!TryGetKey(query, out var key, out int questionEnd)) return 0;
        byte[] answer;
        TimeSpan stored;
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node)) return 0;
            if (now >= node.Value.Expires) { Remove(node); return 0; }
            _recent.Remove(node);
            _recent.AddFirst(node);
            answer = node.Value.Answer;
            stored = node.Value.Stored;
        }
        if (answer.Length > Math.Min(limit, response.Length)) return 0;
        answer.CopyTo(response);
        var result = response[..answer.Length];
        // The query's ID, RD flag and question (the same length: the same name, type and class).
        BinaryPrimitives.WriteUInt16BigEndian(result, DnsMessageId(query));
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(result[DnsMessage.Field.Flags..]);
        ushort rd = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(query[DnsMessage.Field.Flags..]) & DnsMessage.Bits.RecursionDesired);
        BinaryPrimitives.WriteUInt16BigEndian(result[DnsMessage.Field.Flags..], (ushort)(flags & ~DnsMessage.Bits.RecursionDesired | rd));
        query[DnsHeader.Size..questionEnd].CopyTo(result[DnsHeader.Size..]);
        AgeTimesToLive(result, (uint)Math.Max(0, (long)(now - stored).TotalSeconds));
        return answer.Length;
    }

    /// <summary>Keeps <paramref name="answer"/> to <paramref name="query"/> if it may be cached (see the class); true if kept.</summary>
    public bool Store(ReadOnlySpan<byte> query, ReadOnlySpan<byte> answer, TimeSpan now)
    {
        if (answer.Length > MaximumAnswer || !TryGetKey(query, out var key, out int questionEnd)) return false;
        if (DnsMessage.TryParse(answer, out var message) != WireError.None || !message.IsResponse || message.IsTruncated
            || message.Opcode != DnsOpcode.Query || message.QuestionCount != 1) return false;
        // The same question (its bytes, letters' case aside): an answer to something else is not this question's.
        int typeAt = questionEnd - DnsReader.Field.QuestionSize;
        if (answer.Length < questionEnd || !System.Text.Ascii.EqualsIgnoreCase(answer[DnsHeader.Size..typeAt], query[DnsHeader.Size..typeAt])
            || !answer[typeAt..questionEnd].SequenceEqual(query[typeAt..questionEnd])) return false;
        uint? ttl = TimeToLive(message);
        if (ttl is not uint seconds || seconds == 0) return false;
        var entry = new Entry(key, answer.ToArray(), now, now + TimeSpan.FromSeconds(seconds));
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var old)) Remove(old);
            while (_entries.Count >= _capacity && _recent.Last is { } last) Remove(last);
            _entries.Add(key, _recent.AddFirst(entry));
        }
        return true;
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _entries.Remove(node.Value.Key);
        _recent.Remove(node);
    }

    // How long an answer may be kept: null when it may not (see the class).
    private static uint? TimeToLive(DnsMessage message)
    {
        var code = (DnsResponseCode)(message.Flags & DnsMessage.Bits.ResponseCodeMask);
        if (code is not (DnsResponseCode.NoError or DnsResponseCode.NameError)) return null;
        bool negative = code == DnsResponseCode.NameError || message.AnswerCount == 0;
        uint least = uint.MaxValue;
        uint? soa = null;
        var reader = new DnsReader(message);
        while (reader.TryReadRecord(out var record))
        {
            if (record.Type == DnsType.Opt) continue;
            least = Math.Min(least, TimeToLiveOf(record.TimeToLive));
            if (negative && record.Type == DnsType.Soa && reader.Section == DnsSection.Authority)
                soa = Math.Min(TimeToLiveOf(record.TimeToLive), TimeToLiveOf(record.Minimum));   // RFC 2308 5
        }
        if (reader.Error != WireError.None) return null;
        if (negative) return soa is uint s ? Math.Min(s, MaximumNegativeTimeToLive) : null;
        return Math.Min(least, MaximumTimeToLive);
    }

    // Every record's TTL (not OPT's) less the seconds the answer has been held, at least 0.
    private static void AgeTimesToLive(Span<byte> answer, uint seconds)
    {
        if (seconds == 0 || DnsMessage.TryParse(answer, out var message) != WireError.None) return;
        var reader = new DnsReader(message);   // reads the same bytes: a TTL written behind it changes nothing it walks by
        while (reader.TryReadRecord(out var record))
        {
            if (record.Type == DnsType.Opt) continue;
            var ttl = answer[(record.DataOffset - DnsReader.Field.RecordFixedSize + DnsReader.Field.TimeToLive)..];
            uint left = TimeToLiveOf(record.TimeToLive);
            BinaryPrimitives.WriteUInt32BigEndian(ttl, left > seconds ? left - seconds : 0);
        }
    }

    // RFC 2181 8: a TTL with its top bit set is taken as 0.
    private static uint TimeToLiveOf(uint value) => value > int.MaxValue ? 0 : value;

    /// <summary>A query's EDNS (RFC 6891 6.1.2): its UDP payload size (0 without an OPT record) and its DO bit (RFC 3225).</summary>
    internal static (int PayloadSize, bool Dnssec) ReadEdns(DnsMessage query)
    {
        if (query.AdditionalCount == 0) return (0, false);
        var reader = new DnsReader(query);
        while (reader.TryReadRecord(out var record))
            if (record.Type == DnsType.Opt) return ((int)record.Class, (record.TimeToLive & 0x8000) != 0);
        return (0, false);
    }

    private static ushort DnsMessageId(ReadOnlySpan<byte> query) => BinaryPrimitives.ReadUInt16BigEndian(query);

    // A standard query with one question: its name (lower-cased wire form), type and class as the key; where the question ends.
    private static bool TryGetKey(ReadOnlySpan<byte> query, out string key, out int questionEnd)
    {
        key = "";
        questionEnd = 0;
        if (DnsMessage.TryParse(query, out var message) != WireError.None || message.IsResponse || message.Opcode != DnsOpcode.Query || message.QuestionCount != 1) return false;
        var reader = new DnsReader(message);
        if (!reader.TryReadQuestion(out _)) return false;
        questionEnd = reader.Position;
        var question = query[DnsHeader.Size..questionEnd];
        int nameLength = question.Length - DnsReader.Field.QuestionSize;
        Span<char> chars = stackalloc char[question.Length];
        for (int i = 0; i < question.Length; i++)
            chars[i] = (char)(i < nameLength && question[i] is >= (byte)'A' and <= (byte)'Z' ? question[i] + 32 : question[i]);   // the name's letters only, not TYPE and CLASS
        // RFC 3225: a query with the DO bit (in its OPT record) wants DNSSEC records, one without does not: apart.
        key = ReadEdns(message).Dnssec ? new string(chars) + "+do" : new string(chars);
        return true;
    }
}
