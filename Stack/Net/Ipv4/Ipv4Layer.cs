using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Storage;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv4;

/// <summary>
/// IPv4 on an Ethernet interface: the address and its routes, ARP (<c>Ipv4Layer.Arp.cs</c>), validation of received
/// packets, reassembly, ICMP (<c>Ipv4Layer.Icmp.cs</c>), and building, routing, fragmenting and resolving what the
/// transports send. UDP and TCP are the <see cref="InternetLayer"/>'s, shared with IPv6.
/// </summary>
internal sealed partial class Ipv4Layer
{
    private const int EthernetSize = EthernetHeader.Size;
    // In the interface's transmit buffer the transport payload sits at HeaderRoom; the IPv4 header goes right before it.
    private const int PayloadOffset = EthernetInterface.HeaderRoom;
    private const int IpOffset = PayloadOffset - Ipv4Header.MinimumSize;
    private const int FrameOffset = IpOffset - EthernetSize;
    // In the fragment buffer a frame starts at 0.
    private const int FragmentPayloadOffset = EthernetSize + Ipv4Header.MinimumSize;

    private readonly NetworkStackOptions _options;
    private readonly EthernetInterface _ethernet;
    private readonly InternetLayer _internet;
    private readonly StackStatistics _stats;
    private readonly ILogger _log;
    private readonly NeighbourCache _arp;
    private readonly FragmentReassembler _reassembler;
    private readonly HashSet<uint> _multicastGroups = new(16);
    private readonly byte[] _tx;
    private ushort _identification;
    private bool _announced;

    public Ipv4Layer(NetworkStackOptions options, EthernetInterface ethernet, InternetLayer internet, StackStatistics stats, ILogger logger, IRandomSource random)
    {
        _options = options;
        _ethernet = ethernet;
        _internet = internet;
        _stats = stats;
        _log = logger;
        _tx = ethernet.TransmitBuffer;
        _arp = ethernet.Arp;
        _arpTx = new byte[EthernetSize + ArpHeader.Size];
        SetAddress(options.Address, options.PrefixLength, options.Gateway);
        _reassembler = new FragmentReassembler(options, options.ReassemblyTimeout);
        _icmpErrorBucket = new TokenBucket(options.IcmpErrorsPerSecond, options.IcmpErrorBurst);
        _identification = (ushort)random.NextUInt32();
        InitialiseIgmp(random);
        JoinMulticast(AllSystems, TimeSpan.Zero);   // 224.0.0.1, all hosts (RFC 1112), never reported
    }

    public Ipv4Address Address { get; private set; }
    public int PrefixLength { get; private set; }
    public Ipv4Address Gateway { get; private set; }
    public Ipv4Address Mask { get; private set; }
    public Ipv4Address SubnetBroadcast { get; set; }
    public MacAddress Mac => _ethernet.Mac;
    public int Mtu => _ethernet.Mtu;
    internal FragmentReassembler Reassembler => _reassembler;

    public void SetAddress(Ipv4Address address, int prefixLength, Ipv4Address gateway)
    {
        Address = address;
        PrefixLength = prefixLength;
        Gateway = gateway;
        Mask = Ipv4Address.MaskFromPrefix(prefixLength);
        SubnetBroadcast = prefixLength >= 31 ? Ipv4Address.Broadcast : new Ipv4Address(address.Value | ~Mask.Value);
        _announced = false;
    }

    /// <summary>True when this stack is in <paramref name="group"/>.</summary>
    public bool IsMember(Ipv4Address group) => _multicastGroups.Contains(group.Value);

    /// <summary>The limited broadcast, or our subnet's once we have an address.</summary>
    public bool IsBroadcast(Ipv4Address destination) => destination.IsLimitedBroadcast || (destination == SubnetBroadcast && !Address.IsAny);

    // ---------------------------------------------------------------- receive

    // RFC 2131 4.1 (lwIP's LWIP_IP_ACCEPT_UDP_PORT): before it has an address, the host takes a DHCP reply sent
    // unicast to the address being offered, as servers do when the client does not set the broadcast flag.
    private static bool IsForDhcpClient(Ipv4Packet ip)
        => ip.Protocol == IpProtocol.Udp && !ip.IsFragment && ip.Payload.Length >= UdpHeader.Size
           && BinaryPrimitives.ReadUInt16BigEndian(ip.Payload[2..]) == 68;

