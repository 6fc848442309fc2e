using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv6;

// Neighbour Discovery (RFC 4861 7): address resolution and neighbour unreachability detection over the interface's
// IPv6 neighbour table (the same NeighbourCache shape ARP uses), answers to solicitations for our addresses, and
// redirects (8.1). Every ND message is checked for hop limit 255 (RFC 4861 7.1.1, 7.1.2, 8.1).
internal sealed partial class Ipv6Layer
{
    /// <summary>How long a neighbour stays REACHABLE after a confirmation.</summary>
    public TimeSpan ReachableTime { get; private set; }
    /// <summary>Time between solicitations.</summary>
    public TimeSpan RetransmitTimer { get; private set; }

    // RFC 4861 7.2.2 and 7.3.3: the MAC of a neighbour, or the entry to queue under while it resolves. Using a STALE
    // entry starts the DELAY timer; an INCOMPLETE one is solicited again only when its timer says so.
    private bool Resolve(Ipv6Address neighbour, TimeSpan now, out MacAddress mac, out int slot)
    {
        if (_ethernet.IsIpLink) { mac = default; slot = -1; return true; }   // no link-layer address to find (a TUN)
        slot = _nd.Find(neighbour);
        if (slot >= 0)
        {
            ref var e = ref _nd[slot];
            e.LastUsed = now;
            switch (e.State)
            {
                case NeighbourCache.State.Reachable when now < e.Expires:
                case NeighbourCache.State.Delay:
                case NeighbourCache.State.Probe:
                    mac = e.Mac;
                    slot = -1;
                    return true;
                case NeighbourCache.State.Reachable:
                case NeighbourCache.State.Stale:
                    e.State = NeighbourCache.State.Delay;
                    e.Expires = now + _options.DelayFirstProbeTime;
                    Schedule(e.Expires);
                    mac = e.Mac;
                    slot = -1;
                    return true;
            }
            mac = default;
            return true;   // INCOMPLETE: queue under it
        }
        mac = default;
        slot = _nd.GetOrAdd(neighbour, now);
        if (slot < 0) { Drop(_stats.Nd, DropReason.NdCacheFull); return false; }
        ref var n = ref _nd[slot];
        n.Attempts = 1;
        n.LastRequest = now;
        SendNeighbourSolicitation(SelectSource(neighbour), SolicitedNode(neighbour), neighbour, withSourceLinkLayer: true);
        Schedule(now + RetransmitTimer);
        return true;
    }

    // RFC 4861 7.2.3 / 6.3.4 / 7.2.4: a link-layer address learned from a solicitation or advertisement we did not
    // ask for makes or updates an entry as STALE (reachability unconfirmed); an INCOMPLETE entry sends its queue.
    private void LearnNeighbour(Ipv6Address address, MacAddress mac, TimeSpan now, bool isRouter = false)
    {
        int slot = _nd.Find(address);
        if (slot < 0)
        {
            slot = _nd.GetOrAdd(address, now);
            if (slot < 0) { Drop(_stats.Nd, DropReason.NdCacheFull); return; }
        }
        ref var e = ref _nd[slot];
        if (e.State == NeighbourCache.State.Incomplete)
        {
            _ethernet.Resolved(_nd, slot, mac, now);
            e.State = NeighbourCache.State.Stale;
        }
        else if (e.Mac != mac)
        {
            e.Mac = mac;
            e.State = NeighbourCache.State.Stale;
        }
    }

