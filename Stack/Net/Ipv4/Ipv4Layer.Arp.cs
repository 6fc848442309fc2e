using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv4;

// ARP (RFC 826) over the interface's IPv4 neighbour table, with RFC 5227's probes, announcements and defence.
internal sealed partial class Ipv4Layer
{
    private readonly byte[] _arpTx;
    private TimeSpan _lastDefence = TimeSpan.MinValue;
    private Ipv4Address _probeTarget;

    public event Action<Ipv4Address, MacAddress>? AddressConflict;

    public void ProcessArp(ReadOnlySpan<byte> bytes, TimeSpan now)
    {
        if (ArpPacket.TryParse(bytes, out var arp) != WireError.None) { Drop(_stats.Arp, DropReason.ArpMalformed, true); return; }
        _stats.Arp.ReceivedCount++;
        var senderIp = arp.SenderProtocolAddress;
        var senderMac = arp.SenderHardwareAddress;
        bool haveAddress = !Address.IsAny;

        // RFC 5227 2.1.1: while probing, any ARP packet from another host with the address as sender, or another
        // host's probe for it, means the address is in use.
        if (!_probeTarget.IsAny && senderMac != Mac && ProbeConflict is null
            && (senderIp == _probeTarget || (senderIp.IsAny && arp.Operation == ArpOperation.Request && arp.TargetProtocolAddress == _probeTarget)))
        {
            ProbeConflict = senderMac;
            _stats.ArpConflictCount++;
            StackLog.ArpConflict(_log, senderMac, _probeTarget);
        }

        // RFC 5227 2.4: another host using our address.
        if (haveAddress && senderIp == Address && senderMac != Mac)
        {
            _stats.ArpConflictCount++;
            StackLog.ArpConflict(_log, senderMac, Address);
            AddressConflict?.Invoke(Address, senderMac);
            if (_lastDefence == TimeSpan.MinValue || now - _lastDefence >= TimeSpan.FromSeconds(10))
            {
                _lastDefence = now;
                SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, Address);
                _stats.GratuitousArpSentCount++;
            }
            return;
        }
        // RFC 5227 2.1.1 (RFC 3927 2.2.1): another host's probe for our address is answered, so that it learns the address
        // is in use and picks another (Linux answers probes too); a 0.0.0.0 sender makes no cache entry.
        if (haveAddress && senderIp.IsAny && arp.Operation == ArpOperation.Request && arp.TargetProtocolAddress == Address && senderMac != Mac && !senderMac.IsMulticast)
        {
            SendArp(ArpOperation.Reply, senderMac, senderMac, senderIp);
            _stats.ArpRepliesSentCount++;
            return;
        }
        if (senderIp.IsAny || senderIp.IsMulticast || senderIp.IsLimitedBroadcast || senderMac.IsMulticast) { Drop(_stats.Arp, DropReason.ArpMalformed, true); return; }