    /// <summary>
    /// Gateway mode: unicast packets to any address are taken as if they were ours (the gateway terminates what a guest
    /// sends anywhere); replies go out from the address the guest sent to. Set by <see cref="Gateway.GatewayHost"/>.
    /// </summary>
    internal bool AcceptAnyDestination { get; set; }

    public void ProcessPacket(ReadOnlySpan<byte> bytes, TimeSpan now)
    {
        var ip = Ipv4Packet.Parse(bytes, out var parsed);
        if (parsed != WireError.None) { Drop(_stats.Ipv4, DropReason.Ipv4Malformed, true); return; }
        if (!ip.IsChecksumValid) { Drop(_stats.Ipv4, DropReason.Ipv4BadChecksum, true); return; }
        var source = ip.Source;
        if (source.IsMulticast || source.IsLimitedBroadcast || (source == Address && !Address.IsAny))
        {
            Drop(_stats.Ipv4, DropReason.Ipv4BadSource, true);
            return;
        }
        var destination = ip.Destination;
        bool toUs = destination == Address && !Address.IsAny;   // the common case, told before the broadcast tests
        bool subnetBroadcast = !toUs && IsBroadcast(destination);
        bool broadcast = subnetBroadcast || destination.IsMulticast;
        if (!toUs)
        {
            bool accepted = subnetBroadcast
                            || (destination.IsMulticast && _multicastGroups.Contains(destination.Value))
                            || (Address.IsAny && IsForDhcpClient(ip))
                            || (AcceptAnyDestination && !destination.IsAny && !destination.IsMulticast && !destination.IsLoopback);
            if (!accepted) { Drop(_stats.Ipv4, DropReason.Ipv4NotForUs); return; }
        }
        _stats.Ipv4.ReceivedCount++;

        if (ip.IsFragment) { ProcessFragment(ip, broadcast, now); return; }
        Deliver(ip, broadcast, !_ethernet.ChecksumOffload, now);
    }

