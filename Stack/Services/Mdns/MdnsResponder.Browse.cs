using System.Buffers.Binary;
using System.Text;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Mdns;

public sealed partial class MdnsResponder
{
    private readonly List<MdnsBrowse> _browses = [];
    private readonly byte[] _nameBytes = new byte[DnsName.MaximumTextLength];

    /// <summary>
    /// Browses for instances of <paramref name="serviceType"/> (e.g. "_http._tcp"; "_services._dns-sd._udp" lists the
    /// types on the link) for <paramref name="duration"/>: PTR queries at once and then 1, 2, 4... s apart, with SRV, TXT
    /// and address queries for what the answers left out. Instances are collected as answers arrive (<see
    /// cref="MdnsBrowse.Services"/>); the browse completes at the end of the time. Call on the stack thread.
    /// </summary>
    public MdnsBrowse Browse(string serviceType, TimeSpan duration, TimeSpan now)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceType);
        if (_stack is null || _stopped) throw new InvalidOperationException("the responder is not running");
        var type = serviceType.EndsWith(".local", StringComparison.OrdinalIgnoreCase) ? serviceType[..^6] : serviceType.TrimEnd('.');
        if (DnsName.EncodedLength(type + ".local", out _) != WireError.None) throw new ArgumentException("a service type such as \"_http._tcp\"", nameof(serviceType));
        _browses.RemoveAll(b => b.IsCompleted);
        if (_browses.Count >= _options.MaximumBrowses) throw new InvalidOperationException($"at most {_options.MaximumBrowses} browses at once (MdnsOptions.MaximumBrowses)");
        var browse = new MdnsBrowse(type, now + duration, _options.MaximumInstancesPerBrowse);
        // Our own services are not heard back (no multicast loop): listed at once.
        foreach (var s in _services)
        {
            if (!s.Service!.Type.Equals(type, StringComparison.OrdinalIgnoreCase) && !(type == "_services._dns-sd._udp")) continue;
            if (s.State is not (OwnerState.Announcing or OwnerState.Established)) continue;
            var found = type == "_services._dns-sd._udp"
                ? browse.Add($"{s.Service.Type}.local", s.Service.Type)
                : browse.Add(s.FullName, s.Label);
            if (found is null || type == "_services._dns-sd._udp") continue;
            found.HostName = _host.FullName;
            found.Port = s.Service.Port;
            found.Txt = s.Service.Txt ?? [];
            if (!_v4.IsAny) found.AddressList.Add(_v4);
            for (int i = 0; i < _v6Count; i++) found.AddressList.Add(_v6[i]);
        }
        _browses.Add(browse);
        browse.NextAction = now;
        PollBrowses(now);
        return browse;
    }

    private void PollBrowses(TimeSpan now)
    {
        for (int i = _browses.Count - 1; i >= 0; i--)
        {
            var b = _browses[i];
            if (b.IsCompleted) { _browses.RemoveAt(i); continue; }
            if (now >= b.Deadline)
            {
                _browses.RemoveAt(i);
                b.Complete();
                continue;
            }
            if (now < b.NextAction) continue;
            SendBrowseQuery(b, now);
            b.Interval = b.Interval == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : b.Interval * 2;
            b.NextAction = now + b.Interval;
            if (b.NextAction > b.Deadline) b.NextAction = b.Deadline;
        }
    }

    // RFC 6762 5.2 and 7.1: the PTR question with the instances known so far as known answers; RFC 6763 12: SRV, TXT
    // and address questions for instances whose answers did not carry them.
    private void SendBrowseQuery(MdnsBrowse b, TimeSpan now)
    {
        if (_endpoint is null || !HasAddress) return;
        var writer = new DnsWriter(_tx, compressNames: true);
        writer.WriteHeader(new DnsHeader(0));
        writer.WriteQuestion(b.TypeName, DnsType.Ptr);
        foreach (var s in b.Found)
        {
            if (s.Removed || s.IsResolved) continue;
            if (s.HostName is null)
            {
                if (writer.WriteQuestion(s.WireName, DnsType.Srv) != WireError.None) break;
                writer.WriteQuestion(s.WireName, DnsType.Txt);
            }
            else if (s.AddressList.Count == 0)
            {
                if (writer.WriteQuestion(s.WireHost!, DnsType.A) != WireError.None) break;
                writer.WriteQuestion(s.WireHost!, DnsType.Aaaa);
            }
        }
        foreach (var s in b.Found)
        {
            if (s.Removed || !s.IsResolved || s.WireName.Length == 0) continue;
            if (writer.WriteNameRecord(b.TypeName, DnsType.Ptr, s.WireName, s.PtrTtl) != WireError.None) break;
        }
        int length = writer.Finish();
        b.QueriesSent++;
        SendBoth(_tx.AsSpan(0, length));
    }

    private void FeedBrowses(DnsMessage message, TimeSpan now)
    {
        foreach (var b in _browses)
        {
            if (b.IsCompleted) continue;
            // Three passes: instances from PTRs first, then their SRV and TXT, then the hosts' addresses, in whatever order they came.
            for (int pass = 0; pass < 3; pass++)
            {
                var reader = message.GetReader();
                int seen = 0;
                while (seen++ < _options.MaximumEntriesPerMessage && reader.TryReadRecord(out var record))
                {
                    if (reader.Section == DnsSection.Authority) continue;
                    if (pass == 0 && record.Type == DnsType.Ptr && record.Name.Matches(b.TypeName)) TakePtr(b, record);
                    else if (pass == 1 && record.Type is DnsType.Srv or DnsType.Txt) TakeServiceRecord(b, message.Bytes, record);
                    else if (pass == 2 && record.Type is DnsType.A or DnsType.Aaaa && record.TimeToLive > 0) TakeAddress(b, record);
                }
            }
        }
    }

    private void TakePtr(MdnsBrowse b, DnsRecordView record)
    {
        if (record.DomainName.TryDecode(_nameBytes, out int n) != WireError.None) return;
        var target = _nameBytes.AsSpan(0, n);
        var existing = b.Find(target);
        if (record.TimeToLive == 0)
        {
            if (existing is not null) existing.Removed = true;
            return;
        }
        if (existing is not null)
        {
            existing.Removed = false;
            return;
        }
        var wire = Latin1(target);
        var text = Encoding.UTF8.GetString(target);
        string suffix = "." + b.Type + ".local";
        string instance = text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) ? text[..^suffix.Length]
            : text.EndsWith(".local", StringComparison.OrdinalIgnoreCase) ? text[..^6] : text;
        var found = b.Add(wire, instance);
        if (found is null) { Statistics.BrowseOverflows++; return; }
        found.PtrTtl = record.TimeToLive;
    }

    private void TakeServiceRecord(MdnsBrowse b, ReadOnlySpan<byte> message, DnsRecordView record)
    {
        foreach (var s in b.Found)
        {
            if (!record.Name.Matches(s.WireName)) continue;
            if (record.Type == DnsType.Srv)
            {
                var data = record.Data;
                if (data.Length < 7) return;
                var target = new DnsName(message, record.DataOffset + 6);
                if (target.TryDecode(_nameBytes, out int n) != WireError.None) return;
                s.Port = BinaryPrimitives.ReadUInt16BigEndian(data[4..]);
                var wireHost = Latin1(_nameBytes.AsSpan(0, n));
                if (s.WireHost != wireHost) s.AddressList.Clear();
                s.WireHost = wireHost;
                s.HostName = Encoding.UTF8.GetString(_nameBytes, 0, n);
            }
            else
            {
                var txt = new List<string>();
                foreach (var part in record.Text)
                    if (!part.IsEmpty) txt.Add(Encoding.UTF8.GetString(part));
                s.Txt = txt;
            }
            return;
        }
    }

    private void TakeAddress(MdnsBrowse b, DnsRecordView record)
    {
        foreach (var s in b.Found)
        {
            if (s.WireHost is null || !record.Name.Matches(s.WireHost)) continue;
            IpAddress address = record.Type == DnsType.A ? record.Address : Ipv6Address.Read(record.Ipv6Address);
            if (s.AddressList.Contains(address) || s.AddressList.Count >= _options.MaximumAddressesPerInstance) continue;
            s.AddressList.Add(address);
        }
    }

    private static string Latin1(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = (char)bytes[i];
        return new string(chars);
    }
}

