using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv6;

// Addressing (RFC 4862): the link-local address, SLAAC from router advertisements, static addresses, duplicate address
// detection; router discovery (RFC 4861 6.3): solicitations, the default router list, on-link prefixes, the MTU and
// RDNSS/DNSSL options (RFC 8106). Every table is bounded (Ipv6Options).
internal sealed partial class Ipv6Layer
{
    private static readonly Ipv6Address AllNodes = new(new UInt128(0xFF02_0000_0000_0000, 1));
    private static readonly Ipv6Address AllRouters = new(new UInt128(0xFF02_0000_0000_0000, 2));
    private static readonly TimeSpan TwoHours = TimeSpan.FromHours(2);
    private static readonly TimeSpan Infinite = TimeSpan.MaxValue;

    private readonly AddressEntry[] _addresses;
    private readonly PrefixEntry[] _prefixes;
    private readonly RouterEntry[] _routers;
    private readonly List<Ipv6Address> _dnsServers = new(4);
    private readonly List<TimeSpan> _dnsServerExpiry = new(4);
    private int _solicitationsSent;
    private TimeSpan _nextSolicitation = Infinite;
    private bool _started;

    private struct AddressEntry
    {
        public bool InUse;
        public Ipv6Address Address;
        public int PrefixLength;
        public Ipv6AddressState State;
        public Ipv6AddressOrigin Origin;
        public TimeSpan PreferredUntil, ValidUntil;   // Infinite for no end
        public int ProbesSent;
        public TimeSpan NextProbe;                    // tentative: when the next DAD probe (or the verdict) is due
    }

    private struct PrefixEntry
    {
        public bool InUse;
        public Ipv6Address Prefix;
        public int Length;
        public TimeSpan ValidUntil;
    }

    private struct RouterEntry
    {
        public bool InUse;
        public Ipv6Address Address;
        public TimeSpan Expires;
    }

    /// <summary>The modified EUI-64 interface identifier of the MAC (RFC 4291 appendix A), as the Pico's lwIP forms it.</summary>
    public ulong InterfaceIdentifier { get; }

    /// <summary>Raised when an address becomes preferred (after DAD).</summary>
    public event Action<Ipv6AddressInfo>? AddressPreferred;
    /// <summary>Raised when DAD finds our tentative address in use (the MAC that claimed it, when known), or another node claims a preferred one.</summary>
    public event Action<Ipv6Address, MacAddress?>? AddressConflict;
    /// <summary>Raised when router advertisements change the DNS servers (RDNSS).</summary>
    public event Action<IReadOnlyList<Ipv6Address>>? DnsServersChanged;

    /// <summary>DNS servers from router advertisements (RFC 8106), newest lifetime kept.</summary>
    public IReadOnlyList<Ipv6Address> DnsServers => _dnsServers;

    /// <summary>The DNS search list from the last DNSSL option (RFC 8106).</summary>
    public IReadOnlyList<string> SearchList { get; private set; } = [];

    internal static ulong ModifiedEui64(MacAddress mac)
    {
        Span<byte> m = stackalloc byte[6];
        mac.WriteTo(m);
        return (ulong)(m[0] ^ 0x02) << 56 | (ulong)m[1] << 48 | (ulong)m[2] << 40 | 0xFFul << 32 | 0xFEul << 24 | (ulong)m[3] << 16 | (ulong)m[4] << 8 | m[5];
    }

    // RFC 7217 5: F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key) as a keyed SipHash; never a reserved identifier.
    private ulong InterfaceIdentifierFor(Ipv6Address prefix, int dadCounter)
    {
        if (_options.StablePrivacySecret is not { Length: > 0 } secret) return InterfaceIdentifier;
        Span<byte> key = stackalloc byte[16];
        key.Clear();
        secret.AsSpan(0, Math.Min(16, secret.Length)).CopyTo(key);
        Span<byte> input = stackalloc byte[8 + 6 + 4];
        BinaryPrimitives.WriteUInt64BigEndian(input, (ulong)(prefix.Value >> 64));
        Mac.WriteTo(input[8..]);
        BinaryPrimitives.WriteInt32BigEndian(input[14..], dadCounter);
        ulong id = SipHash.Hash(key, input);
        return id == 0 ? 1 : id;
    }

    /// <summary>Starts IPv6 on the interface: the link-local address and static ones go through DAD; router solicitations follow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Start(TimeSpan now)
    {
        if (!_started) StartOnce(now);   // inlined into every poll: one test
    }