    // A fragment into reassembly, the whole datagram delivered when it completes: out of line, so that the JIT's
    // inlining budget for ProcessPacket goes to the unfragmented path.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ProcessFragment(in Ipv4Packet ip, bool broadcast, TimeSpan now)
    {
        _stats.FragmentsReceivedCount++;
        var fragment = new FragmentReassembler.Fragment(ip.Source, ip.Destination, ip.Identification, ip.Protocol, ip.FragmentOffset, ip.MoreFragments, DropReason.Ipv4Malformed,
            (IpEcn)(ip.TypeOfService & 3));
        var reason = _reassembler.Add(fragment, ip.Header, ip.Payload, Ipv4Header.MaximumPacketSize - ip.HeaderLength, now, out var whole, out int headerLength, out var ecn);
        if (_reassembler.Evicted > 0)
        {
            for (int i = 0; i < _reassembler.Evicted; i++) Drop(_stats.Ipv4, DropReason.ReassemblyEvicted);
            _reassembler.Evicted = 0;
        }
        if (reason is DropReason r) { Drop(_stats.Ipv4, r, r is DropReason.ReassemblyOverlap or DropReason.ReassemblyTooLarge or DropReason.Ipv4Malformed); return; }
        if (whole.IsEmpty) return;
        _stats.DatagramsReassembledCount++;
        // The first fragment's header becomes the whole datagram's.
        BinaryPrimitives.WriteUInt16BigEndian(whole[Ipv4Packet.Field.TotalLength..], (ushort)whole.Length);
        whole[Ipv4Packet.Field.FlagsFragment] &= 0x40;   // keep DF, clear MF and the offset
        whole[Ipv4Packet.Field.FlagsFragment + 1] = 0;
        whole[Ipv4Packet.Field.Tos] = (byte)((whole[Ipv4Packet.Field.Tos] & ~3) | (int)ecn);   // RFC 3168 5.3: CE on any fragment, CE on the whole
        whole[Ipv4Packet.Field.Checksum] = 0;
        whole[Ipv4Packet.Field.Checksum + 1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(whole[Ipv4Packet.Field.Checksum..], InternetChecksum.Compute(whole[..headerLength]));
        Ipv4Packet.TryParse(whole, out var reassembled);
        // A link's checksum offload vouches for frames, not for a datagram put together from several: check it here.
        Deliver(reassembled, broadcast, verifyChecksum: true, now);
    }

    private void Deliver(in Ipv4Packet ip, bool broadcast, bool verifyChecksum, TimeSpan now)
    {
        switch (ip.Protocol)
        {
            case IpProtocol.Igmp:
                ProcessIgmp(ip, now);
                break;
            case IpProtocol.Icmp:
                if (broadcast) { Drop(_stats.Icmp, DropReason.Ipv4NotForUs); return; }   // no echo to broadcast, as Linux
                ProcessIcmp(ip, now);
                break;
            case IpProtocol.Udp:
                if (!_internet.DeliverUdp(ip.Source, ip.Destination, broadcast, ip.Payload, verifyChecksum) && !broadcast)
                    SendIcmpError(ip, IcmpType.DestinationUnreachable, 3, now);   // RFC 1122 4.1.3.1
                break;
            case IpProtocol.Tcp:
                if (broadcast) { Drop(_stats.Tcp, DropReason.TcpBroadcast); return; }
                _internet.DeliverTcp(ip.Source, ip.Destination, ip.Payload, ip.Bytes.Length, verifyChecksum, now, (IpEcn)(ip.TypeOfService & 3));
                break;
            default:
                Drop(_stats.Ipv4, DropReason.Ipv4UnknownProtocol);
                if (!broadcast) SendIcmpError(ip, IcmpType.DestinationUnreachable, 2, now);   // protocol unreachable
                break;
        }
    }

    // ---------------------------------------------------------------- send

    /// <summary>Where a datagram's transport payload is written before <see cref="SendDatagram"/>.</summary>
    public Span<byte> DatagramPayload => _tx.AsSpan(PayloadOffset, Ipv4Header.MaximumPacketSize - Ipv4Header.MinimumSize);

    /// <summary>Sends the datagram whose payload is in <see cref="DatagramPayload"/>: routes, fragments, resolves, transmits.</summary>
    public NetError SendDatagram(Ipv4Address destination, IpProtocol protocol, int payloadLength, TimeSpan now, bool dontFragment = false, Ipv4Address? source = null, byte typeOfService = 0, int timeToLive = -1)
    {
        byte ttl = timeToLive >= 0 ? (byte)timeToLive : _options.TimeToLive;
        var src = source ?? Address;
        int total = Ipv4Header.MinimumSize + payloadLength;
        if (total > Ipv4Header.MaximumPacketSize || (dontFragment && total > Mtu)) { Drop(_stats.Ipv4, DropReason.Ipv4TooLarge); return NetError.MessageTooLong; }
        bool broadcast = IsBroadcast(destination);
        if (src.IsAny && !broadcast) return NetError.NoAddress;

        MacAddress mac = default;
        int arpSlot = -1;
        if (broadcast) mac = MacAddress.Broadcast;
        else if (destination.IsMulticast) mac = MacAddress.ForIpv4Multicast(destination);
        else
        {
            var nextHop = OnLink(destination) || _ethernet.IsIpLink ? destination : Gateway;   // an IP link reaches everything
            if (nextHop.IsAny || destination == Address) { Drop(_stats.Ipv4, DropReason.Ipv4NoRoute); return NetError.HostUnreachable; }
            if (!ResolveNextHop(nextHop, now, out mac, out arpSlot)) return NetError.HostUnreachable;
        }

        ushort id = _identification++;
        if (total <= Mtu)
        {
            new Ipv4Header(src, destination, protocol, (ushort)total, id, ttl, dontFragment, TypeOfService: typeOfService).WriteTo(_tx.AsSpan(IpOffset));
            new EthernetHeader(mac, Mac, EtherType.Ipv4).WriteTo(_tx.AsSpan(FrameOffset));
            _stats.Ipv4.SentCount++;
            _ethernet.Emit(_tx.AsSpan(FrameOffset, EthernetSize + total), _arp, arpSlot, now);
            return NetError.None;
        }

        // RFC 791 fragmentation: every piece but the last a multiple of 8 bytes.
        var fragment = _ethernet.FragmentBuffer;
        int piece = (Mtu - Ipv4Header.MinimumSize) & ~7;
        for (int offset = 0; offset < payloadLength; offset += piece)
        {
            int length = Math.Min(piece, payloadLength - offset);
            bool more = offset + length < payloadLength;
            new Ipv4Header(src, destination, protocol, (ushort)(Ipv4Header.MinimumSize + length), id, ttl, false, more, offset, typeOfService)
                .WriteTo(fragment.AsSpan(EthernetSize));
            new EthernetHeader(mac, Mac, EtherType.Ipv4).WriteTo(fragment);
            _tx.AsSpan(PayloadOffset + offset, length).CopyTo(fragment.AsSpan(FragmentPayloadOffset));
            _stats.Ipv4.SentCount++;
            _stats.FragmentsSentCount++;
            _ethernet.Emit(fragment.AsSpan(0, FragmentPayloadOffset + length), _arp, arpSlot, now);
        }
        return NetError.None;
    }

    // RFC 3927 2.6.2: link-local destinations (169.254/16) are on the link whatever our address, never sent to the
    // gateway; and a host with only a link-local address and no gateway ARPs for every destination directly.
    private bool OnLink(Ipv4Address destination)
        => (destination.Value & Mask.Value) == (Address.Value & Mask.Value) || IsLinkLocal(destination) || (IsLinkLocal(Address) && Gateway.IsAny);

    /// <summary>True for 169.254.0.0/16 (RFC 3927).</summary>
    public static bool IsLinkLocal(Ipv4Address address) => address.Value >> 16 == 0xA9FE;

    /// <summary>A source on this link: in our subnet (once we have an address) or IPv4 link-local (RFC 6762 11's check for multicast DNS).</summary>
    internal bool IsOnLinkSource(Ipv4Address source)
        => IsLinkLocal(source) || (!Address.IsAny && (source.Value & Mask.Value) == (Address.Value & Mask.Value));

    /// <summary>The largest TCP segment (header and payload) in one IPv4 packet of the MTU.</summary>
    public int MaxTcpSegment => Mtu - Ipv4Header.MinimumSize;

    /// <summary>The largest TCP segment the link takes to cut itself (TSO), or <see cref="MaxTcpSegment"/> without the offload.</summary>
    public int MaxOffloadTcpSegment => _ethernet.Capabilities.TcpSegmentationOffload
        ? Math.Min(Ipv4Header.MaximumPacketSize, _ethernet.Capabilities.MaxFrameSize - EthernetSize) - Ipv4Header.MinimumSize
        : Mtu - Ipv4Header.MinimumSize;

    /// <summary>Sends the TCP segment in <see cref="DatagramPayload"/>; <paramref name="ecn"/> goes in the TOS byte's low bits (RFC 3168 5).</summary>
    public NetError SendTcpSegment(Ipv4Address source, Ipv4Address destination, int length, TimeSpan now, int segmentSize, IpEcn ecn = IpEcn.NotEct,
                                   int summedFrom = 0, uint payloadSum = 0)
    {
        // TCP passes a segment size only for a segment that carries more than one wire segment's payload.
        if (segmentSize > 0 && _ethernet.Capabilities.TcpSegmentationOffload)
            return SendLargeTcpSegment(source, destination, length, segmentSize, now, ecn);
        // The payload's sum was taken as it was copied in (issue 18 item 2): only the header is summed here.
        if (summedFrom > 0) TcpHeader.FillChecksumFromPayloadSum(DatagramPayload[..length], source, destination, summedFrom, payloadSum);
        else TcpHeader.FillChecksum(DatagramPayload[..length], source, destination);
        var error = SendDatagram(destination, IpProtocol.Tcp, length, now, dontFragment: true, source: source, typeOfService: (byte)ecn);
        if (error == NetError.None) _stats.Tcp.SentCount++;
        return error;
    }

    // A TCP segment larger than the MTU for a link that cuts it itself (TSO): the TCP checksum field holds the folded
    // pseudo-header sum (a partial checksum, as Linux's CHECKSUM_PARTIAL), the link completes each piece's checksum.
    // Sent only to a resolved neighbour: the ARP queue holds MTU-sized frames (TCP sends again once resolved).
    private NetError SendLargeTcpSegment(Ipv4Address source, Ipv4Address destination, int length, int segmentSize, TimeSpan now, IpEcn ecn)
    {
        int total = Ipv4Header.MinimumSize + length;
        if (total > Ipv4Header.MaximumPacketSize || EthernetSize + total > _ethernet.Capabilities.MaxFrameSize) { Drop(_stats.Ipv4, DropReason.Ipv4TooLarge); return NetError.MessageTooLong; }
        if (source.IsAny) return NetError.NoAddress;
        var nextHop = OnLink(destination) || _ethernet.IsIpLink ? destination : Gateway;
        if (nextHop.IsAny || destination == Address) { Drop(_stats.Ipv4, DropReason.Ipv4NoRoute); return NetError.HostUnreachable; }
        if (!ResolveNextHop(nextHop, now, out var mac, out int arpSlot)) return NetError.HostUnreachable;
        if (arpSlot >= 0) { Drop(_stats.Arp, DropReason.ArpQueueFull); return NetError.HostUnreachable; }
        var segment = DatagramPayload[..length];
        ushort partial = (ushort)~InternetChecksum.Finish(InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Tcp, length));
        BinaryPrimitives.WriteUInt16BigEndian(segment[TcpSegment.Field.Checksum..], partial);
        new Ipv4Header(source, destination, IpProtocol.Tcp, (ushort)total, _identification++, _options.TimeToLive, true, TypeOfService: (byte)ecn).WriteTo(_tx.AsSpan(IpOffset));
        new EthernetHeader(mac, Mac, EtherType.Ipv4).WriteTo(_tx.AsSpan(FrameOffset));
        var frame = _tx.AsSpan(FrameOffset, EthernetSize + total);
        if (_ethernet.TrySendTcpSegments(frame, segmentSize, now))
        {
            _stats.Ipv4.SentCount++;
            _stats.Tcp.SentCount++;
            _stats.TcpSegmentsOffloadedCount++;
            return NetError.None;
        }
        // The link refused it (a wrapper without the offload, a kernel that rejects the header): cut it here instead.
        _ethernet.SegmentTcpInSoftware(frame, Ipv4Header.MinimumSize, segmentSize, Mtu, source, destination, _options.TimeToLive, ref _identification, _stats.Ipv4, now);
        return NetError.None;
    }

