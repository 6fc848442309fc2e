using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Storage;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv6;

/// <summary>
/// IPv6 on an Ethernet interface (RFC 8200): validation of received packets and their extension-header chain,
/// reassembly, delivery to the shared transports, and building, routing, fragmenting and resolving what they send.
/// Addressing (link-local, SLAAC, DAD, router discovery) is in <c>Ipv6Layer.Addresses.cs</c>, Neighbour Discovery in
/// <c>Ipv6Layer.Neighbours.cs</c>, ICMPv6 in <c>Ipv6Layer.Icmp.cs</c>, MLD in <c>Ipv6Layer.Mld.cs</c>.
/// Owned by the stack thread; allocates nothing per packet after warm-up.
/// </summary>
internal sealed partial class Ipv6Layer
{
    private const int EthernetSize = EthernetHeader.Size;
    // In the interface's transmit buffer the transport payload sits at HeaderRoom; the IPv6 header goes right before it
    // and the Ethernet header before that, so a frame starts at 0.
    private const int PayloadOffset = EthernetInterface.HeaderRoom;
    private const int IpOffset = PayloadOffset - Ipv6Header.Size;
    // In the fragment buffer: Ethernet, IPv6, the fragment header, then the piece.
    private const int FragmentPayloadOffset = EthernetSize + Ipv6Header.Size + Ipv6FragmentHeader.Size;
    /// <summary>The largest payload an IPv6 header can say (no jumbograms).</summary>
    public const int MaximumPayload = 65535;

    private readonly Ipv6Options _options;
    private readonly bool _answerEchoRequests;
    private readonly EthernetInterface _ethernet;
    private readonly InternetLayer _internet;
    private readonly StackStatistics _stats;
    private readonly ILogger _log;
    private readonly IRandomSource _random;
    private readonly NeighbourCache _nd;
    private readonly FragmentReassembler _reassembler;
    private readonly byte[] _tx;
    private readonly byte[] _control = new byte[EthernetSize + Ipv6Header.MinimumMtu];   // ND and MLD messages: never the packet being built
    private readonly DestinationEntry[] _destinations;
    private TokenBucket _icmpErrorBucket;
    private int _destinationsInUse;   // entries of _destinations with a path MTU: none, the common case, skips the scan
    private uint _fragmentId;
    private TimeSpan _nextTimer = TimeSpan.MaxValue;
    // The earliest of _nextTimer and the reassembly deadlines (never later than either; MinValue until the first poll
    // has started the layer): PollTimers compares with this alone.
    private TimeSpan _timersDue = TimeSpan.MinValue;

    private struct DestinationEntry
    {
        public Ipv6Address Destination;
        public int Mtu;                 // 0: free
        public TimeSpan Expires;
    }

    public Ipv6Layer(NetworkStackOptions stackOptions, Ipv6Options options, EthernetInterface ethernet, InternetLayer internet,
        StackStatistics stats, ILogger logger, IRandomSource random)
    {
        _options = options;
        _answerEchoRequests = stackOptions.AnswerEchoRequests;
        _ethernet = ethernet;
        _internet = internet;
        _stats = stats;
        _log = logger;
        _random = random;
        _tx = ethernet.TransmitBuffer;
        _nd = ethernet.Nd;
        _reassembler = new FragmentReassembler(stackOptions, options.ReassemblyTimeout);
        _icmpErrorBucket = new TokenBucket(stackOptions.IcmpErrorsPerSecond, stackOptions.IcmpErrorBurst);
        _destinations = new DestinationEntry[Math.Max(1, options.DestinationCacheSize)];
        _addresses = new AddressEntry[Math.Max(1, options.MaxAddresses)];
        _prefixes = new PrefixEntry[Math.Max(1, options.MaxPrefixes)];
        _routers = new RouterEntry[Math.Max(1, options.MaxRouters)];
        _groups = new GroupEntry[Math.Max(8, options.MaxAddresses + 8)];
        _fragmentId = random.NextUInt32();
        HopLimit = options.HopLimit;
        ReachableTime = options.ReachableTime;
        RetransmitTimer = options.RetransmitTimer;
        LinkMtu = Math.Max(Ipv6Header.MinimumMtu, ethernet.Mtu);
        InterfaceIdentifier = ModifiedEui64(ethernet.Mac);
    }