/// <summary>
/// One browse for a service type (<see cref="MdnsResponder.Browse"/>): the instances found so far, and completion at the
/// end of its time (<see cref="Completed"/>, or await <see cref="Task"/>). Read <see cref="Services"/> on the stack thread
/// while it runs; after completion from any thread.
/// </summary>
public sealed class MdnsBrowse
{
    private readonly TaskCompletionSource<IReadOnlyList<DiscoveredService>> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _maximum;

    internal MdnsBrowse(string type, TimeSpan deadline, int maximum)
    {
        Type = type;
        TypeName = type + ".local";
        Deadline = deadline;
        _maximum = maximum;
    }

    /// <summary>The service type browsed, e.g. "_http._tcp".</summary>
    public string Type { get; }
    /// <summary>When the browse ends (stack time).</summary>
    public TimeSpan Deadline { get; }
    /// <summary>True once its time is up (or it was cancelled).</summary>
    public bool IsCompleted { get; private set; }
    /// <summary>Queries sent so far.</summary>
    public int QueriesSent { get; internal set; }
    /// <summary>The instances found (with those that said goodbye marked <see cref="DiscoveredService.Removed"/>).</summary>
    public IReadOnlyList<DiscoveredService> Services => Found.Select(f => f.Service).ToList();
    /// <summary>Raised on the stack thread when the browse completes.</summary>
    public event Action<MdnsBrowse>? Completed;
    /// <summary>Completes with the instances found that did not say goodbye.</summary>
    public Task<IReadOnlyList<DiscoveredService>> Task => _done.Task;