    // ---------------------------------------------------------------- timers

    /// <summary>The announcement once an address is set, and ARP's retries and expiry.</summary>
    public void PollNeighbours(TimeSpan now)
    {
        // Inlined into every poll: two tests, the work out of line.
        if (!_announced) AnnounceOnce();
        if (_arp.IncompleteCount > 0 || now >= _arp.EarliestExpiry) PollArpTimers(now);
    }

    private void AnnounceOnce()
    {
        if (!Address.IsAny)
        {
            _announced = true;
            StackLog.InterfaceUp(_log, Address, PrefixLength, Gateway, Mac, Mtu);
            if (_options.AnnounceOnUp && !_ethernet.IsIpLink)
            {
                // RFC 5227 2.3: an ARP announcement, sender and target both our address.
                SendArp(ArpOperation.Request, MacAddress.Broadcast, MacAddress.Zero, Address);
                _stats.GratuitousArpSentCount++;
            }
        }
    }

    /// <summary>Datagrams whose fragments did not all arrive in time.</summary>
    public void PollReassembly(TimeSpan now)
    {
        if (_reassembler.SlotsInUse > 0) ExpireReassembly(now);   // inlined into every poll: one test, the work out of line
    }

    private void ExpireReassembly(TimeSpan now)
    {
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

    public TimeSpan? NextDeadline(TimeSpan now)
    {
        if (!_announced && !Address.IsAny) return now;
        TimeSpan? next = _reassembler.NextDeadline;
        if (IgmpDeadline() is TimeSpan igmp && (next is null || igmp < next)) next = igmp;
        if (_arp.IncompleteCount == 0) return next;
        for (int i = 0; i < _arp.Capacity; i++)
        {
            ref var e = ref _arp[i];
            if (e.State != NeighbourCache.State.Incomplete) continue;
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
}