    private void StartOnce(TimeSpan now)
    {
        _started = true;
        JoinGroup(AllNodes, now);
        var linkLocal = new Ipv6Address(new UInt128(0xFE80_0000_0000_0000, InterfaceIdentifierFor(new Ipv6Address(new UInt128(0xFE80_0000_0000_0000, 0)), 0)));
        AddAddress(linkLocal, 64, Ipv6AddressOrigin.LinkLocal, Infinite, Infinite, now);
        foreach (var (address, length) in _options.StaticAddresses)
        {
            AddAddress(address, length, Ipv6AddressOrigin.Static, Infinite, Infinite, now);
            AddPrefix(Mask(address, length), length, Infinite);
        }
        if (_options.StaticGateway is Ipv6Address gateway) UpdateRouter(gateway, Infinite, now);
    }

    // ---------------------------------------------------------------- the address table

    private int FindAddress(Ipv6Address address)
    {
        // The slot found last first: a stream's packets all name the same one of our addresses.
        int hint = _addressHint;
        if (_addresses[hint].InUse && _addresses[hint].Address == address) return hint;
        for (int i = 0; i < _addresses.Length; i++)
            if (_addresses[i].InUse && _addresses[i].Address == address) return _addressHint = i;
        return -1;
    }

    private int _addressHint;

    /// <summary>Copies the addresses past duplicate address detection (preferred or deprecated) without allocating; returns how many fit.</summary>
    internal int CopyUsableAddresses(Span<Ipv6Address> destination)
    {
        int n = 0;
        foreach (ref readonly var a in _addresses.AsSpan())
            if (a.InUse && a.State is Ipv6AddressState.Preferred or Ipv6AddressState.Deprecated && n < destination.Length) destination[n++] = a.Address;
        return n;
    }

    /// <summary>Every address with its state and remaining lifetimes.</summary>
    public IReadOnlyList<Ipv6AddressInfo> Addresses(TimeSpan now)
    {
        var list = new List<Ipv6AddressInfo>();
        foreach (var a in _addresses)
            if (a.InUse) list.Add(Info(a, now));
        return list;
    }

    private static Ipv6AddressInfo Info(in AddressEntry a, TimeSpan now)
        => new(a.Address, a.PrefixLength, a.State, a.Origin,
            a.PreferredUntil == Infinite ? null : a.PreferredUntil > now ? a.PreferredUntil - now : TimeSpan.Zero,
            a.ValidUntil == Infinite ? null : a.ValidUntil > now ? a.ValidUntil - now : TimeSpan.Zero);

    private int AddAddress(Ipv6Address address, int prefixLength, Ipv6AddressOrigin origin, TimeSpan preferredUntil, TimeSpan validUntil, TimeSpan now)
    {
        int existing = FindAddress(address);
        if (existing >= 0) return existing;
        int slot = Array.FindIndex(_addresses, a => !a.InUse);
        if (slot < 0) { Drop(_stats.Nd, DropReason.NdTableFull); return -1; }
        _addresses[slot] = new AddressEntry
        {
            InUse = true, Address = address, PrefixLength = prefixLength, Origin = origin, State = Ipv6AddressState.Tentative,
            PreferredUntil = preferredUntil, ValidUntil = validUntil,
            // RFC 4862 5.4.2: the first probe after a random delay (RFC 4861's MAX_RTR_SOLICITATION_DELAY).
            NextProbe = now + RandomDelay(_options.MaxRouterSolicitationDelay),
        };
        AddressesChanged();
        // RFC 4862 5.4.2: join the solicited-node group before probing, so that another node's probe reaches us.
        JoinGroup(SolicitedNode(address), now);
        if (_options.DupAddrDetectTransmits <= 0) MakePreferred(slot, now);
        else Schedule(_addresses[slot].NextProbe);
        return slot;
    }

    private void RemoveAddress(int slot, TimeSpan now)
    {
        var address = _addresses[slot].Address;
        _addresses[slot] = default;
        AddressesChanged();
        LeaveGroup(SolicitedNode(address), now);
    }

    /// <summary>RFC 4291 2.7.1: ff02::1:ff00:0/104 and the low 24 bits of the address.</summary>
    internal static Ipv6Address SolicitedNode(Ipv6Address address)
        => new(new UInt128(0xFF02_0000_0000_0000, 0x0000_0001_FF00_0000 | ((ulong)address.Value & 0xFF_FFFF)));