    public MacAddress Mac => _ethernet.Mac;
    /// <summary>The hop limit of packets we send (a router advertisement may set it).</summary>
    public byte HopLimit { get; private set; }
    /// <summary>The link MTU for IPv6 (the interface's, or lower from a router advertisement's MTU option).</summary>
    public int LinkMtu { get; private set; }
    internal FragmentReassembler Reassembler => _reassembler;
    internal NeighbourCache Neighbours => _nd;

    // ---------------------------------------------------------------- receive

    /// <summary>
    /// Gateway mode: unicast packets to any address are taken as if they were ours (the gateway terminates what a guest
    /// sends anywhere); replies go out from the address the guest sent to. Set by <see cref="Gateway.GatewayHost"/>.
    /// </summary>
    internal bool AcceptAnyDestination { get; set; }

    public void ProcessPacket(ReadOnlySpan<byte> bytes, MacAddress sourceMac, TimeSpan now)
    {
        var ip = Ipv6Packet.Parse(bytes, out var parsed);
        if (parsed != WireError.None) { Drop(_stats.Ipv6, DropReason.Ipv6Malformed, true); return; }
        var source = ip.Source;
        var destination = ip.Destination;
        if (source.IsMulticast) { Drop(_stats.Ipv6, DropReason.Ipv6BadSource, true); return; }
        if (!IsForUs(destination, ip, out bool tentative)) { Drop(_stats.Ipv6, DropReason.Ipv6NotForUs); return; }
        var walk = ip.TryWalkHeaders(out var chain);
        if (walk != WireError.None)
        {
            Drop(_stats.Ipv6, DropReason.Ipv6Malformed, true);
            if (chain.SendsParameterProblem(destination.IsMulticast))
                SendIcmpError(ip, Icmpv6Header.ParameterProblem(chain.ProblemCode, (uint)chain.ProblemPointer), now, multicastAllowed: true);
            return;
        }
        _stats.Ipv6.ReceivedCount++;
        // RFC 4862 5.4: a tentative address takes only Neighbour Discovery (the DAD exchange) until it is checked.
        if (tentative && chain.UpperLayerProtocol != IpProtocol.Icmpv6) { Drop(_stats.Ipv6, DropReason.Ipv6NotForUs); return; }

        if (chain.NeedsReassembly)
        {
            ProcessFragment(ip, chain, now);
            return;
        }
        Deliver(ip, chain, !_ethernet.ChecksumOffload, sourceMac, now);
    }

    private bool IsForUs(Ipv6Address destination, in Ipv6Packet ip, out bool tentative)
    {
        tentative = false;
        if (destination.IsMulticast) return IsJoined(destination);
        int a = FindAddress(destination);
        if (a < 0) return AcceptAnyDestination && !destination.IsUnspecified;
        tentative = _addresses[a].State is Ipv6AddressState.Tentative or Ipv6AddressState.Duplicate;
        return true;
    }

    private void Deliver(in Ipv6Packet ip, in Ipv6HeaderChain chain, bool verifyChecksum, MacAddress sourceMac, TimeSpan now)
    {
        var upper = ip.Bytes[chain.UpperLayerOffset..];
        bool multicast = ip.Destination.IsMulticast;
        switch (chain.UpperLayerProtocol)
        {
            case IpProtocol.Icmpv6:
                ProcessIcmpv6(ip, upper, chain, sourceMac, now);
                break;
            case IpProtocol.Udp:
                if (!_internet.DeliverUdp(ip.Source, ip.Destination, multicast, upper, verifyChecksum) && !multicast)
                    SendIcmpError(ip, new Icmpv6Header(Icmpv6Type.DestinationUnreachable, 4), now);   // port unreachable, RFC 4443 3.1
                break;
            case IpProtocol.Tcp:
                if (multicast) { Drop(_stats.Tcp, DropReason.TcpBroadcast); return; }
                _internet.DeliverTcp(ip.Source, ip.Destination, upper, ip.Bytes.Length, verifyChecksum, now, (IpEcn)(ip.TrafficClass & 3));
                break;
            case IpProtocol.Ipv6NoNextHeader:
                break;   // RFC 8200 4.7: nothing follows; nothing to do
            default:
                Drop(_stats.Ipv6, DropReason.Ipv6UnknownProtocol);
                // RFC 8200 4: an unrecognised next header: parameter problem code 1, pointing at that next-header field.
                SendIcmpError(ip, Icmpv6Header.ParameterProblem(Icmpv6ParameterProblemCode.UnrecognizedNextHeader, (uint)NextHeaderFieldOffset(ip.Bytes, chain.UpperLayerOffset)), now);
                break;
        }
    }

