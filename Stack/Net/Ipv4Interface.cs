using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Links;
using TcpIpSharp.Storage;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net;

/// <summary>
/// The one Ethernet/IPv4 interface of a stack: validates and dispatches received frames (ARP, IPv4 with
/// reassembly, ICMP, UDP), and builds, routes, fragments, resolves and transmits what the stack sends.
/// Owned by the stack thread; allocates nothing per packet.
/// </summary>
internal sealed class Ipv4Interface : IUdpOutput, ITcpOutput
{
    private const int EthernetSize = EthernetHeader.Size;
    private const int IpOffset = EthernetSize;
    private const int PayloadOffset = EthernetSize + Ipv4Header.MinimumSize;
    private const int IcmpQuoteLimit = 576 - Ipv4Header.MinimumSize - IcmpHeader.Size;   // RFC 1812 4.3.2.3

    private readonly NetworkStackOptions _options;
    private readonly ILink _link;
    private readonly StackStatistics _stats;
    private readonly ILogger _log;
    private readonly ArpCache _arp;
    private readonly Ipv4Reassembler _reassembler;
    private readonly UdpTable _udp;
    private readonly TcpTable _tcp;
    private readonly Dictionary<ushort, EchoClient> _echoClients = new(16);
    private readonly HashSet<uint> _multicastGroups = new(16);
    private readonly byte[] _tx = new byte[PayloadOffset + Ipv4Header.MaximumPacketSize];   // datagram being sent, built in place
    private readonly byte[] _fragment;                                                        // one fragment of it
    private readonly byte[] _arpTx = new byte[EthernetSize + ArpHeader.Size];
    private TokenBucket _icmpErrorBucket;
    private bool _checkTransport;   // verify TCP and UDP checksums: without the link's checksum offload, or after reassembly
    private ushort _identification;
    private bool _announced;
    private TimeSpan _lastDefence = TimeSpan.MinValue;