        // RFC 826 "packet reception": update an existing entry; add one when we are the target.
        bool forUs = haveAddress && arp.TargetProtocolAddress == Address;
        // Hardening beyond RFC 826 (as Linux with arp_accept=0): only a request for us creates an entry, since its
        // sender is about to talk to us; an unsolicited reply does not, so a reply flood cannot churn the cache.
        int slot = _arp.Find(senderIp);
        if (slot < 0 && forUs && arp.Operation == ArpOperation.Request) slot = _arp.GetOrAdd(senderIp, now);
        if (slot >= 0)
        {
            // A resolved entry changes its MAC only in answer to a request we sent lately (a refresh or a re-resolution):
            // an unsolicited claim to a neighbour's address (spoofing the gateway) is counted and ignored.
            ref var entry = ref _arp[slot];
            bool asked = entry.LastRequest != TimeSpan.MinValue && now - entry.LastRequest <= _options.ArpRequestInterval;
            if (entry.State == NeighbourCache.State.Reachable && entry.Mac != senderMac && !asked) Drop(_stats.Arp, DropReason.ArpAddressChangeIgnored);
            else
            {
                if (entry.State == NeighbourCache.State.Incomplete) StackLog.ArpResolved(_log, senderIp, senderMac);
                _ethernet.Resolved(_arp, slot, senderMac, now);
            }
        }
        if (forUs && arp.Operation == ArpOperation.Request)
        {
            SendArp(ArpOperation.Reply, senderMac, senderMac, senderIp);
            _stats.ArpRepliesSentCount++;
        }
        else if (slot < 0) Drop(_stats.Arp, forUs ? DropReason.ArpUnsolicitedReply : DropReason.ArpNotForUs);
    }

    /// <summary>
    /// Sends an RFC 5227 ARP probe for <paramref name="address"/> (sender IP 0.0.0.0, target the address) and watches
    /// for anyone using it until <see cref="EndProbe"/>: <see cref="ProbeConflict"/> then holds the MAC that answered.
    /// Calling it again for the same address sends another probe and keeps what was seen.
    /// </summary>
    public void ProbeAddress(Ipv4Address address)
    {
        if (address != _probeTarget)
        {
            _probeTarget = address;
            ProbeConflict = null;
        }
        SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, address, Ipv4Address.Any);
        _stats.ArpProbesSentCount++;
    }

    /// <summary>The address being probed (0.0.0.0 when none).</summary>
    public Ipv4Address ProbeTarget => _probeTarget;

    /// <summary>
    /// Sends an RFC 5227 2.3 announcement of our address now (sender and target both the address) and counts the
    /// address as announced, so the one-off announcement of <see cref="PollNeighbours"/> is not sent as well.
    /// </summary>
    public void Announce()
    {
        if (Address.IsAny) return;
        if (!_announced)
        {
            _announced = true;
            StackLog.InterfaceUp(_log, Address, PrefixLength, Gateway, Mac, Mtu);
        }
        SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, Address);
        _stats.GratuitousArpSentCount++;
    }

    /// <summary>The MAC of a host found using the probed address, or null.</summary>
    public MacAddress? ProbeConflict { get; private set; }

    /// <summary>Stops watching for the probed address.</summary>
    public void EndProbe()
    {
        _probeTarget = default;
        ProbeConflict = null;
    }

    // Finds the MAC of the next hop, or the ARP entry under which to queue while it resolves.
    private bool ResolveNextHop(Ipv4Address nextHop, TimeSpan now, out MacAddress mac, out int arpSlot)
    {
        arpSlot = -1;
        if (_ethernet.IsIpLink) { mac = default; return true; }   // no link-layer address to find (a TUN)
        if (_arp.TryLookup(nextHop, now, out mac, out int slot))
        {
            ref var entry = ref _arp[slot];
            // Refresh an entry in use before it expires, by unicast (as lwIP does), at most once per interval.
            if (now >= entry.Expires - _options.ArpRefreshBefore && (entry.LastRequest == TimeSpan.MinValue || now - entry.LastRequest >= _options.ArpRequestInterval))
            {
                entry.LastRequest = now;
                SendArp(ArpOperation.Request, mac, MacAddress.Zero, nextHop);
                _stats.ArpRequestsSentCount++;
            }
            return true;
        }
        arpSlot = _arp.GetOrAdd(nextHop, now);
        if (arpSlot < 0) { Drop(_stats.Arp, DropReason.ArpCacheFull); return false; }
        ref var e = ref _arp[arpSlot];
        if (e.State == NeighbourCache.State.Reachable) _arp.Restart(arpSlot);   // expired: resolve again, keeping the slot
        if (e.LastRequest == TimeSpan.MinValue || now - e.LastRequest >= _options.ArpRequestInterval)
        {
            e.LastRequest = now;
            e.Attempts++;
            SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, nextHop);
            _stats.ArpRequestsSentCount++;
        }
        return true;
    }

    private Ipv4Address NextHop(Ipv4Address destination) => OnLink(destination) ? destination : Gateway;

    /// <summary>True when a datagram to <paramref name="destination"/> would wait for ARP (its next hop's MAC unknown).</summary>
    public bool AwaitsResolution(Ipv4Address destination, TimeSpan now)
        => !IsBroadcast(destination) && !destination.IsMulticast && !_arp.TryLookup(NextHop(destination), now, out _);

    /// <summary>Repeated TCP timeouts toward <paramref name="destination"/>: ask again for the next hop's MAC.</summary>
    public void SuspectNeighbour(Ipv4Address destination, TimeSpan now)
    {
        var nextHop = OnLink(destination) ? destination : Gateway;
        int slot = _arp.Find(nextHop);
        if (slot < 0) return;
        ref var entry = ref _arp[slot];
        if (entry.State != NeighbourCache.State.Reachable) return;
        if (entry.LastRequest != TimeSpan.MinValue && now - entry.LastRequest < _options.ArpRequestInterval) return;
        // A broadcast request: if the cached MAC is wrong (a corrupted or spoofed reply), a unicast one would go astray too.
        // The owner's reply updates the entry (RFC 826 merge).
        entry.LastRequest = now;
        SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, nextHop);
        _stats.ArpRequestsSentCount++;
        _stats.ArpNeighbourSuspectsCount++;
    }

    private void SendArp(ArpOperation operation, MacAddress ethernetDestination, MacAddress targetMac, Ipv4Address targetIp, Ipv4Address? senderIp = null)
    {
        if (_ethernet.IsIpLink) return;
        var sender = senderIp ?? Address;
        // RFC 3927 2.5: an ARP packet with a link-local sender address is sent as a link-layer broadcast (replies too), so
        // that a host holding the same address by mistake hears it.
        if (IsLinkLocal(sender)) ethernetDestination = MacAddress.Broadcast;
        new EthernetHeader(ethernetDestination, Mac, EtherType.Arp).WriteTo(_arpTx);
        new ArpHeader(operation, Mac, sender, targetMac, targetIp).WriteTo(_arpTx.AsSpan(EthernetSize));
        _stats.Arp.SentCount++;
        _ethernet.Transmit(_arpTx, _ethernet.Now);
    }

    private void PollArpTimers(TimeSpan now)
    {
        var earliest = TimeSpan.MaxValue;
        for (int i = 0; i < _arp.Capacity; i++)
        {
            ref var e = ref _arp[i];
            if (e.State == NeighbourCache.State.Reachable && e.Expires > now && e.Expires < earliest) earliest = e.Expires;
            if (e.State == NeighbourCache.State.Incomplete && now - e.LastRequest >= _options.ArpRequestInterval)
            {
                if (e.Attempts >= _options.ArpRequestAttempts)
                {
                    var address = e.Address.AsIpv4;
                    int dropped = _arp.Remove(i);
                    for (int d = 0; d < dropped; d++) Drop(_stats.Arp, DropReason.ArpResolutionFailed);
                    StackLog.ArpResolutionFailed(_log, address, dropped);
                    _internet.Tcp.OnNeighbourUnreachable(peer => peer.IsIpv4 && NextHop(peer.AsIpv4) == address, now);
                }
                else
                {
                    e.LastRequest = now;
                    e.Attempts++;
                    SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, e.Address.AsIpv4);
                    _stats.ArpRequestsSentCount++;
                }
            }
            else if (e.State == NeighbourCache.State.Reachable && now >= e.Expires)
            {
                _arp.Remove(i);
            }
        }
        _arp.EarliestExpiry = earliest;
    }
}