    /// <summary>Ends the browse now (on the stack thread).</summary>
    public void Cancel() => Complete();

    internal string TypeName { get; }
    internal List<Entry> Found { get; } = [];
    internal TimeSpan NextAction { get; set; }
    internal TimeSpan Interval { get; set; }

    internal Entry? Find(ReadOnlySpan<byte> wireName)
    {
        foreach (var e in Found)
        {
            if (e.WireName.Length != wireName.Length) continue;
            bool same = true;
            for (int i = 0; i < wireName.Length && same; i++) same = char.ToLowerInvariant(e.WireName[i]) == char.ToLowerInvariant((char)wireName[i]);
            if (same) return e;
        }
        return null;
    }

    internal Entry? Add(string wireName, string instance)
    {
        if (Found.Count >= _maximum) return null;
        var e = new Entry(wireName, new DiscoveredService(Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(wireName)), instance, Type));
        Found.Add(e);
        return e;
    }

    internal void Complete()
    {
        if (IsCompleted) return;
        IsCompleted = true;
        Completed?.Invoke(this);
        _done.TrySetResult(Found.Where(f => !f.Removed).Select(f => f.Service).ToList());
    }

    internal sealed class Entry(string wireName, DiscoveredService service)
    {
        public string WireName { get; } = wireName;
        public DiscoveredService Service { get; } = service;
        public uint PtrTtl { get; set; } = 4500;
        public string? WireHost { get; set; }
        public bool Removed { get => Service.Removed; set => Service.Removed = value; }
        public bool IsResolved => Service.IsResolved;
        public string? HostName { get => Service.HostName; set => Service.HostName = value; }
        public ushort Port { get => Service.Port; set => Service.Port = value; }
        public IReadOnlyList<string> Txt { get => Service.Txt; set => Service.Txt = value; }
        public List<IpAddress> AddressList => Service.AddressList;
    }
}