    public Ipv4Interface(NetworkStackOptions options, ILink link, StackStatistics stats, ILogger logger, IRandomSource random)
    {
        _options = options;
        _link = link;
        _stats = stats;
        _log = logger;
        Mac = options.MacAddress;
        Mtu = Math.Min(options.Mtu ?? link.Capabilities.Mtu, link.Capabilities.MaxFrameSize - EthernetSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(Mtu, 68);   // RFC 791: every host takes 68-byte datagrams
        MaximumMtu = Mtu;
        SetAddress(options.Address, options.PrefixLength, options.Gateway);
        _fragment = new byte[EthernetSize + Mtu];
        _arp = new ArpCache(options, EthernetSize + Mtu);
        _reassembler = new Ipv4Reassembler(options);
        _udp = new UdpTable(options, random);
        _tcp = new TcpTable(this, random, options, stats.TcpDetail) { LocalAddress = () => Address };
        _icmpErrorBucket = new TokenBucket(options.IcmpErrorsPerSecond, options.IcmpErrorBurst);
        _identification = (ushort)random.NextUInt32();
        _checkTransport = !link.Capabilities.ChecksumOffload;
        _multicastGroups.Add(0xE000_0001);   // 224.0.0.1, all hosts (RFC 1112)
    }

    public MacAddress Mac { get; }
    public int Mtu { get; private set; }
    /// <summary>The MTU the interface was created with: buffers are sized for it, so <see cref="SetMtu"/> can only lower it.</summary>
    public int MaximumMtu { get; }
    public Ipv4Address Address { get; private set; }
    public int PrefixLength { get; private set; }
    public Ipv4Address Gateway { get; private set; }
    public Ipv4Address Mask { get; private set; }
    public Ipv4Address SubnetBroadcast { get; set; }
    public FrameObserver? Observer { get; set; }
    public event Action<Ipv4Address, MacAddress>? AddressConflict;
    internal ArpCache Arp => _arp;
    internal Ipv4Reassembler Reassembler => _reassembler;
    internal UdpTable Udp => _udp;
    internal TcpTable Tcp => _tcp;

    public void SetAddress(Ipv4Address address, int prefixLength, Ipv4Address gateway)
    {
        Address = address;
        PrefixLength = prefixLength;
        Gateway = gateway;
        Mask = Ipv4Address.MaskFromPrefix(prefixLength);
        SubnetBroadcast = prefixLength >= 31 ? Ipv4Address.Broadcast : new Ipv4Address(address.Value | ~Mask.Value);
        _announced = false;
    }

    /// <summary>Sets the IP MTU (DHCP option 26), between 68 and <see cref="MaximumMtu"/>.</summary>
    public void SetMtu(int mtu) => Mtu = Math.Clamp(mtu, 68, MaximumMtu);

    public void JoinMulticast(Ipv4Address group) => _multicastGroups.Add(group.Value);
    public void LeaveMulticast(Ipv4Address group) => _multicastGroups.Remove(group.Value);

    // ---------------------------------------------------------------- receive

    public void ProcessFrame(ReadOnlySpan<byte> frame, TimeSpan now)
    {
        _stats.Link.ReceivedCount++;
        Observer?.Invoke(frame, false, now);
        if (EthernetFrame.TryParse(frame, out var eth) != WireError.None) { Drop(_stats.Ethernet, DropReason.EthernetMalformed, true); return; }
        var destination = eth.Destination;
        if (destination != Mac && !destination.IsBroadcast && !(destination.IsMulticast && IsJoinedMulticastMac(destination)))
        {
            Drop(_stats.Ethernet, DropReason.EthernetNotForUs);
            return;
        }
        if (eth.Source == Mac) { Drop(_stats.Ethernet, DropReason.EthernetFromSelf); return; }
        if (eth.IsTagged) { Drop(_stats.Ethernet, DropReason.EthernetUnsupportedType); return; }
        _stats.Ethernet.ReceivedCount++;
        switch (eth.EtherType)
        {
            case EtherType.Arp: ProcessArp(eth.Payload, now); break;
            case EtherType.Ipv4: ProcessIpv4(eth.Payload, eth.Source, now); break;
            default: Drop(_stats.Ethernet, DropReason.EthernetUnsupportedType); break;
        }
    }

    private bool IsJoinedMulticastMac(MacAddress mac)
    {
        foreach (uint group in _multicastGroups)
            if (MacAddress.ForIpv4Multicast(new Ipv4Address(group)) == mac) return true;
        return false;
    }

    // RFC 2131 4.1 (lwIP's LWIP_IP_ACCEPT_UDP_PORT): before it has an address, the host takes a DHCP reply sent
    // unicast to the address being offered, as servers do when the client does not set the broadcast flag.
    private static bool IsForDhcpClient(Ipv4Packet ip)
        => ip.Protocol == IpProtocol.Udp && !ip.IsFragment && ip.Payload.Length >= UdpHeader.Size
           && BinaryPrimitives.ReadUInt16BigEndian(ip.Payload[2..]) == 68;

    private void ProcessArp(ReadOnlySpan<byte> bytes, TimeSpan now)
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
            if (entry.State == ArpCache.State.Reachable && entry.Mac != senderMac && !asked) Drop(_stats.Arp, DropReason.ArpAddressChangeIgnored);
            else Resolved(slot, senderMac, now);
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

    /// <summary>The MAC of a host found using the probed address, or null.</summary>
    public MacAddress? ProbeConflict { get; private set; }

    /// <summary>Stops watching for the probed address.</summary>
    public void EndProbe()
    {
        _probeTarget = default;
        ProbeConflict = null;
    }

    private Ipv4Address _probeTarget;

    private void Resolved(int slot, MacAddress mac, TimeSpan now)
    {
        ref var entry = ref _arp[slot];
        bool wasIncomplete = entry.State == ArpCache.State.Incomplete;
        _arp.Resolve(slot, mac, now);
        if (wasIncomplete) StackLog.ArpResolved(_log, entry.Address, mac);
        for (int f = _arp.Dequeue(slot); f >= 0; f = _arp.Dequeue(slot))
        {
            var queued = _arp.Frame(f);
            mac.WriteTo(queued);
            Transmit(queued, now);
            _arp.ReleaseFrame(f);
        }
    }

    private void ProcessIpv4(ReadOnlySpan<byte> bytes, MacAddress sourceMac, TimeSpan now)
    {
        if (Ipv4Packet.TryParse(bytes, out var ip) != WireError.None) { Drop(_stats.Ipv4, DropReason.Ipv4Malformed, true); return; }
        if (!ip.IsChecksumValid) { Drop(_stats.Ipv4, DropReason.Ipv4BadChecksum, true); return; }
        var source = ip.Source;
        if (source.IsMulticast || source.IsLimitedBroadcast || (source == Address && !Address.IsAny))
        {
            Drop(_stats.Ipv4, DropReason.Ipv4BadSource, true);
            return;
        }
        var destination = ip.Destination;
        bool broadcast = destination.IsLimitedBroadcast || (destination == SubnetBroadcast && !Address.IsAny) || destination.IsMulticast;
        if (destination != Address || Address.IsAny)
        {
            bool accepted = destination.IsLimitedBroadcast || (destination == SubnetBroadcast && !Address.IsAny)
                            || (destination.IsMulticast && _multicastGroups.Contains(destination.Value))
                            || (Address.IsAny && IsForDhcpClient(ip));
            if (!accepted) { Drop(_stats.Ipv4, DropReason.Ipv4NotForUs); return; }
        }
        _stats.Ipv4.ReceivedCount++;

        if (ip.IsFragment)
        {
            _stats.FragmentsReceivedCount++;
            var reason = _reassembler.Add(ip, now, out var whole);
            if (_reassembler.Evicted > 0)
            {
                for (int i = 0; i < _reassembler.Evicted; i++) Drop(_stats.Ipv4, DropReason.ReassemblyEvicted);
                _reassembler.Evicted = 0;
            }
            if (reason is DropReason r) { Drop(_stats.Ipv4, r, r is DropReason.ReassemblyOverlap or DropReason.ReassemblyTooLarge or DropReason.Ipv4Malformed); return; }
            if (whole.IsEmpty) return;
            _stats.DatagramsReassembledCount++;
            Ipv4Packet.TryParse(whole, out ip);
            // A link's checksum offload vouches for frames, not for a datagram put together from several: check it here.
            _checkTransport = true;
            Deliver(ip, broadcast, now);
            _checkTransport = !_link.Capabilities.ChecksumOffload;
            return;
        }
        Deliver(ip, broadcast, now);
    }

    private void Deliver(Ipv4Packet ip, bool broadcast, TimeSpan now)
    {
        switch (ip.Protocol)
        {
            case IpProtocol.Icmp:
                if (broadcast) { Drop(_stats.Icmp, DropReason.Ipv4NotForUs); return; }   // no echo to broadcast, as Linux
                ProcessIcmp(ip, now);
                break;
            case IpProtocol.Udp:
                ProcessUdp(ip, broadcast, now);
                break;
            case IpProtocol.Tcp:
                if (broadcast) { Drop(_stats.Tcp, DropReason.TcpBroadcast); return; }
                ProcessTcp(ip, now);
                break;
            default:
                Drop(_stats.Ipv4, DropReason.Ipv4UnknownProtocol);
                if (!broadcast) SendIcmpError(ip, IcmpType.DestinationUnreachable, 2, now);   // protocol unreachable
                break;
        }
    }

    /// <summary>Sees every valid ICMP message that arrives, as the whole IPv4 packet (raw ICMP sockets of the socket layer).</summary>
    internal RawIcmpHandler? RawIcmpReceived { get; set; }

    private void ProcessIcmp(Ipv4Packet ip, TimeSpan now)
    {
        if (IcmpPacket.TryParse(ip.Payload, out var icmp) != WireError.None) { Drop(_stats.Icmp, DropReason.IcmpMalformed, true); return; }
        if (!icmp.IsChecksumValid) { Drop(_stats.Icmp, DropReason.IcmpBadChecksum, true); return; }
        _stats.Icmp.ReceivedCount++;
        RawIcmpReceived?.Invoke(ip.Bytes, ip.Source);
        switch (icmp.Type)
        {
            case IcmpType.EchoRequest:
                SendEchoReply(ip, icmp, now);
                break;
            case IcmpType.EchoReply:
                if (_echoClients.TryGetValue(icmp.Identifier, out var client))
                {
                    _stats.EchoRepliesReceivedCount++;
                    client.Deliver(ip.Source, ip.TimeToLive, icmp.SequenceNumber, icmp.Data, now);
                }
                else Drop(_stats.Icmp, DropReason.IcmpNoEchoClient);
                break;
            case IcmpType.DestinationUnreachable:
            case IcmpType.TimeExceeded:
            case IcmpType.ParameterProblem:
                ProcessIcmpError(icmp);
                break;
            default:
                Drop(_stats.Icmp, DropReason.IcmpUnhandledType);
                break;
        }
    }

    private void ProcessIcmpError(IcmpPacket icmp)
    {
        if (icmp.TryGetQuote(out var quote) != WireError.None || quote.Source != Address) { Drop(_stats.Icmp, DropReason.IcmpMalformed, true); return; }
        _stats.IcmpErrorsReceivedCount++;
        if (quote.Protocol == IpProtocol.Tcp) { _tcp.OnIcmpError(quote, icmp.Type, icmp.Code, icmp.NextHopMtu, _lastNow); return; }
        if (quote.Protocol == IpProtocol.Udp && _udp.Find(quote.SourcePort) is { } endpoint)
        {
            if (endpoint.Peer is { } peer && (peer.Address != quote.Destination || peer.Port != quote.DestinationPort)) return;
            var error = icmp.Type == IcmpType.DestinationUnreachable
                ? icmp.Code switch
                {
                    3 => NetError.ConnectionRefused,          // port unreachable
                    4 => NetError.None,                       // fragmentation needed: path MTU, not an error for UDP
                    0 or 6 or 9 or 11 => NetError.NetworkUnreachable,
                    _ => NetError.HostUnreachable,
                }
                : NetError.HostUnreachable;                   // time exceeded, parameter problem
            if (error != NetError.None) endpoint.ReportError(error);
        }
    }

    private void ProcessUdp(Ipv4Packet ip, bool broadcast, TimeSpan now)
    {
        if (UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None) { Drop(_stats.Udp, DropReason.UdpMalformed, true); return; }
        if (_checkTransport && !udp.IsChecksumValid(ip.Source, ip.Destination)) { Drop(_stats.Udp, DropReason.UdpBadChecksum, true); return; }
        _stats.Udp.ReceivedCount++;
        var endpoint = _udp.Find(udp.DestinationPort);
        if (endpoint is not null)
        {
            bool addressOk = endpoint.LocalAddress.IsAny || (!broadcast && endpoint.LocalAddress == ip.Destination);
            bool peerOk = endpoint.Peer is not { } peer || (peer.Address == ip.Source && peer.Port == udp.SourcePort);
            if (!addressOk || !peerOk) endpoint = null;
        }
        if (endpoint is null)
        {
            Drop(_stats.Udp, DropReason.UdpNoEndpoint);
            if (!broadcast) SendIcmpError(ip, IcmpType.DestinationUnreachable, 3, now);   // RFC 1122 4.1.3.1
            return;
        }
        if (!endpoint.Deliver(ip.Source, udp.SourcePort, udp.Payload)) Drop(_stats.Udp, DropReason.UdpQueueFull);
    }

    private void ProcessTcp(Ipv4Packet ip, TimeSpan now)
    {
        if (TcpSegment.TryParse(ip.Payload, out var segment) != WireError.None) { Drop(_stats.Tcp, DropReason.TcpMalformed, true); return; }
        if (_checkTransport && !segment.IsChecksumValid(ip.Source, ip.Destination)) { Drop(_stats.Tcp, DropReason.TcpBadChecksum, true); return; }
        _stats.Tcp.ReceivedCount++;
        if (ip.Bytes.Length > Mtu) _stats.TcpLargeSegmentsReceivedCount++;   // coalesced by the link (offload)
        _tcp.Process(ip, segment, now);
    }

    Span<byte> ITcpOutput.SegmentBuffer => DatagramPayload;

    int ITcpOutput.MaxSegment => Mtu - Ipv4Header.MinimumSize;

    int ITcpOutput.MaxOffloadSegment => _link.Capabilities.TcpSegmentationOffload
        ? Math.Min(Ipv4Header.MaximumPacketSize, _link.Capabilities.MaxFrameSize - EthernetSize) - Ipv4Header.MinimumSize
        : Mtu - Ipv4Header.MinimumSize;

    NetError ITcpOutput.SendSegment(Ipv4Address source, Ipv4Address destination, int length, TimeSpan now, int segmentSize)
    {
        // TCP passes a segment size only for a segment that carries more than one wire segment's payload.
        if (segmentSize > 0 && _link.Capabilities.TcpSegmentationOffload)
            return SendLargeTcpSegment(source, destination, length, segmentSize, now);
        TcpHeader.FillChecksum(DatagramPayload[..length], source, destination);
        var error = SendDatagram(destination, IpProtocol.Tcp, length, now, dontFragment: true, source: source);
        if (error == NetError.None) _stats.Tcp.SentCount++;
        return error;
    }

    // A TCP segment larger than the MTU for a link that cuts it itself (TSO): the TCP checksum field holds the folded
    // pseudo-header sum (a partial checksum, as Linux's CHECKSUM_PARTIAL), the link completes each piece's checksum.
    // Sent only to a resolved neighbour: the ARP queue holds MTU-sized frames (TCP sends again once resolved).
    private NetError SendLargeTcpSegment(Ipv4Address source, Ipv4Address destination, int length, int segmentSize, TimeSpan now)
    {
        int total = Ipv4Header.MinimumSize + length;
        if (total > Ipv4Header.MaximumPacketSize || EthernetSize + total > _link.Capabilities.MaxFrameSize) { Drop(_stats.Ipv4, DropReason.Ipv4TooLarge); return NetError.MessageTooLong; }
        if (source.IsAny) return NetError.NoAddress;
        var nextHop = OnLink(destination) ? destination : Gateway;
        if (nextHop.IsAny || destination == Address) { Drop(_stats.Ipv4, DropReason.Ipv4NoRoute); return NetError.HostUnreachable; }
        if (!ResolveNextHop(nextHop, now, out var mac, out int arpSlot)) return NetError.HostUnreachable;
        if (arpSlot >= 0) { Drop(_stats.Arp, DropReason.ArpQueueFull); return NetError.HostUnreachable; }
        var segment = DatagramPayload[..length];
        ushort partial = (ushort)~InternetChecksum.Finish(InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Tcp, length));
        BinaryPrimitives.WriteUInt16BigEndian(segment[TcpSegment.Field.Checksum..], partial);
        new Ipv4Header(source, destination, IpProtocol.Tcp, (ushort)total, _identification++, _options.TimeToLive, true).WriteTo(_tx.AsSpan(IpOffset));
        new EthernetHeader(mac, Mac, EtherType.Ipv4).WriteTo(_tx);
        var frame = _tx.AsSpan(0, EthernetSize + total);
        if (_link.TrySendTcpSegments(frame, segmentSize))
        {
            Observer?.Invoke(frame, true, now);
            _stats.Ipv4.SentCount++;
            _stats.Link.SentCount++;
            _stats.Ethernet.SentCount++;
            _stats.Tcp.SentCount++;
            _stats.TcpSegmentsOffloadedCount++;
            return NetError.None;
        }
        // The link refused it (a wrapper without the offload, a kernel that rejects the header): cut it here instead.
        SegmentInSoftware(frame, segmentSize, source, destination, now);
        return NetError.None;
    }

