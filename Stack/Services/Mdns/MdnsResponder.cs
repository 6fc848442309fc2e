using System.Buffers.Binary;
using System.Text;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Mdns;

/// <summary>
/// A multicast DNS responder (RFC 6762) with DNS-SD services (RFC 6763), run on the stack thread as lwIP's mDNS
/// responder runs on the Pico W. It owns <c>HOSTNAME.local</c> (A, and AAAA for the IPv6 addresses past DAD) and the
/// reverse names of those addresses; it probes for each name (three probes 250 ms apart), announces it twice, renames
/// on a conflict (<c>NAME-2</c>, <c>NAME-3</c>..., raising <see cref="NameChanged"/>), answers multicast, QU and legacy
/// unicast queries, suppresses known answers, rate-limits each record to one multicast a second, and says goodbye (TTL 0)
/// when it stops or an address goes away. It listens on 224.0.0.251 and ff02::fb port 5353 through an SO_REUSEADDR
/// endpoint, so a program's own socket can bind 5353 beside it. Answering a query allocates nothing.
/// </summary>
public sealed partial class MdnsResponder : IStackService
{
    /// <summary>The mDNS port.</summary>
    public const ushort Port = 5353;
    /// <summary>224.0.0.251.</summary>
    public static readonly Ipv4Address GroupV4 = new(224, 0, 0, 251);
    /// <summary>ff02::fb.</summary>
    public static readonly Ipv6Address GroupV6 = Ipv6Address.Parse("ff02::fb");

    private const ushort CacheFlush = 0x8000;       // RFC 6762 10.2: in a record's class
    private const ushort UnicastResponse = 0x8000;  // RFC 6762 5.4: in a question's class (QU)
    private const int MaximumIpv6Addresses = 8;
    private const string ServicesName = "_services._dns-sd._udp.local";
    private static readonly TimeSpan Never = TimeSpan.MaxValue;
    private static readonly TimeSpan LongAgo = TimeSpan.MinValue;

    private readonly MdnsOptions _options;
    private readonly Owner _host;
    private readonly List<Owner> _services = [];
    private readonly List<Rec> _records = [];
    private readonly Ipv6Address[] _v6 = new Ipv6Address[MaximumIpv6Addresses];
    private int _v6Count;
    private Ipv4Address _v4;
    private byte[] _rx = new byte[9000];
    private byte[] _tx = new byte[1500];
    private readonly char[] _nameBuffer = new char[DnsName.MaximumTextLength];
    private NetworkStack? _stack;
    private UdpEndpoint? _endpoint;
    private bool _joined6;
    private bool _stopped;
    private int _conflictsInWindow;
    private TimeSpan _conflictWindowStart;