    private void ProcessNeighbourSolicitation(Ipv6Packet ip, ReadOnlySpan<byte> message, MacAddress sourceMac, TimeSpan now)
    {
        // RFC 4861 7.1.1: hop limit 255, code 0, target not multicast, options well formed; from :: only to a
        // solicited-node group and without a source link-layer address option.
        if (ip.HopLimit != 255 || NeighborSolicitation.TryParse(message, out var ns) != WireError.None || ns.Target.IsMulticast)
        {
            Drop(_stats.Icmpv6, DropReason.NdInvalid, true);
            return;
        }
        bool hasLinkLayer = NdOptionReader.TryFind(ns.Options, NdOptionType.SourceLinkLayerAddress, out var slla);
        bool fromUnspecified = ip.Source.IsUnspecified;
        if (fromUnspecified && (hasLinkLayer || !IsSolicitedNodeGroup(ip.Destination))) { Drop(_stats.Icmpv6, DropReason.NdInvalid, true); return; }
        int a = FindAddress(ns.Target);
        if (a < 0) { Drop(_stats.Icmpv6, DropReason.Ipv6NotForUs); return; }
        ref var address = ref _addresses[a];
        if (address.State == Ipv6AddressState.Tentative)
        {
            // RFC 4862 5.4.3: another node probing for our tentative address: it is a duplicate. Otherwise a
            // solicitation for a tentative address is not answered.
            if (fromUnspecified) DuplicateDetected(a, sourceMac);
            return;
        }
        if (address.State == Ipv6AddressState.Duplicate) return;
        if (fromUnspecified)
        {
            // Another node's DAD for an address we use: tell it (RFC 4861 7.2.4: to all nodes) and report the conflict.
            _stats.DadConflictCount++;
            StackLog.Ipv6DuplicateAddress(_log, address.Address.ToString(), sourceMac.ToString());
            AddressConflict?.Invoke(address.Address, sourceMac);
            SendNeighbourAdvertisement(address.Address, AllNodes, address.Address, solicited: false);
            return;
        }
        if (hasLinkLayer && slla.TryGetLinkLayerAddress(out var mac) == WireError.None) LearnNeighbour(ip.Source, mac, now);
        // RFC 4861 7.2.4: solicited, override, our link-layer address, to the solicitation's source.
        SendNeighbourAdvertisement(address.Address, ip.Source, address.Address, solicited: true,
            unicastMac: hasLinkLayer && slla.TryGetLinkLayerAddress(out var to) == WireError.None ? to : sourceMac);
    }

    private static bool IsSolicitedNodeGroup(Ipv6Address a)
        => (ulong)(a.Value >> 64) == 0xFF02_0000_0000_0000 && ((ulong)a.Value & 0xFFFF_FFFF_FF00_0000) == 0x0000_0001_FF00_0000;

    private void ProcessNeighbourAdvertisement(Ipv6Packet ip, ReadOnlySpan<byte> message, MacAddress sourceMac, TimeSpan now)
    {
        // RFC 4861 7.1.2: hop limit 255, code 0, target not multicast, not solicited when sent to a multicast group.
        if (ip.HopLimit != 255 || NeighborAdvertisement.TryParse(message, out var na) != WireError.None || na.Target.IsMulticast
            || (na.Solicited && ip.Destination.IsMulticast))
        {
            Drop(_stats.Icmpv6, DropReason.NdInvalid, true);
            return;
        }
        MacAddress? target = NdOptionReader.TryFind(na.Options, NdOptionType.TargetLinkLayerAddress, out var tlla)
                             && tlla.TryGetLinkLayerAddress(out var m) == WireError.None ? m : null;
        int a = FindAddress(na.Target);
        if (a >= 0)
        {
            // RFC 4862 5.4.4: an advertisement for our tentative address: duplicate. For one in use: another node
            // claims it; reported, and ours kept (5.4.5 leaves what to do to the implementation).
            if (_addresses[a].State == Ipv6AddressState.Tentative) DuplicateDetected(a, target ?? sourceMac);
            else if (_addresses[a].State != Ipv6AddressState.Duplicate)
            {
                _stats.DadConflictCount++;
                StackLog.Ipv6DuplicateAddress(_log, na.Target.ToString(), (target ?? sourceMac).ToString());
                AddressConflict?.Invoke(na.Target, target ?? sourceMac);
            }
            return;
        }
        int slot = _nd.Find(na.Target);
        if (slot < 0) return;   // RFC 4861 7.2.5: no entry: silently discarded
        ref var e = ref _nd[slot];
        if (e.State == NeighbourCache.State.Incomplete)
        {
            if (target is not MacAddress mac) return;
            bool solicited = na.Solicited;
            _ethernet.Resolved(_nd, slot, mac, now);
            e.State = solicited ? NeighbourCache.State.Reachable : NeighbourCache.State.Stale;
            e.Expires = now + ReachableTime;
            return;
        }
        bool different = target is MacAddress t && t != e.Mac;
        if (!na.Override && different)
        {
            if (e.State == NeighbourCache.State.Reachable) e.State = NeighbourCache.State.Stale;
            return;
        }
        if (target is MacAddress newMac) e.Mac = newMac;
        if (na.Solicited)
        {
            e.State = NeighbourCache.State.Reachable;
            e.Expires = now + ReachableTime;
            e.Attempts = 0;
        }
        else if (different) e.State = NeighbourCache.State.Stale;
    }

