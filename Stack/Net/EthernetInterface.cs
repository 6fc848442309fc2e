using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Links;
using TcpIpSharp.Net.Ipv4;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net;

/// <summary>
/// The bottom of the interface: the link, the MAC address, the multicast MAC filter, dispatch of received frames by
/// EtherType to the family layers above (ARP and IPv4, IPv6), the neighbour tables and their queues, and transmission.
/// The family layers build what they send in <see cref="TransmitBuffer"/>: the transport payload at
/// <see cref="HeaderRoom"/>, each family writing its IP and Ethernet headers in front of it, so that TCP and UDP write
/// their segments once without knowing the family. Owned by the stack thread; allocates nothing per packet.
/// </summary>
internal sealed class EthernetInterface
{
    /// <summary>Room in front of a transport payload for the Ethernet header and the longest IP header we write (IPv6's 40 bytes).</summary>
    public const int HeaderRoom = EthernetHeader.Size + 40;

    private readonly ILink _link;
    // The link's capabilities as the family layers see them: on an IP link the largest frame counts a (never sent)
    // Ethernet header, so that every layer builds its packets in the same place whatever the link.
    private readonly LinkCapabilities _capabilities;
    private readonly StackStatistics _stats;
    private readonly ILogger _log;
    private readonly byte[] _tx = new byte[HeaderRoom + 65535];   // the packet being sent, built in place
    private readonly byte[] _fragment;                             // one fragment (or software segment) of it
    private readonly List<(MacAddress Mac, int Users)> _multicastMacs = new(8);

    public EthernetInterface(NetworkStackOptions options, ILink link, StackStatistics stats, ILogger logger)
    {
        _link = link;
        _stats = stats;
        _log = logger;
        Mac = options.MacAddress;
        IsIpLink = !link.Capabilities.CarriesEthernet;
        _capabilities = IsIpLink ? link.Capabilities with { MaxFrameSize = link.Capabilities.MaxFrameSize + EthernetHeader.Size } : link.Capabilities;
        Mtu = Math.Min(options.Mtu ?? link.Capabilities.Mtu, _capabilities.MaxFrameSize - EthernetHeader.Size);
        ArgumentOutOfRangeException.ThrowIfLessThan(Mtu, 68);   // RFC 791: every host takes 68-byte datagrams
        MaximumMtu = Mtu;
        _fragment = new byte[EthernetHeader.Size + Mtu];
        Arp = new NeighbourCache(options, EthernetHeader.Size + Mtu, stats.Arp, DropReason.ArpQueueFull);
        Nd = new NeighbourCache(options, EthernetHeader.Size + Mtu, stats.Nd, DropReason.NdQueueFull);
        ChecksumOffload = link.Capabilities.ChecksumOffload;
    }

    public MacAddress Mac { get; }
    /// <summary>The link's IP MTU (DHCP option 26 may lower it).</summary>
    public int Mtu { get; private set; }
    /// <summary>The MTU the interface was created with: buffers are sized for it, so <see cref="SetMtu"/> can only lower it.</summary>
    public int MaximumMtu { get; }
    public LinkCapabilities Capabilities => _capabilities;
    /// <summary>
    /// True on a link without Ethernet (a TUN): received frames are bare IP packets, dispatched by their version; the
    /// layers still build an Ethernet header in front of what they send, and <see cref="Transmit"/> leaves it out. No
    /// neighbour is resolved (every next hop is reachable at once) and no ARP is sent.
    /// </summary>
    public bool IsIpLink { get; }
    /// <summary>Whether the link verifies (and fills) transport checksums itself.</summary>
    public bool ChecksumOffload { get; }
    public FrameObserver? Observer { get; set; }
    /// <summary>IPv4 neighbours (resolved by ARP).</summary>
    internal NeighbourCache Arp { get; }
    /// <summary>IPv6 neighbours (resolved by Neighbour Discovery).</summary>
    internal NeighbourCache Nd { get; }
    /// <summary>Where received IPv4 and ARP frames go.</summary>
    public Ipv4Layer? Ipv4 { get; set; }
    /// <summary>Where received IPv6 frames go (null while IPv6 is off: they are counted as unsupported).</summary>
    public Ipv6.Ipv6Layer? Ipv6 { get; set; }
    /// <summary>The time of the poll in progress.</summary>
    public TimeSpan Now { get; set; }

    /// <summary>Sets the IP MTU, between 68 and <see cref="MaximumMtu"/>.</summary>
    public void SetMtu(int mtu) => Mtu = Math.Clamp(mtu, 68, MaximumMtu);

    /// <summary>The packet buffer the family layers build in (see the class remarks).</summary>
    public byte[] TransmitBuffer => _tx;
    /// <summary>Where a transport payload (a UDP datagram, a TCP segment, an ICMP message) is written before it is sent.</summary>
    public Span<byte> TransportPayload => _tx.AsSpan(HeaderRoom);
    /// <summary>A frame-sized scratch buffer for fragments and software segments.</summary>
    public byte[] FragmentBuffer => _fragment;