    // The offset of the field that named the upper-layer protocol: the IPv6 header's Next Header, or the last extension header's.
    private static int NextHeaderFieldOffset(ReadOnlySpan<byte> packet, int upperLayerOffset)
    {
        int field = Ipv6Packet.Field.NextHeader, offset = Ipv6Header.Size;
        var next = (IpProtocol)packet[Ipv6Packet.Field.NextHeader];
        while (offset < upperLayerOffset && offset + 2 <= packet.Length)
        {
            field = offset;
            int length = next == IpProtocol.Ipv6Fragment ? Ipv6FragmentHeader.Size
                : next == IpProtocol.AuthenticationHeader ? (packet[offset + 1] + 2) * 4 : (packet[offset + 1] + 1) * 8;
            next = (IpProtocol)packet[offset];
            offset += length;
        }
        return field;
    }

    // RFC 8200 4.5: the unfragmentable part (IPv6 header and the extension headers before the fragment header) is kept
    // from the first fragment; the fragment header is removed and its Next Header written where it was named.
    private void ProcessFragment(Ipv6Packet ip, in Ipv6HeaderChain chain, TimeSpan now)
    {
        _stats.Ipv6FragmentsReceivedCount++;
        var f = chain.Fragment!.Value;
        int fragmentable = chain.FragmentHeaderOffset + Ipv6FragmentHeader.Size;
        var key = new FragmentReassembler.Fragment(ip.Source, ip.Destination, f.Identification, 0, f.Offset, f.MoreFragments, DropReason.Ipv6Malformed,
            (IpEcn)(ip.TrafficClass & 3));
        var reason = _reassembler.Add(key, ip.Bytes[..chain.FragmentHeaderOffset], ip.Bytes[fragmentable..],
            MaximumPayload - (chain.FragmentHeaderOffset - Ipv6Header.Size), now, out var whole, out int headerLength, out var ecn);
        if (_reassembler.NextDeadline is TimeSpan expiry && expiry < _timersDue) _timersDue = expiry;   // a new datagram's timeout
        if (_reassembler.Evicted > 0)
        {
            for (int i = 0; i < _reassembler.Evicted; i++) Drop(_stats.Ipv6, DropReason.ReassemblyEvicted);
            _reassembler.Evicted = 0;
        }
        if (reason is DropReason r)
        {
            Drop(_stats.Ipv6, r, r is DropReason.ReassemblyOverlap or DropReason.ReassemblyTooLarge or DropReason.Ipv6Malformed);
            // RFC 8200 4.5: a fragment that would make the packet exceed 65,535 bytes gets a parameter problem.
            if (r == DropReason.ReassemblyTooLarge)
                SendIcmpError(ip, Icmpv6Header.ParameterProblem(Icmpv6ParameterProblemCode.ErroneousHeaderField, (uint)(chain.FragmentHeaderOffset + 2)), now);
            return;
        }
        if (whole.IsEmpty) return;
        _stats.Ipv6ReassembledCount++;
        whole[NextHeaderFieldOffset(whole, headerLength)] = (byte)f.NextHeader;
        BinaryPrimitives.WriteUInt16BigEndian(whole[Ipv6Packet.Field.PayloadLength..], (ushort)(whole.Length - Ipv6Header.Size));
        // RFC 3168 5.3: CE on any fragment, CE on the whole (the ECN bits are bits 20-21 of the first word, byte 1's 0x30).
        whole[1] = (byte)((whole[1] & ~0x30) | (int)ecn << 4);
        if (Ipv6Packet.TryParse(whole, out var reassembled) != WireError.None || reassembled.TryWalkHeaders(out var wholeChain) != WireError.None)
        {
            Drop(_stats.Ipv6, DropReason.Ipv6Malformed, true);
            return;
        }
        // A link's checksum offload vouches for frames, not for a packet put together from several.
        Deliver(reassembled, wholeChain, verifyChecksum: true, default, now);
    }

    // ---------------------------------------------------------------- send

    /// <summary>Where a packet's upper-layer payload is written before <see cref="SendPacket"/>.</summary>
    public Span<byte> PacketPayload => _tx.AsSpan(PayloadOffset, MaximumPayload);