    // RFC 4861 8.1 and 8.3: only from the first-hop router currently used for the destination, link-local, hop limit
    // 255; the target is the destination itself (on-link) or a link-local router.
    private void ProcessRedirect(Ipv6Packet ip, ReadOnlySpan<byte> message, TimeSpan now)
    {
        if (ip.HopLimit != 255 || !IsLinkLocal(ip.Source) || Redirect.TryParse(message, out var redirect) != WireError.None
            || redirect.Destination.IsMulticast || !(IsLinkLocal(redirect.Target) || redirect.Target == redirect.Destination)
            || DefaultRouter(now) != ip.Source)
        {
            Drop(_stats.Icmpv6, DropReason.NdRedirectRejected, true);
            return;
        }
        // The destination is then reached through the target: held as a one-address on-link prefix when it is the
        // destination itself; a redirect to another router is taken by adding that router (bounded as every router).
        if (redirect.Target == redirect.Destination) AddPrefix(redirect.Destination, 128, now + TimeSpan.FromMinutes(10));
        else UpdateRouter(redirect.Target, now + TimeSpan.FromMinutes(10), now);
        if (NdOptionReader.TryFind(redirect.Options, NdOptionType.TargetLinkLayerAddress, out var tlla) && tlla.TryGetLinkLayerAddress(out var mac) == WireError.None)
            LearnNeighbour(redirect.Target, mac, now);
    }

    /// <summary>Repeated TCP timeouts toward <paramref name="destination"/>: probe the next hop (as Linux's negative advice).</summary>
    public void SuspectNeighbour(Ipv6Address destination, TimeSpan now)
    {
        var nextHop = IsOnLink(destination) ? destination : DefaultRouter(now);
        int slot = _nd.Find(nextHop);
        if (slot < 0) return;
        ref var e = ref _nd[slot];
        if (e.State is NeighbourCache.State.Reachable or NeighbourCache.State.Stale)
        {
            e.State = NeighbourCache.State.Delay;
            e.Expires = now;
            Schedule(now);
        }
    }

    // RFC 4861 7.3.3's timers: INCOMPLETE retransmits, REACHABLE ages to STALE, DELAY turns to PROBE, PROBE retries.
    private void PollNeighbours(TimeSpan now)
    {
        if (_nd.Count == 0) return;
        for (int i = 0; i < _nd.Capacity; i++)
        {
            ref var e = ref _nd[i];
            switch (e.State)
            {
                case NeighbourCache.State.Incomplete:
                    if (now - e.LastRequest >= RetransmitTimer)
                    {
                        if (e.Attempts >= _options.MaxMulticastSolicit)
                        {
                            var failed = e.Address.AsIpv6;
                            int dropped = _nd.Remove(i);
                            for (int d = 0; d < dropped; d++) Drop(_stats.Nd, DropReason.NdResolutionFailed);
                            _internet.Tcp.OnNeighbourUnreachable(peer => peer.IsIpv6 && (IsOnLink(peer.AsIpv6) ? peer.AsIpv6 : DefaultRouter(now)) == failed, now);
                            continue;
                        }
                        e.Attempts++;
                        e.LastRequest = now;
                        var target = e.Address.AsIpv6;
                        SendNeighbourSolicitation(SelectSource(target), SolicitedNode(target), target, withSourceLinkLayer: true);
                    }
                    Schedule(e.LastRequest + RetransmitTimer);
                    break;
                case NeighbourCache.State.Reachable:
                    if (now >= e.Expires) e.State = NeighbourCache.State.Stale;
                    else Schedule(e.Expires);
                    break;
                case NeighbourCache.State.Delay:
                    if (now >= e.Expires)
                    {
                        e.State = NeighbourCache.State.Probe;
                        e.Attempts = 1;
                        e.LastRequest = now;
                        SendNeighbourSolicitation(SelectSource(e.Address.AsIpv6), e.Address.AsIpv6, e.Address.AsIpv6, withSourceLinkLayer: true, unicastMac: e.Mac);
                        Schedule(now + RetransmitTimer);
                    }
                    else Schedule(e.Expires);
                    break;
                case NeighbourCache.State.Probe:
                    if (now - e.LastRequest >= RetransmitTimer)
                    {
                        if (e.Attempts >= _options.MaxUnicastSolicit) { _nd.Remove(i); continue; }
                        e.Attempts++;
                        e.LastRequest = now;
                        SendNeighbourSolicitation(SelectSource(e.Address.AsIpv6), e.Address.AsIpv6, e.Address.AsIpv6, withSourceLinkLayer: true, unicastMac: e.Mac);
                    }
                    Schedule(e.LastRequest + RetransmitTimer);
                    break;
            }
        }
    }