    private static bool IsLinkLocal(Ipv6Address a) => (ulong)(a.Value >> 118) == 0x3FA;   // fe80::/10

    private static Ipv6Address Mask(Ipv6Address address, int length)
        => length <= 0 ? default : new(address.Value & (UInt128.MaxValue << (128 - Math.Min(length, 128))));

    private void PollAddresses(TimeSpan now)
    {
        for (int i = 0; i < _addresses.Length; i++)
        {
            ref var a = ref _addresses[i];
            if (!a.InUse) continue;
            if (now >= a.ValidUntil) { RemoveAddress(i, now); continue; }
            if (a.State == Ipv6AddressState.Tentative)
            {
                if (now >= a.NextProbe)
                {
                    if (a.ProbesSent < _options.DupAddrDetectTransmits)
                    {
                        // RFC 4862 5.4.2: NS from ::, to the solicited-node group, target the tentative address, no SLLA.
                        SendNeighbourSolicitation(default, SolicitedNode(a.Address), a.Address, withSourceLinkLayer: false);
                        a.ProbesSent++;
                        a.NextProbe = now + RetransmitTimer;
                    }
                    else MakePreferred(i, now);
                }
                if (a.State == Ipv6AddressState.Tentative) Schedule(a.NextProbe);
            }
            else if (a.State == Ipv6AddressState.Preferred && now >= a.PreferredUntil) { a.State = Ipv6AddressState.Deprecated; AddressesChanged(); }
            if (a.InUse && a.State is Ipv6AddressState.Preferred && a.PreferredUntil != Infinite) Schedule(a.PreferredUntil);
            if (a.InUse && a.ValidUntil != Infinite) Schedule(a.ValidUntil);
        }
        for (int i = 0; i < _routers.Length; i++)
        {
            if (!_routers[i].InUse) continue;
            if (now >= _routers[i].Expires) _routers[i] = default;
            else if (_routers[i].Expires != Infinite) Schedule(_routers[i].Expires);
        }
        for (int i = 0; i < _prefixes.Length; i++)
        {
            if (!_prefixes[i].InUse) continue;
            if (now >= _prefixes[i].ValidUntil) { _prefixes[i] = default; AddressesChanged(); }
            else if (_prefixes[i].ValidUntil != Infinite) Schedule(_prefixes[i].ValidUntil);
        }
        for (int i = _dnsServers.Count - 1; i >= 0; i--)
        {
            if (now < _dnsServerExpiry[i]) { if (_dnsServerExpiry[i] != Infinite) Schedule(_dnsServerExpiry[i]); continue; }
            _dnsServers.RemoveAt(i);
            _dnsServerExpiry.RemoveAt(i);
            DnsServersChanged?.Invoke(_dnsServers);
        }
        // RFC 4861 6.3.7: up to MAX_RTR_SOLICITATIONS, RTR_SOLICITATION_INTERVAL apart, until an advertisement arrives.
        if (now >= _nextSolicitation)
        {
            var source = PreferredLinkLocal();
            SendRouterSolicitation(source);
            _solicitationsSent++;
            _nextSolicitation = _solicitationsSent < _options.RouterSolicitations ? now + _options.RouterSolicitationInterval : Infinite;
        }
        if (_nextSolicitation != Infinite) Schedule(_nextSolicitation);
    }

    private void MakePreferred(int slot, TimeSpan now)
    {
        ref var a = ref _addresses[slot];
        a.State = now >= a.PreferredUntil ? Ipv6AddressState.Deprecated : Ipv6AddressState.Preferred;
        AddressesChanged();
        StackLog.Ipv6AddressPreferred(_log, a.Address.ToString(), a.PrefixLength, a.Origin);
        // RFC 4861 7.2.6: an unsolicited advertisement of the new address to all nodes, so caches learn it at once.
        SendNeighbourAdvertisement(a.Address, AllNodes, a.Address, solicited: false);
        AddressPreferred?.Invoke(Info(a, now));
        if (a.Origin == Ipv6AddressOrigin.LinkLocal && _options.RouterSolicitations > 0 && _solicitationsSent == 0 && _nextSolicitation == Infinite)
        {
            _nextSolicitation = now + RandomDelay(_options.MaxRouterSolicitationDelay);   // RFC 4861 6.3.7
            Schedule(_nextSolicitation);
        }
    }