    /// <summary>
    /// Sends the packet whose upper-layer payload is in <see cref="PacketPayload"/>: chooses the source when
    /// <paramref name="source"/> is unspecified, routes, fragments to the path MTU, resolves the next hop, transmits.
    /// </summary>
    public NetError SendPacket(Ipv6Address source, Ipv6Address destination, IpProtocol protocol, int payloadLength, TimeSpan now, byte hopLimit = 0, byte trafficClass = 0)
    {
        if (payloadLength > MaximumPayload) { Drop(_stats.Ipv6, DropReason.Ipv6TooLarge); return NetError.MessageTooLong; }
        if (source.IsUnspecified) source = SelectSource(destination);
        if (source.IsUnspecified) { Drop(_stats.Ipv6, DropReason.Ipv6NoRoute); return NetError.NoAddress; }
        if (!Route(destination, now, out var mac, out int slot, out var error)) return error;
        int mtu = PathMtu(destination, now);
        int total = Ipv6Header.Size + payloadLength;
        byte hops = hopLimit != 0 ? hopLimit : HopLimit;
        if (total <= mtu)
        {
            new Ipv6Header(source, destination, protocol, (ushort)payloadLength, hops, trafficClass).WriteTo(_tx.AsSpan(IpOffset));
            new EthernetHeader(mac, Mac, EtherType.Ipv6).WriteTo(_tx);
            _stats.Ipv6.SentCount++;
            _ethernet.Emit(_tx.AsSpan(0, EthernetSize + total), _nd, slot, now);
            return NetError.None;
        }

        // RFC 8200 4.5: fragments of the path MTU, every piece but the last a multiple of 8 bytes, one identification.
        var fragment = _ethernet.FragmentBuffer;
        int piece = (Math.Min(mtu, fragment.Length - EthernetSize) - Ipv6Header.Size - Ipv6FragmentHeader.Size) & ~7;
        uint id = _fragmentId++;
        for (int offset = 0; offset < payloadLength; offset += piece)
        {
            int length = Math.Min(piece, payloadLength - offset);
            bool more = offset + length < payloadLength;
            new EthernetHeader(mac, Mac, EtherType.Ipv6).WriteTo(fragment);
            new Ipv6Header(source, destination, IpProtocol.Ipv6Fragment, (ushort)(Ipv6FragmentHeader.Size + length), hops, trafficClass).WriteTo(fragment.AsSpan(EthernetSize));
            new Ipv6FragmentHeader(protocol, offset, more, id).WriteTo(fragment.AsSpan(EthernetSize + Ipv6Header.Size));
            _tx.AsSpan(PayloadOffset + offset, length).CopyTo(fragment.AsSpan(FragmentPayloadOffset));
            _stats.Ipv6.SentCount++;
            _stats.Ipv6FragmentsSentCount++;
            _ethernet.Emit(fragment.AsSpan(0, FragmentPayloadOffset + length), _nd, slot, now);
        }
        return NetError.None;
    }

    // The next hop's MAC, or the neighbour entry to queue under while it resolves (RFC 4861 5.2's conceptual sending).
    private bool Route(Ipv6Address destination, TimeSpan now, out MacAddress mac, out int slot, out NetError error)
    {
        slot = -1;
        error = NetError.None;
        if (destination.IsMulticast)
        {
            mac = MulticastMac(destination);
            return true;
        }
        mac = default;
        var route = OnLinkRoute(destination);
        if (route == OnLinkAnswer.Ours) { Drop(_stats.Ipv6, DropReason.Ipv6NoRoute); error = NetError.HostUnreachable; return false; }
        // On an IP link (a TUN) every destination is reached by handing the packet to the link.
        var nextHop = route == OnLinkAnswer.OnLink || _ethernet.IsIpLink ? destination : DefaultRouter(now);
        if (nextHop.IsUnspecified) { Drop(_stats.Ipv6, DropReason.Ipv6NoRoute); error = NetError.NetworkUnreachable; return false; }
        if (!Resolve(nextHop, now, out mac, out slot)) { error = NetError.HostUnreachable; return false; }
        return true;
    }

    /// <summary>RFC 2464 7: 33:33 and the low 32 bits of the group.</summary>
    internal static MacAddress MulticastMac(Ipv6Address group)
    {
        Span<byte> b = stackalloc byte[6];
        b[0] = 0x33;
        b[1] = 0x33;
        BinaryPrimitives.WriteUInt32BigEndian(b[2..], (uint)group.Value);
        return MacAddress.Read(b);
    }

