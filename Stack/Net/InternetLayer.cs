using Microsoft.Extensions.Logging;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Net.Ipv4;
using TcpIpSharp.Net.Ipv6;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Net;

/// <summary>
/// What the two families share between the IP layers and the transports: one UDP table and one TCP table for both,
/// the delivery of what either family's layer received to them (the checksum verified over that family's
/// pseudo-header), and the transports' output, routed to the family of each destination. TCP and UDP therefore exist
/// once; each family layer (<see cref="Ipv4Layer"/>) only adds and removes its own header.
/// </summary>
internal sealed class InternetLayer : IUdpOutput, ITcpOutput
{
    private readonly StackStatistics _stats;
    private readonly ILogger _log;
    private readonly EthernetInterface _ethernet;

    public InternetLayer(NetworkStackOptions options, EthernetInterface ethernet, StackStatistics stats, ILogger logger, IRandomSource random)
    {
        _ethernet = ethernet;
        _stats = stats;
        _log = logger;
        Udp = new UdpTable(options, random);
        Tcp = new TcpTable(this, random, options, stats.TcpDetail) { LocalAddressFor = SourceAddressFor };
        Ipv4 = new Ipv4Layer(options, ethernet, this, stats, logger, random);
        ethernet.Ipv4 = Ipv4;
        if (options.Ipv6 is { } ipv6)
        {
            Ipv6 = new Ipv6Layer(options, ipv6, ethernet, this, stats, logger, random);
            ethernet.Ipv6 = Ipv6;
        }
    }

    public UdpTable Udp { get; }
    /// <summary>
    /// Gateway mode: takes each UDP datagram that no endpoint of ours took and that was not sent to our own address
    /// (source, its port, destination, port, payload); false sends the family's port-unreachable error.
    /// </summary>
    public AnyDestinationUdpHandler? AnyDestinationUdp { get; set; }
    /// <summary>Gateway mode: takes each ICMP or ICMPv6 echo request to an address not ours (to relay it); false lets the family layer answer it.</summary>
    public AnyDestinationEchoHandler? AnyDestinationEcho { get; set; }
    public TcpTable Tcp { get; }
    public Ipv4Layer Ipv4 { get; }
    /// <summary>The IPv6 layer, or null while IPv6 is off (<see cref="NetworkStackOptions.Ipv6"/>).</summary>
    public Ipv6Layer? Ipv6 { get; }

    /// <summary>Our address for talking to <paramref name="destination"/>: IPv4's, or IPv6's choice (RFC 6724); unspecified when there is none.</summary>
    public IpAddress SourceAddressFor(IpAddress destination)
        => destination.IsIpv4 ? Ipv4.Address : Ipv6 is { } v6 ? v6.SelectSource(destination.AsIpv6) : IpAddress.Any;

    // ---------------------------------------------------------------- receive

    /// <summary>
    /// Delivers a UDP datagram that arrived for us. Returns false when no endpoint takes it (the caller's family sends
    /// its port-unreachable error); a malformed or corrupt datagram is counted and dropped (true: no error to send).
    /// </summary>
    public bool DeliverUdp(IpAddress source, IpAddress destination, bool broadcast, ReadOnlySpan<byte> bytes, bool verifyChecksum)
    {
        var udp = UdpDatagram.Parse(bytes, out var parsed);
        if (parsed != WireError.None) { Drop(_stats.Udp, DropReason.UdpMalformed, true); return true; }
        if (verifyChecksum && !udp.IsChecksumValid(source, destination)) { Drop(_stats.Udp, DropReason.UdpBadChecksum, true); return true; }
        _stats.Udp.ReceivedCount++;
        // Every endpoint on the port that takes the datagram gets a copy of a multicast or broadcast one (SO_REUSEADDR,
        // as Linux); a unicast one goes to one endpoint: a connected one over an unconnected, a bound address over a
        // wildcard, else the first opened.
        UdpEndpoint? best = null;
        int bestScore = 0;
        bool delivered = false;
        for (var endpoint = Udp.Find(udp.DestinationPort); endpoint is not null; endpoint = endpoint.NextOnPort)
        {
            var local = endpoint.LocalAddress;
            // Bound to :: takes either family (lwIP's IPADDR_TYPE_ANY); bound to 0.0.0.0 only IPv4.
            bool wildcard = local == IpAddress.Any || (local.IsAny && local.IsIpv4 == destination.IsIpv4);
            bool addressOk = wildcard || (!broadcast && local == destination);
            bool peerOk = endpoint.Peer is not { } peer || (peer.Address == source && peer.Port == udp.SourcePort);
            if (!addressOk || !peerOk) continue;
            if (broadcast)
            {
                delivered = true;
                if (!endpoint.Deliver(source, udp.SourcePort, udp.Payload)) Drop(_stats.Udp, DropReason.UdpQueueFull);
                continue;
            }
            int score = (endpoint.Peer is null ? 1 : 4) + (wildcard ? 0 : 2);
            if (score > bestScore) { best = endpoint; bestScore = score; }
        }
        if (broadcast && delivered) return true;
        if (best is null && !broadcast && AnyDestinationUdp is { } gateway) return gateway(source, udp.SourcePort, destination, udp.DestinationPort, udp.Payload);
        if (best is null)
        {
            Drop(_stats.Udp, DropReason.UdpNoEndpoint);
            return false;
        }
        if (!best.Deliver(source, udp.SourcePort, udp.Payload)) Drop(_stats.Udp, DropReason.UdpQueueFull);
        return true;
    }