    // ---------------------------------------------------------------- sending ND messages (in a buffer of their own)

    private void SendNeighbourSolicitation(Ipv6Address source, Ipv6Address destination, Ipv6Address target, bool withSourceLinkLayer, MacAddress? unicastMac = null)
    {
        var message = _control.AsSpan(EthernetSize + Ipv6Header.Size);
        int length = new NeighborSolicitationHeader(target).WriteTo(message);
        if (withSourceLinkLayer && !source.IsUnspecified) length += NdOptionWriter.WriteLinkLayerAddress(message[length..], NdOptionType.SourceLinkLayerAddress, Mac);
        SendControl(source, destination, length, 255, unicastMac ?? MulticastMac(destination));
        _stats.NeighbourSolicitationsSentCount++;
    }

    private void SendNeighbourAdvertisement(Ipv6Address source, Ipv6Address destination, Ipv6Address target, bool solicited, MacAddress? unicastMac = null)
    {
        var message = _control.AsSpan(EthernetSize + Ipv6Header.Size);
        int length = new NeighborAdvertisementHeader(target, Router: false, Solicited: solicited, Override: true).WriteTo(message);
        length += NdOptionWriter.WriteLinkLayerAddress(message[length..], NdOptionType.TargetLinkLayerAddress, Mac);
        var mac = destination.IsMulticast ? MulticastMac(destination) : unicastMac ?? default;
        SendControl(source, destination, length, 255, mac);
        _stats.NeighbourAdvertisementsSentCount++;
    }

    private void SendRouterSolicitation(Ipv6Address source)
    {
        var message = _control.AsSpan(EthernetSize + Ipv6Header.Size);
        int length = new RouterSolicitationHeader().WriteTo(message);
        // RFC 4861 4.1: the source link-layer option only from a real address.
        if (!source.IsUnspecified) length += NdOptionWriter.WriteLinkLayerAddress(message[length..], NdOptionType.SourceLinkLayerAddress, Mac);
        SendControl(source, AllRouters, length, 255, MulticastMac(AllRouters));
        _stats.RouterSolicitationsSentCount++;
    }

    // An ICMPv6 message already written after the IPv6 header in the control buffer: checksum, headers, transmit.
    private void SendControl(Ipv6Address source, Ipv6Address destination, int messageLength, byte hopLimit, MacAddress mac)
    {
        var message = _control.AsSpan(EthernetSize + Ipv6Header.Size, messageLength);
        Icmpv6Header.FillChecksum(message, source, destination);
        new Ipv6Header(source, destination, IpProtocol.Icmpv6, (ushort)messageLength, hopLimit).WriteTo(_control.AsSpan(EthernetSize));
        new EthernetHeader(mac, Mac, EtherType.Ipv6).WriteTo(_control);
        _stats.Ipv6.SentCount++;
        _stats.Icmpv6.SentCount++;
        _ethernet.Transmit(_control.AsSpan(0, EthernetSize + Ipv6Header.Size + messageLength), _ethernet.Now);
    }
}