    /// <summary>The largest TCP segment (header and payload) toward <paramref name="destination"/> without fragmentation.</summary>
    public int MaxTcpSegment(Ipv6Address destination) => PathMtu(destination, _ethernet.Now) - Ipv6Header.Size;

    /// <summary>The largest TCP segment the link takes to cut itself (TSO for IPv6), or <see cref="MaxTcpSegment"/> without it.</summary>
    public int MaxOffloadTcpSegment(Ipv6Address destination) => _ethernet.Capabilities.TcpSegmentationOffload
        ? Math.Min(MaximumPayload, _ethernet.Capabilities.MaxFrameSize - EthernetSize - Ipv6Header.Size)
        : MaxTcpSegment(destination);

    /// <summary>Sends the TCP segment in <see cref="PacketPayload"/>; <paramref name="ecn"/> goes in the traffic class's low bits (RFC 3168 5).</summary>
    public NetError SendTcpSegment(Ipv6Address source, Ipv6Address destination, int length, TimeSpan now, int segmentSize, IpEcn ecn = IpEcn.NotEct,
                                   int summedFrom = 0, uint payloadSum = 0)
    {
        // TCP passes a segment size only for a segment that carries more than one wire segment's payload.
        if (segmentSize > 0 && _ethernet.Capabilities.TcpSegmentationOffload)
            return SendLargeTcpSegment(source, destination, length, segmentSize, now, ecn);
        // The payload's sum was taken as it was copied in (issue 18 item 2): only the header is summed here.
        if (summedFrom > 0) TcpHeader.FillChecksumFromPayloadSum(PacketPayload[..length], source, destination, summedFrom, payloadSum);
        else TcpHeader.FillChecksum(PacketPayload[..length], source, destination);
        var error = SendPacket(source, destination, IpProtocol.Tcp, length, now, trafficClass: (byte)ecn);
        if (error == NetError.None) _stats.Tcp.SentCount++;
        return error;
    }