    /// <summary>
    /// Delivers a TCP segment that arrived for us; <paramref name="packetLength"/> is the IP packet's, to count segments a
    /// link coalesced; <paramref name="ecn"/> is its IP header's ECN field (RFC 3168 5), after reassembly.
    /// </summary>
    public void DeliverTcp(IpAddress source, IpAddress destination, ReadOnlySpan<byte> bytes, int packetLength, bool verifyChecksum, TimeSpan now, IpEcn ecn = IpEcn.NotEct)
    {
        var segment = TcpSegment.Parse(bytes, out var parsed);
        if (parsed != WireError.None) { Drop(_stats.Tcp, DropReason.TcpMalformed, true); return; }
        if (!verifyChecksum)
        {
            // The link vouched for the checksum (offload): no sum at all.
            _stats.Tcp.ReceivedCount++;
            if (packetLength > _ethernet.Mtu) _stats.TcpLargeSegmentsReceivedCount++;   // coalesced by the link (offload)
            Tcp.Process(source, destination, segment, now, ecn);
            return;
        }
        // The table verifies it before it changes anything, summing an in-order payload while copying it into the
        // receive ring (issue 18 item 2); here only the pseudo-header and the header are summed.
        uint headerSum = InternetChecksum.Add(InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Tcp, segment.Bytes.Length),
                                              segment.Bytes[..segment.HeaderLength]);
        if (!Tcp.Process(source, destination, segment, now, ecn, verifyChecksum: true, headerSum))
        {
            Drop(_stats.Tcp, DropReason.TcpBadChecksum, true);
            return;
        }
        _stats.Tcp.ReceivedCount++;   // counted once the segment passed, as before (nothing reads it while it is processed)
        if (packetLength > _ethernet.Mtu) _stats.TcpLargeSegmentsReceivedCount++;
    }

    /// <summary>An ICMP error (of either family) about a UDP datagram we sent from <paramref name="localPort"/>.</summary>
    public void OnUdpError(IpAddress remote, ushort remotePort, ushort localPort, NetError error)
    {
        if (error == NetError.None) return;
        for (var endpoint = Udp.Find(localPort); endpoint is not null; endpoint = endpoint.NextOnPort)
        {
            if (endpoint.Peer is { } peer && (peer.Address != remote || peer.Port != remotePort)) continue;
            endpoint.ReportError(error);
            return;
        }
    }

    // ---------------------------------------------------------------- send

    public NetError SendUdp(UdpEndpoint endpoint, IpAddress destination, ushort destinationPort, ReadOnlySpan<byte> payload)
    {
        var now = _ethernet.Now;
        if (destination.IsIpv4 && Ipv4.IsBroadcast(destination.AsIpv4) && !endpoint.AllowBroadcast) return NetError.BroadcastNotAllowed;
        if (destinationPort == 0) return NetError.HostUnreachable;
        var datagram = _ethernet.TransportPayload[..(UdpHeader.Size + payload.Length)];
        new UdpHeader(endpoint.LocalPort, destinationPort, (ushort)datagram.Length).WriteTo(datagram);
        payload.CopyTo(datagram[UdpHeader.Size..]);
        var source = endpoint.LocalAddress.IsAny ? SourceAddressFor(destination) : endpoint.LocalAddress;
        UdpHeader.FillChecksum(datagram, source, destination);
        NetError error;
        if (destination.IsIpv4 && destination.AsIpv4.IsMulticast)
        {
            // TTL 0 keeps the datagram on this host (Linux): only the loopback copy below.
            error = endpoint.MulticastTimeToLive == 0 ? NetError.None
                : Ipv4.SendDatagram(destination.AsIpv4, IpProtocol.Udp, datagram.Length, now, source: source.AsIpv4, timeToLive: endpoint.MulticastTimeToLive);
            // IP_MULTICAST_LOOP: a copy for this stack's own endpoints when it is in the group (the datagram is still
            // in the transmit buffer: sending only wrote headers in front of it).
            if (error == NetError.None && endpoint.MulticastLoop && Ipv4.IsMember(destination.AsIpv4))
                DeliverUdp(source, destination, broadcast: true, datagram, verifyChecksum: false);
        }
        else if (destination.IsIpv4) error = Ipv4.SendDatagram(destination.AsIpv4, IpProtocol.Udp, datagram.Length, now, source: source.AsIpv4);
        else if (Ipv6 is null || source.IsAny) return Ipv6 is null ? NetError.NetworkUnreachable : NetError.NoAddress;
        else error = Ipv6.SendPacket(source.AsIpv6, destination.AsIpv6, IpProtocol.Udp, datagram.Length, now);
        if (error == NetError.None) _stats.Udp.SentCount++;
        return error;
    }

    /// <summary>Gateway mode: sends a UDP datagram from any address and port (the reply of a relayed flow, from the address the guest sent to).</summary>
    public NetError SendUdpFrom(IpAddress source, ushort sourcePort, IpAddress destination, ushort destinationPort, ReadOnlySpan<byte> payload)
    {
        var now = _ethernet.Now;
        if (payload.Length > 65507) return NetError.MessageTooLong;
        var datagram = _ethernet.TransportPayload[..(UdpHeader.Size + payload.Length)];
        new UdpHeader(sourcePort, destinationPort, (ushort)datagram.Length).WriteTo(datagram);
        payload.CopyTo(datagram[UdpHeader.Size..]);
        UdpHeader.FillChecksum(datagram, source, destination);
        NetError error = destination.IsIpv4 ? Ipv4.SendDatagram(destination.AsIpv4, IpProtocol.Udp, datagram.Length, now, source: source.AsIpv4)
            : Ipv6 is null ? NetError.NetworkUnreachable : Ipv6.SendPacket(source.AsIpv6, destination.AsIpv6, IpProtocol.Udp, datagram.Length, now);
        if (error == NetError.None) _stats.Udp.SentCount++;
        return error;
    }

    /// <summary>Gateway mode: sends an ICMP (or ICMPv6) message, a relayed echo reply, from any address; the checksum is filled.</summary>
    public NetError SendIcmpFrom(IpAddress source, IpAddress destination, ReadOnlySpan<byte> message)
        => destination.IsIpv4 ? Ipv4.SendIcmpFrom(source.AsIpv4, destination.AsIpv4, message, _ethernet.Now)
            : Ipv6 is null ? NetError.NetworkUnreachable : Ipv6.SendIcmpFrom(source.AsIpv6, destination.AsIpv6, message, _ethernet.Now);

    /// <summary>
    /// Gateway mode: tells <paramref name="guest"/> that what it sent to <paramref name="destination"/> cannot be delivered
    /// (RFC 792 / RFC 4443 3.1 destination unreachable, or 3.3 time exceeded), quoting an IP header rebuilt from the flow
    /// (guest to destination, <paramref name="protocol"/>, a transport part of <paramref name="transportLength"/> bytes) and
    /// the first bytes of that part (a UDP header and payload, a SYN's ports and sequence number, an echo request): what
    /// the guest's kernel matches to its socket. A port unreachable comes from <paramref name="destination"/> (the host
    /// that has no such port says so itself); the others from the gateway's own address (the router on the path).
    /// Rate-limited with the stack's own ICMP errors.
    /// </summary>
    public void SendUnreachable(IpAddress guest, IpAddress destination, IpProtocol protocol, ReadOnlySpan<byte> transportStart, int transportLength, UnreachableReason reason)
    {
        Span<byte> quote = stackalloc byte[Ipv6Header.Size + MaximumQuotedTransport];
        transportStart = transportStart[..Math.Min(transportStart.Length, MaximumQuotedTransport)];
        var now = _ethernet.Now;
        bool fromDestination = reason == UnreachableReason.Port;
        if (guest.IsIpv4)
        {
            int header = new Ipv4Header(guest.AsIpv4, destination.AsIpv4, protocol, (ushort)Math.Min(ushort.MaxValue, Ipv4Header.MinimumSize + transportLength), DontFragment: true).WriteTo(quote);
            transportStart.CopyTo(quote[header..]);
            var type = reason == UnreachableReason.HopLimit ? IcmpType.TimeExceeded : IcmpType.DestinationUnreachable;
            byte code = reason switch { UnreachableReason.Network or UnreachableReason.HopLimit => 0, UnreachableReason.Host => 1, UnreachableReason.Port => 3, _ => 13 };
            Ipv4.SendUnreachable(guest.AsIpv4, type, code, quote[..(header + transportStart.Length)], now, fromDestination ? destination.AsIpv4 : null);
        }
        else if (Ipv6 is { } v6)
        {
            int header = new Ipv6Header(guest.AsIpv6, destination.AsIpv6, protocol, (ushort)Math.Min(ushort.MaxValue, transportLength)).WriteTo(quote);
            transportStart.CopyTo(quote[header..]);
            var type = reason == UnreachableReason.HopLimit ? Icmpv6Type.TimeExceeded : Icmpv6Type.DestinationUnreachable;
            byte code = reason switch { UnreachableReason.Network or UnreachableReason.HopLimit => 0, UnreachableReason.Host => 3, UnreachableReason.Port => 4, _ => 1 };
            v6.SendUnreachable(guest.AsIpv6, destination.AsIpv6, new Icmpv6Header(type, code), quote[..(header + transportStart.Length)], now, fromDestination);
        }
    }

    /// <summary>The most of a transport part <see cref="SendUnreachable"/> quotes.</summary>
    public const int MaximumQuotedTransport = 72;

    Span<byte> ITcpOutput.SegmentBuffer => _ethernet.TransportPayload;

    int ITcpOutput.MaxSegment(IpAddress destination)
        => destination.IsIpv4 || Ipv6 is null ? Ipv4.MaxTcpSegment : Ipv6.MaxTcpSegment(destination.AsIpv6);

    int ITcpOutput.MaxOffloadSegment(IpAddress destination)
        => destination.IsIpv4 || Ipv6 is null ? Ipv4.MaxOffloadTcpSegment : Ipv6.MaxOffloadTcpSegment(destination.AsIpv6);

    NetError ITcpOutput.SendSegment(IpAddress source, IpAddress destination, int length, TimeSpan now, int segmentSize, IpEcn ecn, int summedFrom, uint payloadSum)
    {
        if (destination.IsIpv4) return Ipv4.SendTcpSegment(source.AsIpv4, destination.AsIpv4, length, now, segmentSize, ecn, summedFrom, payloadSum);
        if (Ipv6 is null) return NetError.NetworkUnreachable;
        return Ipv6.SendTcpSegment(source.AsIpv6, destination.AsIpv6, length, now, segmentSize, ecn, summedFrom, payloadSum);
    }

    void ITcpOutput.SuspectNeighbour(IpAddress destination, TimeSpan now)
    {
        if (destination.IsIpv4) Ipv4.SuspectNeighbour(destination.AsIpv4, now);
        else Ipv6?.SuspectNeighbour(destination.AsIpv6, now);
    }

    // ---------------------------------------------------------------- timers

    public void PollTimers(TimeSpan now)
    {
        Ipv4.PollNeighbours(now);
        Ipv4.PollIgmp(now);
        Ipv6?.PollTimers(now);   // starts the layer on the first poll
        Tcp.Poll(now);
        Ipv4.PollReassembly(now);
    }

    public TimeSpan? NextDeadline(TimeSpan now)
    {
        TimeSpan? next = Ipv4.NextDeadline(now);
        if (Ipv6?.NextDeadline(now) is TimeSpan v6 && (next is null || v6 < next)) next = v6;
        if (Tcp.NextDeadline(now) is TimeSpan tcp && (next is null || tcp < next)) next = tcp;
        return next;
    }

    private void Drop(ProtocolCounters counters, DropReason reason, bool error = false)
    {
        _stats.Drop(counters, reason, error);
        if (_log.IsEnabled(LogLevel.Debug)) StackLog.Dropped(_log, reason);
    }
}