    // What the link would have done: MTU-sized pieces with the headers copied, IP length, ID and checksum, TCP sequence
    // number and full checksum per piece; FIN and PSH only on the last (as Linux's tcp_gso_segment).
    private void SegmentInSoftware(ReadOnlySpan<byte> frame, int segmentSize, Ipv4Address source, Ipv4Address destination, TimeSpan now)
    {
        const int tcp = EthernetSize + Ipv4Header.MinimumSize;
        int tcpHeader = (frame[tcp + TcpSegment.Field.DataOffset] >> 4) * 4;
        int headers = tcp + tcpHeader;
        var payload = frame[headers..];
        segmentSize = Math.Min(segmentSize, EthernetSize + Mtu - headers);
        uint sequence = BinaryPrimitives.ReadUInt32BigEndian(frame[(tcp + TcpSegment.Field.SequenceNumber)..]);
        var flags = (TcpFlags)frame[tcp + TcpSegment.Field.Flags];
        for (int offset = 0; offset < payload.Length; offset += segmentSize)
        {
            int length = Math.Min(segmentSize, payload.Length - offset);
            var piece = _fragment.AsSpan(0, headers + length);
            frame[..headers].CopyTo(piece);
            payload.Slice(offset, length).CopyTo(piece[headers..]);
            new Ipv4Header(source, destination, IpProtocol.Tcp, (ushort)(piece.Length - EthernetSize), _identification++, _options.TimeToLive, true).WriteTo(piece[IpOffset..]);
            var segment = piece[tcp..];
            BinaryPrimitives.WriteUInt32BigEndian(segment[TcpSegment.Field.SequenceNumber..], sequence + (uint)offset);
            segment[TcpSegment.Field.Flags] = (byte)(offset + length < payload.Length ? flags & ~(TcpFlags.Fin | TcpFlags.Psh) : flags);
            BinaryPrimitives.WriteUInt16BigEndian(segment[TcpSegment.Field.Checksum..], 0);
            TcpHeader.FillChecksum(segment, source, destination);
            _stats.Ipv4.SentCount++;
            _stats.Tcp.SentCount++;
            Transmit(piece, now);
        }
    }