    /// <summary>A responder with <paramref name="options"/> (the defaults when null); it runs once the driver calls <see cref="Start"/>.</summary>
    public MdnsResponder(MdnsOptions? options = null)
    {
        _options = options ?? new MdnsOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.ProbeCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.AnnounceCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaximumDatagramsPerPoll, 1);
        _host = new Owner(isHost: true, _options.Hostname ?? "", null);
    }

    /// <summary>Counters of what was received, answered and suppressed.</summary>
    public MdnsStatistics Statistics { get; } = new();

    /// <summary>The host name in use, without <c>.local</c> (after renames); empty before <see cref="Start"/>.</summary>
    public string Hostname => _host.Label;

    /// <summary>The host's full name in use, e.g. "PicoW.local".</summary>
    public string HostFullName => _host.FullName;

    /// <summary>True once the host name has been probed and is being announced or answered for.</summary>
    public bool HostnameEstablished => _host.State is OwnerState.Announcing or OwnerState.Established;

    /// <summary>The services registered, with the instance names in use (after renames).</summary>
    public IReadOnlyList<ServiceInstance> Services => _services.Select(s => s.Service! with { Instance = s.Label }).ToList();

    /// <summary>True once the service of this type and (original) instance name is probed and answered for.</summary>
    public bool IsEstablished(string instance, string type)
        => _services.Find(s => s.OriginalLabel == instance && s.Service!.Type == type) is { State: OwnerState.Announcing or OwnerState.Established };

    /// <summary>Raised on the stack thread when a name is lost to another host and the next one is taken (RFC 6762 9).</summary>
    public event Action<MdnsNameChange>? NameChanged;

    /// <inheritdoc/>
    public TimeSpan? NextDeadline
    {
        get
        {
            if (_stack is null || _stopped) return null;
            if (_endpoint is { QueuedDatagrams: > 0 }) return TimeSpan.Zero;
            var next = _host.Next;
            foreach (var s in _services) if (s.Next < next) next = s.Next;
            foreach (var r in _records)
            {
                if (r.Due4 < next) next = r.Due4;
                if (r.Due6 < next) next = r.Due6;
            }
            foreach (var b in _browses) if (!b.IsCompleted && b.NextAction < next) next = b.NextAction;
            return next == Never ? null : next;
        }
    }

    /// <summary>
    /// Publishes a DNS-SD service: its instance name is probed and announced (renamed "Instance (2)"... on a conflict).
    /// Call before <see cref="Start"/> or on the stack thread.
    /// </summary>
    public void Register(ServiceInstance service)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrEmpty(service.Instance);
        if (service.Instance.Contains('.', StringComparison.Ordinal)) throw new ArgumentException("an instance name without dots (they cannot be escaped here)", nameof(service));
        if (Encoding.UTF8.GetByteCount(service.Instance) > DnsName.MaximumLabelLength) throw new ArgumentException("an instance name of at most 63 bytes", nameof(service));
        if (!IsServiceType(service.Type)) throw new ArgumentException("a service type such as \"_http._tcp\"", nameof(service));
        if (_services.Count >= _options.MaximumServices) throw new InvalidOperationException($"at most {_options.MaximumServices} services (MdnsOptions.MaximumServices)");
        if (_services.Exists(s => s.OriginalLabel == service.Instance && s.Service!.Type == service.Type)) throw new InvalidOperationException($"{service.Instance}.{service.Type} is registered already");
        var txt = EncodeTxt(service.Txt);
        if (txt.Length > _options.MaximumTxtLength) throw new ArgumentException($"TXT data of at most {_options.MaximumTxtLength} bytes", nameof(service));
        var owner = new Owner(isHost: false, service.Instance, service) { Txt = txt };
        _services.Add(owner);
        if (_stack is { } stack)
        {
            if (_options.Publish) StartProbing(owner, stack.Interface.Now);
            Rebuild();
        }
    }

    /// <summary>Withdraws a service registered with this (original) instance name and type, with a goodbye; false when none.</summary>
    public bool Unregister(string instance, string type)
    {
        var owner = _services.Find(s => s.OriginalLabel == instance && s.Service!.Type == type);
        if (owner is null) return false;
        if (_stack is not null && owner.State is OwnerState.Announcing or OwnerState.Established) SendGoodbye(r => r.Owner == owner);
        _services.Remove(owner);
        Rebuild();
        return true;
    }

    /// <inheritdoc/>
    public void Start(NetworkStack stack, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(stack);
        _stack = stack;
        if (_host.OriginalLabel.Length == 0) _host.SetLabel(CheckHostname(stack.Options.Hostname), 1);
        else _host.SetLabel(CheckHostname(_host.OriginalLabel), 1);
        _tx = new byte[Math.Clamp(stack.Mtu - 48, 512, 9000)];
        _rx = new byte[Math.Max(stack.Mtu, 9000)];   // RFC 6762 17: messages up to 9000 bytes, reassembled
        OpenEndpoint();
        stack.JoinMulticast(GroupV4);
        if (stack.Ipv6Enabled && _options.Ipv6)
        {
            stack.JoinMulticast(GroupV6);
            _joined6 = true;
        }
        ReadAddresses();
        if (_options.Publish)
        {
            StartProbing(_host, now);
            foreach (var s in _services) StartProbing(s, now);
        }
        Rebuild();
    }

    // Port 5353, shared through SO_REUSEADDR; a socket of the program's that took it without SO_REUSEADDR keeps it from
    // us until it closes (tried again each second, counted as deferred work meanwhile).
    private void OpenEndpoint()
    {
        var stack = _stack!;
        var any = stack.Ipv6Enabled && _options.Ipv6 ? IpAddress.Any : IpAddress.AnyIpv4;
        if (stack.Udp.Open(stack.Internet, any, Port, out var endpoint, _options.ReceiveQueueBytes, _options.ReceiveQueueDatagrams, reuseAddress: true) != NetError.None) return;
        _endpoint = endpoint!;
        _endpoint.MulticastTimeToLive = 255;   // RFC 6762 11
        _endpoint.MulticastLoop = false;       // our own packets are not queries or conflicts
    }

    internal static string CheckHostname(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.EndsWith(".local", StringComparison.OrdinalIgnoreCase)) name = name[..^6];
        if (name.Length == 0 || name.Contains('.', StringComparison.Ordinal) || Encoding.UTF8.GetByteCount(name) > 60)
            throw new ArgumentException($"a host name is one label of at most 60 bytes (got \"{name}\")", nameof(name));
        return name;
    }

    /// <summary>Says goodbye for every record announced (TTL 0, RFC 6762 10.1), leaves the groups and closes port 5353.</summary>
    public void Stop(NetworkStack stack, TimeSpan now)
    {
        if (_stack is null || _stopped) return;
        SendGoodbye(r => r.Owner.State is OwnerState.Announcing or OwnerState.Established);
        _stopped = true;
        foreach (var b in _browses) b.Complete();   // a browse in flight ends with what it found
        _browses.Clear();
        _endpoint?.Close();
        stack.LeaveMulticast(GroupV4);
        if (_joined6) stack.LeaveMulticast(GroupV6);
    }

    /// <inheritdoc/>
    public void Poll(NetworkStack stack, TimeSpan now)
    {
        if (_stack is null || _stopped) return;
        if (AddressesChanged()) OnAddressesChanged(now);
        if (_endpoint is { } endpoint)
        {
            for (int i = 0; i < _options.MaximumDatagramsPerPoll; i++)
            {
                int n = endpoint.Receive(_rx, out var from, out var fromPort);
                if (n < 0) break;
                Process(_rx.AsSpan(0, Math.Min(n, _rx.Length)), from, fromPort, now);
            }
            if (endpoint.QueuedDatagrams > 0) Statistics.DeferredDatagrams++;
            endpoint.TakeError();
        }
        RunOwner(_host, now);
        foreach (var s in _services) RunOwner(s, now);
        FlushDue(now);
        PollBrowses(now);
    }

    // ---------------------------------------------------------------- names and records

    private enum OwnerState { Waiting, Probing, Announcing, Established }

    // A unique name this host claims: its host name, or a service instance's name.
    private sealed class Owner(bool isHost, string label, ServiceInstance? service)
    {
        public bool IsHost { get; } = isHost;
        public string OriginalLabel { get; private set; } = label;
        public ServiceInstance? Service { get; } = service;
        public byte[] Txt { get; init; } = [];
        public string Label { get; private set; } = label;
        public string FullName { get; private set; } = "";
        public int Suffix { get; private set; } = 1;
        public OwnerState State { get; set; } = OwnerState.Waiting;
        public int Sent { get; set; }
        public bool Probed { get; set; }   // a probe for the current name went out: from then on a response can conflict
        public TimeSpan Next { get; set; } = Never;
        public Rec[] ProbeRecords { get; set; } = [];

        public void SetLabel(string original, int suffix)
        {
            if (OriginalLabel.Length == 0) OriginalLabel = original;
            Suffix = suffix;
            // The suffix's own length counts: a label stays within DNS's 63 bytes however many renames a flood forces.
            string tail = IsHost ? $"-{suffix}" : $" ({suffix})";
            Label = suffix == 1 ? OriginalLabel : Trim(OriginalLabel, 63 - tail.Length) + tail;
            FullName = IsHost ? $"{WireText(Label)}.local" : $"{WireText(Label)}.{Service!.Type}.local";
        }

        public void Init() => SetLabel(OriginalLabel, Suffix);

        private static string Trim(string s, int bytes)
        {
            while (Encoding.UTF8.GetByteCount(s) > bytes) s = s[..^1];
            return s;
        }
    }

    // One resource record this host answers with, its RDATA ready, and its per-packet and rate-limit state.
    private sealed class Rec(Owner owner, string name, DnsType type, bool unique, uint ttl, byte[] data, string? target)
    {
        public Owner Owner { get; } = owner;
        public string Name { get; } = name;
        public DnsType Type { get; } = type;
        public bool Unique { get; } = unique;
        public uint Ttl { get; } = ttl;
        public byte[] Data { get; } = data;
        public string? Target { get; } = target;   // PTR and SRV: the name in RDATA, to compare with compressed ones
        public Rec[] Additional { get; set; } = [];
        public TimeSpan LastMulticast4 { get; set; } = LongAgo;
        public TimeSpan LastMulticast6 { get; set; } = LongAgo;
        public TimeSpan Due4 { get; set; } = Never;
        public TimeSpan Due6 { get; set; } = Never;
        public bool Answer;
        public bool Extra;
        public bool Suppressed;
        public bool Live => Owner.State is OwnerState.Announcing or OwnerState.Established;
    }

    // A label's UTF-8 bytes as one char per byte: the form DnsWriter writes and DnsName.Matches compares.
    private static string WireText(string label)
    {
        var bytes = Encoding.UTF8.GetBytes(label);
        return string.Create(bytes.Length, bytes, (span, b) => { for (int i = 0; i < b.Length; i++) span[i] = (char)b[i]; });
    }

    private static bool IsServiceType(string? type)
    {
        if (string.IsNullOrEmpty(type)) return false;
        var parts = type.Split('.');
        return parts.Length == 2 && parts[0].Length is > 1 and <= 16 && parts[0][0] == '_' && parts[1] is "_tcp" or "_udp";
    }

    private static byte[] EncodeTxt(IReadOnlyList<string>? txt)
    {
        if (txt is null || txt.Count == 0) return [0];   // RFC 6763 6.1: one empty string
        var data = new List<byte>();
        foreach (var s in txt)
        {
            var b = Encoding.UTF8.GetBytes(s);
            if (b.Length > 255) throw new ArgumentException("a TXT string of at most 255 bytes", nameof(txt));
            data.Add((byte)b.Length);
            data.AddRange(b);
        }
        return [.. data];
    }

    private static byte[] EncodeName(string name)
    {
        Span<byte> buffer = stackalloc byte[DnsName.MaximumLength];
        DnsName.TryEncode(name, buffer, out int n);
        return buffer[..n].ToArray();
    }

    internal static string ReverseName(IpAddress address)
    {
        if (address.IsIpv4)
        {
            uint v = address.AsIpv4.Value;
            return $"{v & 0xFF}.{(v >> 8) & 0xFF}.{(v >> 16) & 0xFF}.{v >> 24}.in-addr.arpa";
        }
        var sb = new StringBuilder(72);
        UInt128 value = address.AsIpv6.Value;
        for (int i = 0; i < 32; i++)
        {
            sb.Append("0123456789abcdef"[(int)(value & 0xF)]).Append('.');
            value >>= 4;
        }
        return sb.Append("ip6.arpa").ToString();
    }

    // Remakes every record from the names, addresses and services (on start, a rename, an address change, a registration).
    private void Rebuild()
    {
        _records.Clear();
        var hostRecords = new List<Rec>();
        uint hostTtl = _options.HostRecordTtl, otherTtl = _options.OtherRecordTtl;
        _host.Init();
        if (!_v4.IsAny)
        {
            var a = new byte[4];
            _v4.WriteTo(a);
            hostRecords.Add(new Rec(_host, _host.FullName, DnsType.A, true, hostTtl, a, null));
        }
        for (int i = 0; i < _v6Count; i++)
        {
            var a = new byte[16];
            _v6[i].WriteTo(a);
            hostRecords.Add(new Rec(_host, _host.FullName, DnsType.Aaaa, true, hostTtl, a, null));
        }
        _records.AddRange(hostRecords);
        var target = EncodeName(_host.FullName);
        if (!_v4.IsAny) _records.Add(new Rec(_host, ReverseName(_v4), DnsType.Ptr, true, hostTtl, target, _host.FullName) { Additional = [.. hostRecords] });
        for (int i = 0; i < _v6Count; i++)
            _records.Add(new Rec(_host, ReverseName(_v6[i]), DnsType.Ptr, true, hostTtl, target, _host.FullName) { Additional = [.. hostRecords] });
        foreach (var h in hostRecords) h.Additional = hostRecords.Where(o => o != h).ToArray();
        _host.ProbeRecords = Sorted(hostRecords);

        var types = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in _services)
        {
            s.Init();
            string typeName = $"{s.Service!.Type}.local";
            var srvData = new byte[6 + target.Length];
            BinaryPrimitives.WriteUInt16BigEndian(srvData.AsSpan(4), s.Service.Port);   // priority 0, weight 0
            target.CopyTo(srvData, 6);
            var srv = new Rec(s, s.FullName, DnsType.Srv, true, hostTtl, srvData, _host.FullName) { Additional = [.. hostRecords] };
            var txt = new Rec(s, s.FullName, DnsType.Txt, true, otherTtl, s.Txt, null);
            var ptr = new Rec(s, typeName, DnsType.Ptr, false, otherTtl, EncodeName(s.FullName), s.FullName) { Additional = [srv, txt, .. hostRecords] };
            _records.Add(ptr);
            _records.Add(srv);
            _records.Add(txt);
            s.ProbeRecords = Sorted([srv, txt]);
            // RFC 6763 9: each type once under the enumeration name, answered while a service of it is.
            if (types.Add(typeName)) _records.Add(new Rec(s, ServicesName, DnsType.Ptr, false, otherTtl, EncodeName(typeName), typeName));
        }
    }

    // RFC 6762 8.2: records compared by class, type, then RDATA bytes.
    private static Rec[] Sorted(List<Rec> records)
    {
        var array = records.ToArray();
        Array.Sort(array, (x, y) => x.Type != y.Type ? ((ushort)x.Type).CompareTo((ushort)y.Type) : x.Data.AsSpan().SequenceCompareTo(y.Data));
        return array;
    }

    // ---------------------------------------------------------------- addresses

    private void ReadAddresses()
    {
        var stack = _stack!;
        _v4 = stack.Address;
        _v6Count = stack.Ipv6Enabled && _options.Ipv6 && stack.Internet.Ipv6 is { } v6 ? v6.CopyUsableAddresses(_v6) : 0;
    }

    private bool AddressesChanged()
    {
        var stack = _stack!;
        if (stack.Address != _v4) return true;
        if (!stack.Ipv6Enabled || !_options.Ipv6 || stack.Internet.Ipv6 is not { } v6) return false;
        Span<Ipv6Address> now = stackalloc Ipv6Address[MaximumIpv6Addresses];
        int n = v6.CopyUsableAddresses(now);
        return n != _v6Count || !now[..n].SequenceEqual(_v6.AsSpan(0, _v6Count));
    }

    // RFC 6762 10.1: goodbye for an address gone; RFC 6762 8: a changed network is probed and announced again.
    private void OnAddressesChanged(TimeSpan now)
    {
        var oldV4 = _v4;
        var oldV6 = _v6.AsSpan(0, _v6Count).ToArray();
        ReadAddresses();
        if (_host.State is OwnerState.Announcing or OwnerState.Established)
        {
            SendGoodbye(r => r.Owner == _host && (
                (r.Type == DnsType.A && !oldV4.IsAny && oldV4 != _v4)
                || (r.Type == DnsType.Aaaa && !_v6.AsSpan(0, _v6Count).Contains(Ipv6Address.Read(r.Data)))
                || (r.Type == DnsType.Ptr && IsReverseOfGone(r.Name, oldV4, oldV6))));
        }
        Rebuild();
        if (_options.Publish) StartProbing(_host, now);
    }

    private bool IsReverseOfGone(string name, Ipv4Address oldV4, Ipv6Address[] oldV6)
    {
        if (!oldV4.IsAny && oldV4 != _v4 && name == ReverseName(oldV4)) return true;
        foreach (var a in oldV6)
            if (!_v6.AsSpan(0, _v6Count).Contains(a) && name == ReverseName(a)) return true;
        return false;
    }

    private bool HasAddress => !_v4.IsAny || _v6Count > 0;

    // ---------------------------------------------------------------- probing and announcing

    private void StartProbing(Owner owner, TimeSpan now)
    {
        owner.State = OwnerState.Waiting;
        owner.Sent = 0;
        // RFC 6762 8.1: a random wait of 0-250 ms before the first probe; 5 s after 15 conflicts in 10 s.
        var delay = TimeSpan.FromMilliseconds(_stack!.Random.NextUInt32() % 250);
        if (_conflictsInWindow >= 15) delay += TimeSpan.FromSeconds(5);
        owner.Next = now + delay;
    }

    private void RunOwner(Owner owner, TimeSpan now)
    {
        if (now < owner.Next) return;
        if (_endpoint is null) OpenEndpoint();
        if (!HasAddress || _endpoint is null)
        {
            owner.Next = now + TimeSpan.FromSeconds(1);   // nothing to claim yet: look again
            return;
        }
        switch (owner.State)
        {
            case OwnerState.Waiting or OwnerState.Probing:
                if (owner.Sent < _options.ProbeCount)
                {
                    owner.State = OwnerState.Probing;
                    SendProbe(owner, first: owner.Sent == 0);
                    owner.Probed = true;
                    owner.Sent++;
                    owner.Next = now + _options.ProbeInterval;
                }
                else
                {
                    owner.State = OwnerState.Announcing;
                    owner.Sent = 0;
                    owner.Next = now;
                    RunOwner(owner, now);
                }
                break;
            case OwnerState.Announcing:
                SendAnnouncement(owner, now);
                owner.Sent++;
                if (owner.Sent >= _options.AnnounceCount)
                {
                    owner.State = OwnerState.Established;
                    owner.Next = Never;
                }
                else owner.Next = now + _options.AnnounceInterval * (1 << Math.Min(owner.Sent - 1, 8));
                break;
            default:
                owner.Next = Never;
                break;
        }
    }

    // RFC 6762 8.1: a query for the name (type ANY, QU on the first) with the records we propose in the authority section.
    private void SendProbe(Owner owner, bool first)
    {
        var writer = new DnsWriter(_tx, compressNames: true);
        writer.WriteHeader(new DnsHeader(0));
        writer.WriteQuestion(owner.FullName, DnsType.Any, (DnsClass)((ushort)DnsClass.Internet | (first ? UnicastResponse : 0)));
        foreach (var r in owner.ProbeRecords)
            writer.WriteRecord(r.Name, r.Type, DnsClass.Internet, r.Ttl, r.Data, DnsSection.Authority);
        int length = writer.Finish();
        Statistics.ProbesSent++;
        SendBoth(_tx.AsSpan(0, length));
    }

    // RFC 6762 8.3: an unsolicited response with every record of the name (and its shared PTRs), cache-flush on the unique ones.
    private void SendAnnouncement(Owner owner, TimeSpan now)
    {
        foreach (var r in _records) r.Answer = r.Owner == owner;
        Statistics.AnnouncementsSent++;
        if (!_v4.IsAny) SendMarked(v6: false, now, goodbye: false);
        if (_v6Count > 0) SendMarked(v6: true, now, goodbye: false);
        foreach (var r in _records) r.Answer = false;
    }

    private void SendGoodbye(Func<Rec, bool> which)
    {
        if (_endpoint is null) return;
        bool any = false;
        foreach (var r in _records) any |= r.Answer = which(r);
        if (any)
        {
            Statistics.GoodbyesSent++;
            var now = _stack!.Interface.Now;
            if (!_v4.IsAny) SendMarked(v6: false, now, goodbye: true);
            if (_v6Count > 0) SendMarked(v6: true, now, goodbye: true);
        }
        foreach (var r in _records) r.Answer = false;
    }

    private void SendBoth(ReadOnlySpan<byte> message)
    {
        if (!_v4.IsAny) _endpoint!.SendTo(message, GroupV4, Port);
        if (_v6Count > 0) _endpoint!.SendTo(message, GroupV6, Port);
    }

    // RFC 6762 9: the name is someone else's. While probing (or on the tie-break's second round) take the next name.
    private void Conflict(Owner owner, TimeSpan now)
    {
        Statistics.Conflicts++;
        if (now - _conflictWindowStart > TimeSpan.FromSeconds(10))
        {
            _conflictWindowStart = now;
            _conflictsInWindow = 0;
        }
        // Once 15 came within 10 s, every probe waits 5 s until 10 s pass without a conflict.
        if (++_conflictsInWindow >= 15) _conflictWindowStart = now;
        if (owner.State is OwnerState.Announcing or OwnerState.Established)
        {
            // A conflict with a name already ours: probe it again; a host that really holds it will answer the probes.
            StartProbing(owner, now);
            return;
        }
        string old = owner.FullName;
        owner.SetLabel(owner.OriginalLabel, owner.Suffix + 1);
        owner.Probed = false;
        Rebuild();
        if (owner.IsHost)
            foreach (var s in _services)
                if (s.State is OwnerState.Announcing or OwnerState.Established) { s.State = OwnerState.Announcing; s.Sent = 0; s.Next = now; }
        StartProbing(owner, now);
        NameChanged?.Invoke(new MdnsNameChange(old, owner.FullName, owner.IsHost));
    }

    // ---------------------------------------------------------------- receiving

    private void Process(ReadOnlySpan<byte> datagram, IpAddress from, ushort fromPort, TimeSpan now)
    {
        // RFC 6762 11: only packets from this link. A query routed from elsewhere would make the host a reflector (a
        // legacy answer is many times the query), and a response from elsewhere could take our name away.
        if (!_stack!.IsOnLinkSource(from)) { Statistics.OffLink++; return; }
        if (DnsMessage.TryParse(datagram, out var message) != WireError.None) { Statistics.Malformed++; return; }
        if (message.Opcode != DnsOpcode.Query) { Statistics.Ignored++; return; }
        var check = message.GetReader();
        int entries = 0;
        while (check.TryReadRecord(out _)) entries++;
        if (check.Error != WireError.None) { Statistics.Malformed++; return; }
        if (message.IsResponse)
        {
            // RFC 6762 6: a response from a port other than 5353 is not a multicast DNS response.
            if (fromPort != Port) { Statistics.Ignored++; return; }
            Statistics.ResponsesReceived++;
            OnResponse(message, now);
        }
        else
        {
            Statistics.QueriesReceived++;
            OnQuery(message, from, fromPort, now);
        }
    }

    private void OnQuery(DnsMessage message, IpAddress from, ushort fromPort, TimeSpan now)
    {
        bool legacy = fromPort != Port;
        bool v6 = from.IsIpv6;
        int limit = _options.MaximumEntriesPerMessage;
        foreach (var r in _records) r.Answer = r.Extra = r.Suppressed = false;

        // Known answers (RFC 7.1) and a simultaneous probe's proposed records (8.2) come after the questions.
        var reader = message.GetReader();
        bool probe = false;
        int seen = 0;
        while (seen++ < limit && reader.TryReadRecord(out var record))
        {
            if (reader.Section == DnsSection.Answer)
            {
                foreach (var r in _records)
                    if (r.Type == record.Type && record.TimeToLive >= r.Ttl / 2 && record.Name.Matches(r.Name) && SameData(message.Bytes, record, r)) r.Suppressed = true;
            }
            else if (reader.Section == DnsSection.Authority)
            {
                probe = true;
                break;
            }
        }
        if (probe && !legacy) TieBreak(message, now);

        bool unicast = false;
        reader = message.GetReader();
        seen = 0;
        while (seen++ < limit && reader.TryReadQuestion(out var question))
        {
            var qclass = (ushort)question.Class & 0x7FFF;
            if (qclass != (ushort)DnsClass.Internet && qclass != (ushort)DnsClass.Any) continue;
            bool qu = ((ushort)question.Class & UnicastResponse) != 0;
            foreach (var r in _records)
            {
                if (!r.Live || (question.Type != DnsType.Any && question.Type != r.Type) || !question.Name.Matches(r.Name)) continue;
                if (r.Suppressed)
                {
                    Statistics.KnownAnswersSuppressed++;
                    continue;
                }
                if (legacy) { r.Answer = true; unicast = true; continue; }
                // RFC 6762 5.4: QU asks for a unicast answer, unless the record has not been multicast within a quarter of its TTL.
                var last = v6 ? r.LastMulticast6 : r.LastMulticast4;
                if (qu && last != LongAgo && now - last < TimeSpan.FromSeconds(r.Ttl / 4.0))
                {
                    r.Answer = true;
                    unicast = true;
                    continue;
                }
                ScheduleMulticast(r, v6, now, probe);
            }
        }
        if (reader.Error != WireError.None) Statistics.Malformed++;
        if (unicast)
        {
            if (legacy) SendLegacy(message, from, fromPort);
            else SendUnicast(from);
        }
        foreach (var r in _records) r.Answer = false;
        FlushDue(now);
    }

    private void ScheduleMulticast(Rec r, bool v6, TimeSpan now, bool probe)
    {
        var last = v6 ? r.LastMulticast6 : r.LastMulticast4;
        // RFC 6762 6: at most once a second, or every 250 ms when defending a name against a probe.
        var gap = probe ? _options.ProbeInterval : _options.MulticastRateLimit;
        if (last != LongAgo && now - last < gap)
        {
            Statistics.RateLimited++;
            return;
        }
        // Unique records are answered at once; shared ones after 20-120 ms, so that answers from several hosts spread (6).
        var due = r.Unique || probe ? now : now + TimeSpan.FromMilliseconds(20 + _stack!.Random.NextUInt32() % 101);
        if (v6) { if (due < r.Due6) r.Due6 = due; }
        else if (due < r.Due4) r.Due4 = due;
    }

    // RFC 6762 8.2: two hosts probing for one name at once; the lexicographically later set of records wins. The loser
    // waits a second and probes again (by then the winner answers, and the loser renames).
    private void TieBreak(DnsMessage message, TimeSpan now)
    {
        TieBreak(_host, message, now);
        foreach (var s in _services) TieBreak(s, message, now);
    }

    private void TieBreak(Owner owner, DnsMessage message, TimeSpan now)
    {
        if (owner.State is not (OwnerState.Waiting or OwnerState.Probing)) return;
        var reader = message.GetReader();
        int cmp = 0, index = 0, seen = 0;
        bool found = false;
        while (seen++ < _options.MaximumEntriesPerMessage && reader.TryReadRecord(out var record))
        {
            if (reader.Section != DnsSection.Authority || !record.Name.Matches(owner.FullName)) continue;
            found = true;
            if (index >= owner.ProbeRecords.Length) { cmp = -1; break; }   // theirs go on after ours end: ours are earlier
            var ours = owner.ProbeRecords[index++];
            cmp = ((ushort)ours.Type).CompareTo((ushort)record.Type);
            if (cmp == 0) cmp = ours.Data.AsSpan().SequenceCompareTo(record.Data);
            if (cmp != 0) break;
        }
        if (!found) return;
        if (cmp == 0 && index < owner.ProbeRecords.Length) cmp = 1;
        if (cmp >= 0) return;
        Statistics.TieBreaksLost++;
        owner.State = OwnerState.Waiting;
        owner.Sent = 0;
        owner.Next = now + TimeSpan.FromSeconds(1);
    }

    private void OnResponse(DnsMessage message, TimeSpan now)
    {
        var reader = message.GetReader();
        int seen = 0;
        Owner? conflict = null;
        while (seen++ < _options.MaximumEntriesPerMessage && reader.TryReadRecord(out var record))
        {
            if (reader.Section == DnsSection.Authority || record.Type == DnsType.Opt) continue;
            if (conflict is null && record.TimeToLive > 0) conflict = FindConflict(message.Bytes, record);
            // RFC 6762 7.4: another responder multicast a record we were about to send: ours is not needed.
            foreach (var r in _records)
            {
                if ((r.Due4 == Never && r.Due6 == Never) || r.Type != record.Type || record.TimeToLive < r.Ttl / 2
                    || !record.Name.Matches(r.Name) || !SameData(message.Bytes, record, r)) continue;
                r.Due4 = r.Due6 = Never;
                Statistics.DuplicatesSuppressed++;
            }
        }
        if (conflict is not null) Conflict(conflict, now);
        if (_browses.Count > 0) FeedBrowses(message, now);
    }

    // A record for one of our unique names that none of our records matches: the name is claimed elsewhere.
    private Owner? FindConflict(ReadOnlySpan<byte> bytes, DnsRecordView record)
    {
        if (Owns(_host, bytes, record)) return _host;
        foreach (var s in _services)
            if (Owns(s, bytes, record)) return s;
        return null;
    }

    private bool Owns(Owner owner, ReadOnlySpan<byte> bytes, DnsRecordView record)
    {
        bool relevant = owner.IsHost ? record.Type is DnsType.A or DnsType.Aaaa : record.Type is DnsType.Srv or DnsType.Txt;
        // While probing, any record with the name is a conflict (8.1); afterwards only a unique type with other data (9).
        if (!relevant && owner.State is OwnerState.Announcing or OwnerState.Established) return false;
        // Before its first probe a name is not claimed yet: nobody can have answered for it (and a flood cannot rename faster than we probe).
        if (owner.State is OwnerState.Waiting or OwnerState.Probing && !owner.Probed) return false;
        if (!record.Name.Matches(owner.FullName)) return false;
        foreach (var r in _records)
            if (r.Owner == owner && r.Type == record.Type && r.Name == owner.FullName && SameData(bytes, record, r)) return false;
        // A host with the same name and one of our addresses but not another (our own cache echoed back) is not judged here.
        return relevant || owner.State is OwnerState.Waiting or OwnerState.Probing;
    }

    private static bool SameData(ReadOnlySpan<byte> message, DnsRecordView record, Rec r)
    {
        switch (record.Type)
        {
            case DnsType.Ptr:
                return r.Target is not null && record.DomainName.Matches(r.Target);
            case DnsType.Srv:
            {
                var data = record.Data;
                if (data.Length < 7 || r.Target is null || !data[..6].SequenceEqual(r.Data.AsSpan(0, 6))) return false;
                return DnsName.Matches(message, record.DataOffset + 6, r.Target, ignoreCase: true);
            }
            default:
                return record.Data.SequenceEqual(r.Data);
        }
    }

    // ---------------------------------------------------------------- sending answers

    private void FlushDue(TimeSpan now)
    {
        // An answer due for a record that is no longer live (its name went back to probing after a conflict) is dropped,
        // not kept: NextDeadline counts every due time, and a past one would have the driver poll without pause.
        foreach (var r in _records)
            if (!r.Live)
            {
                if (r.Due4 <= now) r.Due4 = Never;
                if (r.Due6 <= now) r.Due6 = Never;
            }
        if (_endpoint is null) return;
        for (int family = 0; family < 2; family++)
        {
            bool v6 = family == 1, any = false;
            foreach (var r in _records)
            {
                var due = v6 ? r.Due6 : r.Due4;
                r.Answer = due <= now && r.Live;
                any |= r.Answer;
            }
            if (!any) continue;
            SendMarked(v6, now, goodbye: false);
            foreach (var r in _records)
            {
                if (!r.Answer) continue;
                r.Answer = false;
                if (v6) r.Due6 = Never; else r.Due4 = Never;
            }
        }
    }

    // Multicasts the records marked Answer (with their additional records), in as many packets as they need (a few).
    private void SendMarked(bool v6, TimeSpan now, bool goodbye)
    {
        if ((v6 ? _v6Count == 0 : _v4.IsAny) || _endpoint is null) return;
        int index = 0, packets = 0;
        while (index < _records.Count && packets++ < 4)
        {
            var writer = new DnsWriter(_tx, compressNames: true);
            writer.WriteHeader(new DnsHeader(0, IsResponse: true, IsAuthoritativeAnswer: true));
            int written = 0;
            foreach (var r in _records) r.Extra = false;
            for (; index < _records.Count; index++)
            {
                var r = _records[index];
                if (!r.Answer) continue;
                if (Write(ref writer, r, DnsSection.Answer, goodbye ? 0 : r.Ttl, flush: r.Unique) != WireError.None)
                {
                    if (written == 0) index++;   // one record larger than a packet: skipped
                    break;
                }
                written++;
                if (v6) r.LastMulticast6 = now; else r.LastMulticast4 = now;
            }
            if (!goodbye) WriteAdditional(ref writer, flush: true, ttlCap: uint.MaxValue);
            if (written == 0) continue;
            int length = writer.Finish();
            Statistics.MulticastResponsesSent++;
            _endpoint.SendTo(_tx.AsSpan(0, length), v6 ? GroupV6 : GroupV4, Port);
        }
    }

    private void WriteAdditional(ref DnsWriter writer, bool flush, uint ttlCap)
    {
        foreach (var r in _records)
        {
            if (!r.Answer) continue;
            foreach (var x in r.Additional)
            {
                if (x.Answer || x.Extra || !x.Live) continue;
                x.Extra = true;
                Write(ref writer, x, DnsSection.Additional, Math.Min(x.Ttl, ttlCap), flush: flush && x.Unique);
            }
        }
    }

    private static WireError Write(ref DnsWriter writer, Rec r, DnsSection section, uint ttl, bool flush)
        => writer.WriteRecord(r.Name, r.Type, (DnsClass)((ushort)DnsClass.Internet | (flush ? CacheFlush : 0)), ttl, r.Data, section);

    // RFC 6762 5.4: to the querier's port 5353, ID 0, no question.
    private void SendUnicast(IpAddress to)
    {
        var writer = new DnsWriter(_tx, compressNames: true);
        writer.WriteHeader(new DnsHeader(0, IsResponse: true, IsAuthoritativeAnswer: true));
        foreach (var r in _records) r.Extra = false;
        foreach (var r in _records)
            if (r.Answer) Write(ref writer, r, DnsSection.Answer, r.Ttl, flush: r.Unique);
        WriteAdditional(ref writer, flush: true, ttlCap: uint.MaxValue);
        int length = writer.Finish();
        Statistics.UnicastResponsesSent++;
        _endpoint!.SendTo(_tx.AsSpan(0, length), to, Port);
    }

    // RFC 6762 6.7: to the querier's address and port, its ID echoed, its questions repeated, TTLs of at most 10 s and no
    // cache-flush bits (10.2).
    private void SendLegacy(DnsMessage query, IpAddress to, ushort port)
    {
        var writer = new DnsWriter(_tx, compressNames: true);
        writer.WriteHeader(new DnsHeader(query.Id, IsResponse: true, IsAuthoritativeAnswer: true));
        var reader = query.GetReader();
        int seen = 0;
        while (seen++ < _options.MaximumEntriesPerMessage && reader.TryReadQuestion(out var question))
        {
            if (question.Name.TryDecode(_nameBuffer, out int n) != WireError.None) return;
            if (writer.WriteQuestion(_nameBuffer.AsSpan(0, n), question.Type, (DnsClass)((ushort)question.Class & 0x7FFF)) != WireError.None) return;
        }
        foreach (var r in _records) r.Extra = false;
        uint cap = _options.LegacyUnicastTtl;
        foreach (var r in _records)
            if (r.Answer) Write(ref writer, r, DnsSection.Answer, Math.Min(r.Ttl, cap), flush: false);
        WriteAdditional(ref writer, flush: false, ttlCap: cap);
        int length = writer.Finish();
        Statistics.LegacyResponsesSent++;
        _endpoint!.SendTo(_tx.AsSpan(0, length), to, port);
    }
}
