using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Dns;

/// <summary>
/// The resolver's bounded cache: a fixed array of entries, one per (name, type), found by a scan that compares names
/// ignoring ASCII case (RFC 4343) and allocates nothing. Expired entries are dropped when met; a full cache evicts the
/// least recently used entry.
/// </summary>
internal sealed class DnsCache
{
    internal sealed class Entry(int addressCapacity)
    {
        public string Name = "";
        public DnsType Type;
        public bool InUse;
        public TimeSpan Expires;
        public TimeSpan LastUsed;
        public DnsError Error;
        public string CanonicalName = "";
        public IReadOnlyList<string> Aliases = [];
        public readonly HostAddress[] Addresses = new HostAddress[addressCapacity];
        public int AddressCount;
        public IReadOnlyList<DnsRecord> Records = [];
    }

    private readonly Entry[] _entries;

    public DnsCache(int size, int addressesPerName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(addressesPerName, 1);
        _entries = new Entry[size];
        for (int i = 0; i < size; i++) _entries[i] = new Entry(addressesPerName);
    }

    public int Count { get; private set; }
    public int Capacity => _entries.Length;
    public long Evictions { get; private set; }

    /// <summary>The live entry for (name, type), or null; an expired one is dropped on the way.</summary>
    public Entry? Find(ReadOnlySpan<char> name, DnsType type, TimeSpan now)
    {
        name = TrimRoot(name);
        foreach (var e in _entries)
        {
            if (!e.InUse || e.Type != type || !name.Equals(e.Name, StringComparison.OrdinalIgnoreCase)) continue;
            if (now >= e.Expires)
            {
                Free(e);
                return null;
            }
            e.LastUsed = now;
            return e;
        }
        return null;
    }

    /// <summary>An entry to fill for (name, type): the existing one, a free one, an expired one, or the least recently used.</summary>
    public Entry Add(string name, DnsType type, TimeSpan now, TimeSpan expires)
    {
        name = TrimRoot(name).ToString();
        Entry? chosen = null;
        foreach (var e in _entries)
        {
            if (e.InUse && e.Type == type && name.Equals(e.Name, StringComparison.OrdinalIgnoreCase)) { chosen = e; break; }
            if (chosen is null || Better(e, chosen, now)) chosen = e;
        }
        if (chosen!.InUse && !(chosen.Type == type && name.Equals(chosen.Name, StringComparison.OrdinalIgnoreCase)) && now < chosen.Expires) Evictions++;
        if (!chosen.InUse) Count++;
        chosen.InUse = true;
        chosen.Name = name;
        chosen.Type = type;
        chosen.Expires = expires;
        chosen.LastUsed = now;
        chosen.Error = DnsError.None;
        chosen.CanonicalName = name;
        chosen.Aliases = [];
        chosen.AddressCount = 0;
        chosen.Records = [];
        return chosen;
    }

    // Free beats expired beats the least recently used.
    private static bool Better(Entry candidate, Entry current, TimeSpan now)
    {
        static int Rank(Entry e, TimeSpan now) => !e.InUse ? 0 : now >= e.Expires ? 1 : 2;
        int a = Rank(candidate, now), b = Rank(current, now);
        return a != b ? a < b : candidate.LastUsed < current.LastUsed;
    }

    public void Clear()
    {
        foreach (var e in _entries) Free(e);
    }

    private void Free(Entry e)
    {
        if (!e.InUse) return;
        e.InUse = false;
        e.Aliases = [];
        e.Records = [];
        Count--;
    }

    internal static ReadOnlySpan<char> TrimRoot(ReadOnlySpan<char> name) => name.Length > 1 && name[^1] == '.' ? name[..^1] : name;
}