    // As IPv4's: a TCP segment larger than the path MTU for a link that cuts it (TSO6), with the folded pseudo-header sum
    // in the checksum field; only to a resolved neighbour (the neighbour queue holds MTU-sized frames).
    private NetError SendLargeTcpSegment(Ipv6Address source, Ipv6Address destination, int length, int segmentSize, TimeSpan now, IpEcn ecn)
    {
        if (length > MaximumPayload || EthernetSize + Ipv6Header.Size + length > _ethernet.Capabilities.MaxFrameSize) { Drop(_stats.Ipv6, DropReason.Ipv6TooLarge); return NetError.MessageTooLong; }
        if (!Route(destination, now, out var mac, out int slot, out var error)) return error;
        if (slot >= 0) { Drop(_stats.Nd, DropReason.NdQueueFull); return NetError.HostUnreachable; }
        var segment = PacketPayload[..length];
        ushort partial = (ushort)~InternetChecksum.Finish(InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Tcp, length));
        BinaryPrimitives.WriteUInt16BigEndian(segment[TcpSegment.Field.Checksum..], partial);
        new Ipv6Header(source, destination, IpProtocol.Tcp, (ushort)length, HopLimit, (byte)ecn).WriteTo(_tx.AsSpan(IpOffset));
        new EthernetHeader(mac, Mac, EtherType.Ipv6).WriteTo(_tx);
        var frame = _tx.AsSpan(0, EthernetSize + Ipv6Header.Size + length);
        if (_ethernet.TrySendTcpSegments(frame, segmentSize, now))
        {
            _stats.Ipv6.SentCount++;
            _stats.Tcp.SentCount++;
            _stats.TcpSegmentsOffloadedCount++;
            return NetError.None;
        }
        ushort unused = 0;
        _ethernet.SegmentTcpInSoftware(frame, Ipv6Header.Size, segmentSize, PathMtu(destination, now), source, destination, HopLimit, ref unused, _stats.Ipv6, now);
        return NetError.None;
    }

    // ---------------------------------------------------------------- path MTU (RFC 8201)

    /// <summary>The path MTU toward <paramref name="destination"/>: what Packet Too Big taught us until it ages out, else the link's.</summary>
    public int PathMtu(Ipv6Address destination, TimeSpan now)
    {
        if (_destinationsInUse == 0) return LinkMtu;
        for (int i = 0; i < _destinations.Length; i++)
        {
            ref var d = ref _destinations[i];
            if (d.Mtu == 0 || d.Destination != destination) continue;
            if (now >= d.Expires) { d.Mtu = 0; _destinationsInUse--; break; }   // RFC 8201 4: aged out: try the link's MTU again
            return Math.Min(d.Mtu, LinkMtu);
        }
        return LinkMtu;
    }

    // RFC 8201 4: a Packet Too Big lowers the path MTU, never below 1280 (the minimum; RFC 8021 atomic fragments are not sent).
    private int LearnPathMtu(Ipv6Address destination, uint reported, TimeSpan now)
    {
        int mtu = (int)Math.Clamp(reported, Ipv6Header.MinimumMtu, (uint)LinkMtu);
        int free = -1, oldest = 0;
        for (int i = 0; i < _destinations.Length; i++)
        {
            ref var d = ref _destinations[i];
            if (d.Mtu != 0 && d.Destination == destination)
            {
                if (mtu < d.Mtu || now >= d.Expires) d.Mtu = mtu;
                d.Expires = now + _options.PathMtuAging;
                return d.Mtu;
            }
            if (d.Mtu == 0 && free < 0) free = i;
            if (d.Expires < _destinations[oldest].Expires) oldest = i;
        }
        int slot = free >= 0 ? free : oldest;
        if (_destinations[slot].Mtu == 0) _destinationsInUse++;
        _destinations[slot] = new DestinationEntry { Destination = destination, Mtu = mtu, Expires = now + _options.PathMtuAging };
        return mtu;
    }

    /// <summary>Destinations with a path MTU learned (the hostile tests check the bound).</summary>
    internal int DestinationCount { get { int n = 0; foreach (var d in _destinations) if (d.Mtu != 0) n++; return n; } }

    // ---------------------------------------------------------------- timers

    /// <summary>Starts the layer on the first call (<see cref="Start"/>), then runs what is due: reassembly timeouts and the
    /// address, neighbour and group timers.</summary>
    /// <remarks>Inlined into every poll: one comparison with <see cref="_timersDue"/>, the work out of line.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PollTimers(TimeSpan now)
    {
        if (now >= _timersDue) PollTimersDue(now);
    }

    private void ExpireReassembly(TimeSpan now)
    {
        while (_reassembler.TryExpire(now, out var quote))
        {
            Drop(_stats.Ipv6, DropReason.ReassemblyTimeout);
            // RFC 8200 4.5: time exceeded (code 1) when the first fragment had arrived.
            // The quote is the first fragment's header and its first 8 bytes, so its Payload Length says more than it
            // holds: TryParse calls it BadLength and gives no packet; the addresses are read from the header itself.
            if (quote.Length >= Ipv6Header.Size && quote[0] >> 4 == 6)
            {
                var source = Ipv6Address.Read(quote[Ipv6Packet.Field.Source..]);
                if (!source.IsUnspecified && !source.IsMulticast)
                    SendIcmpErrorQuoting(quote, source, Ipv6Address.Read(quote[Ipv6Packet.Field.Destination..]), new Icmpv6Header(Icmpv6Type.TimeExceeded, 1), now);
            }
        }
    }

    private void PollTimersDue(TimeSpan now)
    {
        Start(now);
        if (_reassembler.SlotsInUse > 0) ExpireReassembly(now);
        if (now >= _nextTimer)
        {
            _nextTimer = TimeSpan.MaxValue;
            PollAddresses(now);
            PollNeighbours(now);
            PollGroups(now);
        }
        _timersDue = _reassembler.NextDeadline is TimeSpan reassembly && reassembly < _nextTimer ? reassembly : _nextTimer;
    }

    public TimeSpan? NextDeadline(TimeSpan now)
    {
        TimeSpan? next = _reassembler.NextDeadline;
        if (_nextTimer != TimeSpan.MaxValue && (next is null || _nextTimer < next)) next = _nextTimer;
        return next;
    }

    /// <summary>Asks for a timer pass at <paramref name="at"/> (or earlier, if one is due sooner).</summary>
    private void Schedule(TimeSpan at)
    {
        if (at < _nextTimer) _nextTimer = at;
        if (at < _timersDue) _timersDue = at;
    }

    private TimeSpan RandomDelay(TimeSpan maximum) => TimeSpan.FromTicks((long)(maximum.Ticks * (_random.NextUInt32() / 4294967296.0)));

    private void Drop(ProtocolCounters counters, DropReason reason, bool error = false)
    {
        _stats.Drop(counters, reason, error);
        if (_log.IsEnabled(LogLevel.Debug)) StackLog.Dropped(_log, reason);
    }
}