    // ---------------------------------------------------------------- multicast filter

    /// <summary>Accepts frames to a multicast MAC (reference-counted: groups of either family may share one).</summary>
    public void JoinMulticastMac(MacAddress mac)
    {
        for (int i = 0; i < _multicastMacs.Count; i++)
            if (_multicastMacs[i].Mac == mac) { _multicastMacs[i] = (mac, _multicastMacs[i].Users + 1); return; }
        _multicastMacs.Add((mac, 1));
    }

    /// <summary>Drops one use of a multicast MAC; frames to it are refused once nobody uses it.</summary>
    public void LeaveMulticastMac(MacAddress mac)
    {
        for (int i = 0; i < _multicastMacs.Count; i++)
        {
            if (_multicastMacs[i].Mac != mac) continue;
            if (_multicastMacs[i].Users <= 1) _multicastMacs.RemoveAt(i);
            else _multicastMacs[i] = (mac, _multicastMacs[i].Users - 1);
            return;
        }
    }

    private bool IsJoinedMulticastMac(MacAddress mac)
    {
        foreach (var (m, _) in _multicastMacs)
            if (m == mac) return true;
        return false;
    }

    // ---------------------------------------------------------------- receive

    public void ProcessFrame(ReadOnlySpan<byte> frame, TimeSpan now)
    {
        _stats.Link.ReceivedCount++;
        if (IsIpLink) { ProcessIpPacket(frame, now); return; }
        Observer?.Invoke(frame, false, now);
        // Read from the span itself, not through an EthernetFrame view: the view, written as two stores and copied whole
        // for its inlined getters, stalled each frame on store forwarding (the JIT listing of NetworkStack.Poll, perf:
        // the hottest block of the pure ACK's poll). The checks and their order are EthernetFrame.Parse's and as before.
        if (frame.Length < EthernetHeader.Size) { Drop(_stats.Ethernet, DropReason.EthernetMalformed, true); return; }
        var type = (EtherType)BinaryPrimitives.ReadUInt16BigEndian(frame[EthernetFrame.Field.EtherType..]);
        bool tagged = type is EtherType.Vlan or EtherType.ServiceVlan;
        if (tagged && frame.Length < EthernetHeader.TaggedSize) { Drop(_stats.Ethernet, DropReason.EthernetMalformed, true); return; }
        var destination = MacAddress.Read(frame);
        if (destination != Mac && !destination.IsBroadcast && !(destination.IsMulticast && IsJoinedMulticastMac(destination)))
        {
            Drop(_stats.Ethernet, DropReason.EthernetNotForUs);
            return;
        }
        var source = MacAddress.Read(frame[EthernetFrame.Field.Source..]);
        if (source == Mac) { Drop(_stats.Ethernet, DropReason.EthernetFromSelf); return; }
        if (tagged) { Drop(_stats.Ethernet, DropReason.EthernetUnsupportedType); return; }
        _stats.Ethernet.ReceivedCount++;
        var payload = frame[EthernetHeader.Size..];
        switch (type)
        {
            case EtherType.Arp when Ipv4 is not null: Ipv4.ProcessArp(payload, now); break;
            case EtherType.Ipv4 when Ipv4 is not null: Ipv4.ProcessPacket(payload, now); break;
            case EtherType.Ipv6 when Ipv6 is not null: Ipv6.ProcessPacket(payload, source, now); break;
            default: Drop(_stats.Ethernet, DropReason.EthernetUnsupportedType); break;
        }
    }

    // An IP link's frame is a packet: its version nibble says the family (RFC 791, RFC 8200). The frame observer sees
    // Ethernet frames only, so it is not called on an IP link.
    private void ProcessIpPacket(ReadOnlySpan<byte> packet, TimeSpan now)
    {
        if (packet.IsEmpty) { Drop(_stats.Ethernet, DropReason.EthernetMalformed, true); return; }
        switch (packet[0] >> 4)
        {
            case 4 when Ipv4 is not null: _stats.Ethernet.ReceivedCount++; Ipv4.ProcessPacket(packet, now); break;
            case 6 when Ipv6 is not null: _stats.Ethernet.ReceivedCount++; Ipv6.ProcessPacket(packet, default, now); break;
            default: Drop(_stats.Ethernet, DropReason.EthernetUnsupportedType); break;
        }
    }

    // ---------------------------------------------------------------- send

    /// <summary>Sends a frame now, or queues it under the neighbour entry <paramref name="slot"/> of <paramref name="cache"/> while that resolves.</summary>
    public void Emit(ReadOnlySpan<byte> frame, NeighbourCache cache, int slot, TimeSpan now)
    {
        if (slot < 0) { Transmit(frame, now); return; }
        if (!cache.Enqueue(slot, frame)) Drop(cache.Counters, cache.QueueFull);
    }