    // RFC 4862 5.4.5: a duplicate address is never used. Reported, and left in the table as Duplicate.
    private void DuplicateDetected(int slot, MacAddress? claimant)
    {
        ref var a = ref _addresses[slot];
        a.State = Ipv6AddressState.Duplicate;
        AddressesChanged();
        _stats.DadConflictCount++;
        StackLog.Ipv6DuplicateAddress(_log, a.Address.ToString(), claimant?.ToString() ?? "unknown");
        AddressConflict?.Invoke(a.Address, claimant);
    }

    private Ipv6Address PreferredLinkLocal()
    {
        foreach (var a in _addresses)
            if (a.InUse && a.Origin == Ipv6AddressOrigin.LinkLocal && a.State is Ipv6AddressState.Preferred or Ipv6AddressState.Deprecated) return a.Address;
        return default;
    }

    /// <summary>
    /// RFC 6724's source choice, reduced to a host with one interface: a link-local address toward link-local and
    /// link-scope multicast destinations; otherwise a preferred address sharing the longest prefix with the
    /// destination (deprecated only when there is nothing else); :: when none is usable.
    /// </summary>
    public Ipv6Address SelectSource(Ipv6Address destination)
    {
        if (_sourceCached && _sourceCacheFor == destination) return _sourceCache;
        var source = ChooseSource(destination);
        (_sourceCacheFor, _sourceCache, _sourceCached) = (destination, source, true);
        return source;
    }

    // A one-entry cache of the last destination's route facts, as Linux's destination cache keeps them per destination:
    // a stream asks the same questions packet after packet, and the answers depend only on the addresses (and their
    // states) and the on-link prefixes, each change of which clears it through AddressesChanged.
    private Ipv6Address _sourceCacheFor, _sourceCache, _onLinkCacheFor;
    private bool _sourceCached, _onLinkCached;

    private void AddressesChanged() => _sourceCached = _onLinkCached = false;

    // Is this one of our addresses (then it is not routed), or on-link (routed to itself), or neither (to a router)?
    private OnLinkAnswer OnLinkRoute(Ipv6Address destination)
    {
        if (_onLinkCached && _onLinkCacheFor == destination) return OnLinkAnswer.OnLink;
        if (FindAddress(destination) >= 0) return OnLinkAnswer.Ours;
        if (!IsOnLink(destination)) return OnLinkAnswer.ViaRouter;
        (_onLinkCacheFor, _onLinkCached) = (destination, true);
        return OnLinkAnswer.OnLink;
    }

    private enum OnLinkAnswer : byte { OnLink, Ours, ViaRouter }

    private Ipv6Address ChooseSource(Ipv6Address destination)
    {
        bool linkScope = IsLinkLocal(destination) || (destination.IsMulticast && ((byte)(destination.Value >> 112) & 0xF) <= 2);
        if (linkScope) return PreferredLinkLocal();
        Ipv6Address best = default;
        int bestScore = -1;
        foreach (var a in _addresses)
        {
            if (!a.InUse || a.State is Ipv6AddressState.Tentative or Ipv6AddressState.Duplicate || IsLinkLocal(a.Address)) continue;
            int common = (int)UInt128.LeadingZeroCount(a.Address.Value ^ destination.Value);
            int score = (a.State == Ipv6AddressState.Preferred ? 256 : 0) + common;
            if (score > bestScore) { best = a.Address; bestScore = score; }
        }
        return bestScore >= 0 ? best : PreferredLinkLocal();
    }

    // ---------------------------------------------------------------- on-link prefixes and routers

    /// <summary>A source on this link: link-local, or in an on-link prefix (RFC 6762 11's check for multicast DNS).</summary>
    internal bool IsOnLinkSource(Ipv6Address source) => !source.IsMulticast && IsOnLink(source);

    private bool IsOnLink(Ipv6Address destination)
    {
        if (IsLinkLocal(destination)) return true;
        foreach (var p in _prefixes)
            if (p.InUse && Mask(destination, p.Length) == p.Prefix) return true;
        return false;
    }

    private void AddPrefix(Ipv6Address prefix, int length, TimeSpan validUntil)
    {
        int free = -1;
        for (int i = 0; i < _prefixes.Length; i++)
        {
            ref var p = ref _prefixes[i];
            if (p.InUse && p.Prefix == prefix && p.Length == length) { p.ValidUntil = validUntil; return; }
            if (!p.InUse && free < 0) free = i;
        }
        if (free < 0) { Drop(_stats.Nd, DropReason.NdTableFull); return; }
        _prefixes[free] = new PrefixEntry { InUse = true, Prefix = prefix, Length = length, ValidUntil = validUntil };
        AddressesChanged();
        if (validUntil != Infinite) Schedule(validUntil);
    }