    void ITcpOutput.SuspectNeighbour(Ipv4Address destination, TimeSpan now)
    {
        var nextHop = OnLink(destination) ? destination : Gateway;
        int slot = _arp.Find(nextHop);
        if (slot < 0) return;
        ref var entry = ref _arp[slot];
        if (entry.State != ArpCache.State.Reachable) return;
        if (entry.LastRequest != TimeSpan.MinValue && now - entry.LastRequest < _options.ArpRequestInterval) return;
        // A broadcast request: if the cached MAC is wrong (a corrupted or spoofed reply), a unicast one would go astray too.
        // The owner's reply updates the entry (RFC 826 merge).
        entry.LastRequest = now;
        SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, nextHop);
        _stats.ArpRequestsSentCount++;
        _stats.ArpNeighbourSuspectsCount++;
    }

    // ---------------------------------------------------------------- send

    /// <summary>Where a datagram's transport payload is written before <see cref="SendDatagram"/>.</summary>
    public Span<byte> DatagramPayload => _tx.AsSpan(PayloadOffset, Ipv4Header.MaximumPacketSize - Ipv4Header.MinimumSize);

    /// <summary>Sends the datagram whose payload is in <see cref="DatagramPayload"/>: routes, fragments, resolves, transmits.</summary>
    public NetError SendDatagram(Ipv4Address destination, IpProtocol protocol, int payloadLength, TimeSpan now, bool dontFragment = false, Ipv4Address? source = null, byte typeOfService = 0)
    {
        var src = source ?? Address;
        int total = Ipv4Header.MinimumSize + payloadLength;
        if (total > Ipv4Header.MaximumPacketSize || (dontFragment && total > Mtu)) { Drop(_stats.Ipv4, DropReason.Ipv4TooLarge); return NetError.MessageTooLong; }
        bool broadcast = destination.IsLimitedBroadcast || (destination == SubnetBroadcast && !Address.IsAny);
        if (src.IsAny && !broadcast) return NetError.NoAddress;

        MacAddress mac = default;
        int arpSlot = -1;
        if (broadcast) mac = MacAddress.Broadcast;
        else if (destination.IsMulticast) mac = MacAddress.ForIpv4Multicast(destination);
        else
        {
            var nextHop = OnLink(destination) ? destination : Gateway;
            if (nextHop.IsAny || destination == Address) { Drop(_stats.Ipv4, DropReason.Ipv4NoRoute); return NetError.HostUnreachable; }
            if (!ResolveNextHop(nextHop, now, out mac, out arpSlot)) return NetError.HostUnreachable;
        }

        ushort id = _identification++;
        if (total <= Mtu)
        {
            new Ipv4Header(src, destination, protocol, (ushort)total, id, _options.TimeToLive, dontFragment, TypeOfService: typeOfService).WriteTo(_tx.AsSpan(IpOffset));
            new EthernetHeader(mac, Mac, EtherType.Ipv4).WriteTo(_tx);
            _stats.Ipv4.SentCount++;
            Emit(_tx.AsSpan(0, EthernetSize + total), arpSlot, now);
            return NetError.None;
        }

        // RFC 791 fragmentation: every piece but the last a multiple of 8 bytes.
        int piece = (Mtu - Ipv4Header.MinimumSize) & ~7;
        for (int offset = 0; offset < payloadLength; offset += piece)
        {
            int length = Math.Min(piece, payloadLength - offset);
            bool more = offset + length < payloadLength;
            new Ipv4Header(src, destination, protocol, (ushort)(Ipv4Header.MinimumSize + length), id, _options.TimeToLive, false, more, offset, typeOfService)
                .WriteTo(_fragment.AsSpan(IpOffset));
            new EthernetHeader(mac, Mac, EtherType.Ipv4).WriteTo(_fragment);
            _tx.AsSpan(PayloadOffset + offset, length).CopyTo(_fragment.AsSpan(PayloadOffset));
            _stats.Ipv4.SentCount++;
            _stats.FragmentsSentCount++;
            Emit(_fragment.AsSpan(0, PayloadOffset + length), arpSlot, now);
        }
        return NetError.None;
    }

    private bool OnLink(Ipv4Address destination) => (destination.Value & Mask.Value) == (Address.Value & Mask.Value);

    // Finds the MAC of the next hop, or the ARP entry under which to queue while it resolves.
    private bool ResolveNextHop(Ipv4Address nextHop, TimeSpan now, out MacAddress mac, out int arpSlot)
    {
        arpSlot = -1;
        if (_arp.TryLookup(nextHop, now, out mac))
        {
            int slot = _arp.Find(nextHop);
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
        if (e.State == ArpCache.State.Reachable) _arp.Restart(arpSlot);   // expired: resolve again, keeping the slot
        if (e.LastRequest == TimeSpan.MinValue || now - e.LastRequest >= _options.ArpRequestInterval)
        {
            e.LastRequest = now;
            e.Attempts++;
            SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, nextHop);
            _stats.ArpRequestsSentCount++;
        }
        return true;
    }

    private void Emit(ReadOnlySpan<byte> frame, int arpSlot, TimeSpan now)
    {
        if (arpSlot < 0) { Transmit(frame, now); return; }
        if (!_arp.Enqueue(arpSlot, frame)) Drop(_stats.Arp, DropReason.ArpQueueFull);
    }

    private void Transmit(ReadOnlySpan<byte> frame, TimeSpan now)
    {
        if (frame.Length > _link.Capabilities.MaxFrameSize) { Drop(_stats.Link, DropReason.LinkFrameTooLarge); return; }
        Observer?.Invoke(frame, true, now);
        if (_link.TrySend(frame)) { _stats.Link.SentCount++; _stats.Ethernet.SentCount++; }
        else Drop(_stats.Link, DropReason.LinkTransmitFailed);
    }

    private void SendArp(ArpOperation operation, MacAddress ethernetDestination, MacAddress targetMac, Ipv4Address targetIp, Ipv4Address? senderIp = null)
    {
        new EthernetHeader(ethernetDestination, Mac, EtherType.Arp).WriteTo(_arpTx);
        new ArpHeader(operation, Mac, senderIp ?? Address, targetMac, targetIp).WriteTo(_arpTx.AsSpan(EthernetSize));
        _stats.Arp.SentCount++;
        Transmit(_arpTx, _lastNow);
    }

    private TimeSpan _lastNow;

    private void SendEchoReply(Ipv4Packet request, IcmpPacket icmp, TimeSpan now)
    {
        var message = icmp.Bytes;
        var payload = DatagramPayload;
        message.CopyTo(payload);
        payload[IcmpPacket.Field.Type] = (byte)IcmpType.EchoReply;
        payload[IcmpPacket.Field.Checksum] = 0;
        payload[IcmpPacket.Field.Checksum + 1] = 0;
        IcmpHeader.FillChecksum(payload[..message.Length]);
        if (SendDatagram(request.Source, IpProtocol.Icmp, message.Length, now) == NetError.None)
        {
            _stats.Icmp.SentCount++;
            _stats.EchoRepliesSentCount++;
        }
    }

    public NetError SendEchoRequest(Ipv4Address destination, ushort identifier, ushort sequence, int dataLength, TimeSpan now)
    {
        if (dataLength < 8 || dataLength > UdpEndpoint.MaximumPayload) return NetError.MessageTooLong;
        var payload = DatagramPayload;
        IcmpHeader.Echo(IcmpType.EchoRequest, identifier, sequence).WriteTo(payload);
        var data = payload.Slice(IcmpHeader.Size, dataLength);
        BinaryPrimitives.WriteInt64BigEndian(data, now.Ticks);
        for (int i = 8; i < dataLength; i++) data[i] = EchoClient.Pattern(i);
        IcmpHeader.FillChecksum(payload[..(IcmpHeader.Size + dataLength)]);
        var error = SendDatagram(destination, IpProtocol.Icmp, IcmpHeader.Size + dataLength, now);
        if (error == NetError.None) { _stats.Icmp.SentCount++; _stats.EchoRequestsSentCount++; }
        return error;
    }

    // RFC 1122 3.2.2: never about an ICMP error, a broadcast, a non-first fragment or a non-unicast source; rate-limited.
    private void SendIcmpError(Ipv4Packet offending, IcmpType type, byte code, TimeSpan now)
    {
        if (offending.FragmentOffset != 0 || offending.Source.IsAny || offending.Source.IsMulticast || offending.Source.IsLimitedBroadcast) return;
        if (offending.Protocol == IpProtocol.Icmp && offending.Payload.Length > 0 && (IcmpType)offending.Payload[0] is not (IcmpType.EchoRequest or IcmpType.EchoReply)) return;
        SendIcmpErrorQuoting(offending.Bytes, offending.Source, type, code, now);
    }

    private void SendIcmpErrorQuoting(ReadOnlySpan<byte> quoted, Ipv4Address to, IcmpType type, byte code, TimeSpan now)
    {
        if (!_icmpErrorBucket.TryTake(now)) { Drop(_stats.Icmp, DropReason.IcmpRateLimited); return; }
        var payload = DatagramPayload;
        new IcmpHeader(type, code).WriteTo(payload);
        int quoteLength = Math.Min(quoted.Length, IcmpQuoteLimit);
        quoted[..quoteLength].CopyTo(payload[IcmpHeader.Size..]);
        IcmpHeader.FillChecksum(payload[..(IcmpHeader.Size + quoteLength)]);
        // RFC 1812 4.3.2.5: ICMP errors carry precedence 6, internetwork control (as Linux sends them).
        if (SendDatagram(to, IpProtocol.Icmp, IcmpHeader.Size + quoteLength, now, typeOfService: 0xC0) == NetError.None)
        {
            _stats.Icmp.SentCount++;
            _stats.IcmpErrorsSentCount++;
        }
    }

    public NetError SendUdp(UdpEndpoint endpoint, Ipv4Address destination, ushort destinationPort, ReadOnlySpan<byte> payload)
    {
        var now = _lastNow;
        bool broadcast = destination.IsLimitedBroadcast || (destination == SubnetBroadcast && !Address.IsAny);
        if (broadcast && !endpoint.AllowBroadcast) return NetError.BroadcastNotAllowed;
        if (destinationPort == 0) return NetError.HostUnreachable;
        var datagram = DatagramPayload[..(UdpHeader.Size + payload.Length)];
        new UdpHeader(endpoint.LocalPort, destinationPort, (ushort)datagram.Length).WriteTo(datagram);
        payload.CopyTo(datagram[UdpHeader.Size..]);
        var source = endpoint.LocalAddress.IsAny ? Address : endpoint.LocalAddress;
        UdpHeader.FillChecksum(datagram, source, destination);
        var error = SendDatagram(destination, IpProtocol.Udp, datagram.Length, now, source: source);
        if (error == NetError.None) _stats.Udp.SentCount++;
        return error;
    }

    public NetError OpenUdp(Ipv4Address localAddress, ushort port, out UdpEndpoint? endpoint, int queueBytes = 0, int queueDatagrams = 0)
        => _udp.Open(this, localAddress, port, out endpoint, queueBytes, queueDatagrams);

    public EchoClient OpenEchoClient(NetworkStack stack, ushort identifier)
    {
        if (_echoClients.ContainsKey(identifier)) throw new InvalidOperationException($"an echo client with identifier {identifier} is open");
        var client = new EchoClient(stack, identifier, _options.EchoClientQueue);
        _echoClients.Add(identifier, client);
        return client;
    }

    public void CloseEchoClient(EchoClient client) => _echoClients.Remove(client.Identifier);

    // ---------------------------------------------------------------- timers

    public void PollTimers(TimeSpan now)
    {
        _lastNow = now;
        if (!_announced && !Address.IsAny)
        {
            _announced = true;
            StackLog.InterfaceUp(_log, Address, PrefixLength, Gateway, Mac, Mtu);
            if (_options.AnnounceOnUp)
            {
                // RFC 5227 2.3: an ARP announcement, sender and target both our address.
                SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, Address);
                _stats.GratuitousArpSentCount++;
            }
        }
        if (_arp.IncompleteCount > 0 || now >= _arp.EarliestExpiry) PollArpTimers(now);
        _tcp.Poll(now);
        while (_reassembler.TryExpire(now, out var quote))
        {
            Drop(_stats.Ipv4, DropReason.ReassemblyTimeout);
            // RFC 792: time exceeded (code 1, reassembly) when the first fragment was received.
            if (!quote.IsEmpty && Ipv4Packet.TryParse(quote, out _) is WireError.None or WireError.BadLength)
            {
                var src = Ipv4Address.Read(quote[Ipv4Packet.Field.Source..]);
                if (!src.IsAny && !src.IsMulticast && !src.IsLimitedBroadcast) SendIcmpErrorQuoting(quote, src, IcmpType.TimeExceeded, 1, now);
            }
        }
    }

    private void PollArpTimers(TimeSpan now)
    {
        var earliest = TimeSpan.MaxValue;
        for (int i = 0; i < _arp.Capacity; i++)
        {
            ref var e = ref _arp[i];
            if (e.State == ArpCache.State.Reachable && e.Expires > now && e.Expires < earliest) earliest = e.Expires;
            if (e.State == ArpCache.State.Incomplete && now - e.LastRequest >= _options.ArpRequestInterval)
            {
                if (e.Attempts >= _options.ArpRequestAttempts)
                {
                    var address = e.Address;
                    int dropped = _arp.Remove(i);
                    for (int d = 0; d < dropped; d++) Drop(_stats.Arp, DropReason.ArpResolutionFailed);
                    StackLog.ArpResolutionFailed(_log, address, dropped);
                }
                else
                {
                    e.LastRequest = now;
                    e.Attempts++;
                    SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, e.Address);
                    _stats.ArpRequestsSentCount++;
                }
            }
            else if (e.State == ArpCache.State.Reachable && now >= e.Expires)
            {
                _arp.Remove(i);
            }
        }
        _arp.EarliestExpiry = earliest;
    }

    public TimeSpan? NextDeadline(TimeSpan now)
    {
        if (!_announced && !Address.IsAny) return now;
        TimeSpan? next = _reassembler.NextDeadline;
        if (_tcp.NextDeadline(now) is TimeSpan tcp && (next is null || tcp < next)) next = tcp;
        if (_arp.IncompleteCount == 0) return next;
        for (int i = 0; i < _arp.Capacity; i++)
        {
            ref var e = ref _arp[i];
            if (e.State != ArpCache.State.Incomplete) continue;
            var due = e.LastRequest + _options.ArpRequestInterval;
            if (next is null || due < next) next = due;
        }
        return next;
    }

    private void Drop(ProtocolCounters counters, DropReason reason, bool error = false)
    {
        _stats.Drop(counters, reason, error);
        if (_log.IsEnabled(LogLevel.Debug)) StackLog.Dropped(_log, reason);
    }

    public void SetNow(TimeSpan now) => _lastNow = now;

    public TimeSpan Now => _lastNow;
}