    /// <summary>A neighbour entry resolved: records the MAC and sends every frame that waited for it.</summary>
    public void Resolved(NeighbourCache cache, int slot, MacAddress mac, TimeSpan now)
    {
        cache.Resolve(slot, mac, now);
        for (int f = cache.Dequeue(slot); f >= 0; f = cache.Dequeue(slot))
        {
            var queued = cache.Frame(f);
            mac.WriteTo(queued);
            Transmit(queued, now);
            cache.ReleaseFrame(f);
        }
    }

    public void Transmit(ReadOnlySpan<byte> frame, TimeSpan now)
    {
        if (frame.Length > _capabilities.MaxFrameSize) { Drop(_stats.Link, DropReason.LinkFrameTooLarge); return; }
        if (IsIpLink)
        {
            // ARP (never sent on an IP link: the layers do not build it) would be the only frame that is not IP.
            if (frame.Length <= EthernetHeader.Size) { Drop(_stats.Link, DropReason.LinkTransmitFailed); return; }
            frame = frame[EthernetHeader.Size..];
        }
        else Observer?.Invoke(frame, true, now);
        if (_link.TrySend(frame)) { _stats.Link.SentCount++; _stats.Ethernet.SentCount++; }
        else Drop(_stats.Link, DropReason.LinkTransmitFailed);
    }

    /// <summary>Hands a TCP frame larger than the MTU to a link that segments it (TSO); false when the link refuses it.</summary>
    public bool TrySendTcpSegments(ReadOnlySpan<byte> frame, int segmentSize, TimeSpan now)
    {
        if (!_link.TrySendTcpSegments(IsIpLink ? frame[EthernetHeader.Size..] : frame, segmentSize)) return false;
        if (!IsIpLink) Observer?.Invoke(frame, true, now);
        _stats.Link.SentCount++;
        _stats.Ethernet.SentCount++;
        return true;
    }

    /// <summary>
    /// What a link with TSO would have done with a large TCP frame (as Linux's tcp_gso_segment): pieces of at most
    /// <paramref name="mtu"/> with the headers copied (the ECN field with them), each piece's TCP sequence number and full
    /// checksum, FIN and PSH only on the last, CWR only on the first (RFC 3168 6.1.2: one CWR per reduction; Linux's
    /// GSO does the same). The family's header differs by piece in one way: IPv4 takes a new total length, identification and
    /// header checksum, IPv6 a new payload length; <paramref name="nextIdentification"/> is IPv4's counter.
    /// </summary>
    public void SegmentTcpInSoftware(ReadOnlySpan<byte> frame, int ipHeaderSize, int segmentSize, int mtu, IpAddress source, IpAddress destination,
        byte hopLimit, ref ushort nextIdentification, ProtocolCounters ipCounters, TimeSpan now)
    {
        int tcp = EthernetHeader.Size + ipHeaderSize;
        int tcpHeader = (frame[tcp + TcpSegment.Field.DataOffset] >> 4) * 4;
        int headers = tcp + tcpHeader;
        var payload = frame[headers..];
        segmentSize = Math.Min(segmentSize, EthernetHeader.Size + mtu - headers);
        uint sequence = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame[(tcp + TcpSegment.Field.SequenceNumber)..]);
        var flags = (TcpFlags)frame[tcp + TcpSegment.Field.Flags];
        byte typeOfService = source.IsIpv4 ? frame[EthernetHeader.Size + Ipv4Packet.Field.Tos] : (byte)0;
        for (int offset = 0; offset < payload.Length; offset += segmentSize)
        {
            int length = Math.Min(segmentSize, payload.Length - offset);
            var piece = _fragment.AsSpan(0, headers + length);
            frame[..headers].CopyTo(piece);
            payload.Slice(offset, length).CopyTo(piece[headers..]);
            if (source.IsIpv4)
                new Ipv4Header(source.AsIpv4, destination.AsIpv4, IpProtocol.Tcp, (ushort)(piece.Length - EthernetHeader.Size), nextIdentification++, hopLimit, true,
                        TypeOfService: typeOfService).WriteTo(piece[EthernetHeader.Size..]);
            else
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(piece[(EthernetHeader.Size + Ipv6Packet.Field.PayloadLength)..], (ushort)(piece.Length - tcp));
            var segment = piece[tcp..];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(segment[TcpSegment.Field.SequenceNumber..], sequence + (uint)offset);
            var pieceFlags = offset + length < payload.Length ? flags & ~(TcpFlags.Fin | TcpFlags.Psh) : flags;
            if (offset > 0) pieceFlags &= ~TcpFlags.Cwr;
            segment[TcpSegment.Field.Flags] = (byte)pieceFlags;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(segment[TcpSegment.Field.Checksum..], 0);
            TcpHeader.FillChecksum(segment, source, destination);
            ipCounters.SentCount++;
            _stats.Tcp.SentCount++;
            Transmit(piece, now);
        }
    }

    private void Drop(ProtocolCounters counters, DropReason reason, bool error = false)
    {
        _stats.Drop(counters, reason, error);
        if (_log.IsEnabled(LogLevel.Debug)) StackLog.Dropped(_log, reason);
    }
}