    private void RemovePrefix(Ipv6Address prefix, int length)
    {
        for (int i = 0; i < _prefixes.Length; i++)
            if (_prefixes[i].InUse && _prefixes[i].Prefix == prefix && _prefixes[i].Length == length) { _prefixes[i] = default; AddressesChanged(); }
    }

    private void UpdateRouter(Ipv6Address router, TimeSpan expires, TimeSpan now)
    {
        int free = -1;
        for (int i = 0; i < _routers.Length; i++)
        {
            ref var r = ref _routers[i];
            if (r.InUse && r.Address == router)
            {
                if (expires <= now) r = default; else r.Expires = expires;
                return;
            }
            if (!r.InUse && free < 0) free = i;
        }
        if (expires <= now) return;
        if (free < 0) { Drop(_stats.Nd, DropReason.NdTableFull); return; }
        _routers[free] = new RouterEntry { InUse = true, Address = router, Expires = expires };
        if (expires != Infinite) Schedule(expires);
    }

    // RFC 4861 6.3.6: a router known reachable (or probably so) first; otherwise any, so that its reachability is probed.
    private Ipv6Address DefaultRouter(TimeSpan now)
    {
        Ipv6Address any = default;
        foreach (var r in _routers)
        {
            if (!r.InUse || now >= r.Expires) continue;
            int slot = _nd.Find(r.Address);
            if (slot >= 0 && _nd[slot].State is not NeighbourCache.State.Incomplete) return r.Address;
            if (any.IsUnspecified) any = r.Address;
        }
        return any;
    }

    /// <summary>Addresses, on-link prefixes and default routers held (the invariants check them against their bounds without allocating).</summary>
    internal int AddressCount { get { int n = 0; foreach (var a in _addresses) if (a.InUse) n++; return n; } }
    internal int PrefixCount { get { int n = 0; foreach (var p in _prefixes) if (p.InUse) n++; return n; } }
    internal int RouterCount { get { int n = 0; foreach (var r in _routers) if (r.InUse) n++; return n; } }

    /// <summary>The default routers (for status output).</summary>
    public IReadOnlyList<Ipv6Address> Routers
    {
        get
        {
            var list = new List<Ipv6Address>();
            foreach (var r in _routers) if (r.InUse) list.Add(r.Address);
            return list;
        }
    }

    // ---------------------------------------------------------------- router advertisements (RFC 4861 6.3.4)

    private void ProcessRouterAdvertisement(Ipv6Packet ip, ReadOnlySpan<byte> message, MacAddress sourceMac, TimeSpan now)
    {
        // RFC 4861 6.1.2: from a link-local source, hop limit 255, code 0, options well formed.
        if (!IsLinkLocal(ip.Source) || ip.HopLimit != 255 || RouterAdvertisement.TryParse(message, out var ra) != WireError.None)
        {
            Drop(_stats.Icmpv6, DropReason.NdInvalid, true);
            return;
        }
        _stats.RouterAdvertisementsReceivedCount++;
        _nextSolicitation = Infinite;   // RFC 4861 6.3.7: an advertisement ends the solicitations
        if (ra.CurrentHopLimit != 0) HopLimit = ra.CurrentHopLimit;
        if (ra.ReachableTime != 0 && ra.ReachableTime <= 3_600_000) ReachableTime = TimeSpan.FromMilliseconds(ra.ReachableTime);
        if (ra.RetransTimer != 0 && ra.RetransTimer <= 60_000) RetransmitTimer = TimeSpan.FromMilliseconds(ra.RetransTimer);
        UpdateRouter(ip.Source, now + TimeSpan.FromSeconds(ra.RouterLifetime), now);

        bool dnsChanged = false;
        var reader = ra.GetOptions();
        while (reader.Read())
        {
            var option = reader.Current;
            switch (option.Type)
            {
                case NdOptionType.SourceLinkLayerAddress when option.TryGetLinkLayerAddress(out var mac) == WireError.None:
                    LearnNeighbour(ip.Source, mac, now, isRouter: true);
                    break;
                case NdOptionType.Mtu when option.TryGetMtu(out uint mtu) == WireError.None:
                    // RFC 4861 6.3.4: an MTU within the link's limits is taken.
                    if (mtu >= Ipv6Header.MinimumMtu && mtu <= _ethernet.MaximumMtu) LinkMtu = (int)mtu;
                    break;
                case NdOptionType.PrefixInformation when option.TryGetPrefixInformation(out var prefix) == WireError.None:
                    ProcessPrefix(prefix, now);
                    break;
                case NdOptionType.RecursiveDnsServer when option.TryGetRecursiveDnsServers(out uint lifetime, out var servers) == WireError.None:
                    for (int i = 0; i < servers.Count; i++) dnsChanged |= UpdateDnsServer(servers[i], lifetime, now);
                    break;
                case NdOptionType.DnsSearchList when option.TryGetDnsSearchList(out uint lifetime, out var names) == WireError.None:
                    var list = new List<string>();
                    if (lifetime != 0) while (names.Read(out var name) && list.Count < 8) list.Add(name.ToString());
                    SearchList = list;
                    break;
            }
        }
        if (dnsChanged) DnsServersChanged?.Invoke(_dnsServers);
    }

    private bool UpdateDnsServer(Ipv6Address server, uint lifetime, TimeSpan now)
    {
        int i = _dnsServers.IndexOf(server);
        var expires = lifetime == uint.MaxValue ? Infinite : now + TimeSpan.FromSeconds(lifetime);
        if (i >= 0)
        {
            if (lifetime == 0) { _dnsServers.RemoveAt(i); _dnsServerExpiry.RemoveAt(i); return true; }
            _dnsServerExpiry[i] = expires;
            return false;
        }
        if (lifetime == 0) return false;
        if (_dnsServers.Count >= _options.MaxDnsServers) { Drop(_stats.Nd, DropReason.NdTableFull); return false; }
        _dnsServers.Add(server);
        _dnsServerExpiry.Add(expires);
        if (expires != Infinite) Schedule(expires);
        return true;
    }

    // RFC 4862 5.5.3 (and RFC 4861 6.3.4 for the on-link flag).
    private void ProcessPrefix(NdPrefixInformation info, TimeSpan now)
    {
        var prefix = Mask(info.Prefix, info.PrefixLength);
        if (IsLinkLocal(prefix) || info.PrefixLength > 128) return;                       // 5.5.3 b
        if (info.PreferredLifetime > info.ValidLifetime) return;                           // 5.5.3 c
        var validUntil = info.ValidLifetime == uint.MaxValue ? Infinite : now + TimeSpan.FromSeconds(info.ValidLifetime);
        var preferredUntil = info.PreferredLifetime == uint.MaxValue ? Infinite : now + TimeSpan.FromSeconds(info.PreferredLifetime);
        if (info.OnLink)
        {
            if (info.ValidLifetime == 0) RemovePrefix(prefix, info.PrefixLength);
            else AddPrefix(prefix, info.PrefixLength, validUntil);
        }
        if (!info.Autonomous || !_options.Autoconfigure) return;
        if (info.PrefixLength != 64) return;   // 5.5.3 d: prefix and 64-bit interface identifier must make 128 bits
        var address = new Ipv6Address(prefix.Value | InterfaceIdentifierFor(prefix, 0));
        int slot = FindAddress(address);
        if (slot < 0)
        {
            if (info.ValidLifetime == 0) return;
            AddAddress(address, info.PrefixLength, Ipv6AddressOrigin.Autoconfigured, preferredUntil, validUntil, now);
            return;
        }
        ref var a = ref _addresses[slot];
        if (a.Origin != Ipv6AddressOrigin.Autoconfigured) return;
        a.PreferredUntil = preferredUntil;
        if (a.State == Ipv6AddressState.Deprecated && now < preferredUntil) { a.State = Ipv6AddressState.Preferred; AddressesChanged(); }
        // 5.5.3 e: the two-hour rule, so that a forged advertisement cannot end an address at once.
        var remaining = a.ValidUntil == Infinite ? Infinite : a.ValidUntil - now;
        var received = validUntil == Infinite ? Infinite : validUntil - now;
        if (received > TwoHours || received > remaining) a.ValidUntil = validUntil;
        else if (remaining <= TwoHours) { }
        else a.ValidUntil = now + TwoHours;
        if (a.PreferredUntil != Infinite) Schedule(a.PreferredUntil);
        if (a.ValidUntil != Infinite) Schedule(a.ValidUntil);
    }
}
