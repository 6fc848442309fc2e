using System.Buffers.Binary;
using TcpIpSharp.Capture;
using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>
/// Replays a capture with the stack standing in for one of its hosts, in virtual time, and says whether the stack sent
/// what the recorded host sent.
/// </summary>
/// <remarks>
/// <para>The frames the other hosts sent to the recorded host (or to everyone) go into a stack that has the host's
/// address, MAC and TTL, at their recorded times (or, with <see cref="ReplayOptions.Fast"/>, as soon as the stack is
/// idle); the stack's timers run in between; nothing waits in real time. Each ARP request the stack sends for an
/// address the capture shows is answered with the MAC seen there (captures rarely hold the ARP exchange: the recorded
/// host's neighbour cache was warm), and listed in <see cref="ReplayResult.NeighbourAnswers"/>.</para>
/// <para>TCP: for each connection the recorded host accepted or opened, the peer's acknowledgement numbers and SACK blocks are
/// moved by the difference between the stack's initial sequence number and the host's, and its timestamp echoes carry
/// the stack's latest timestamp, so the conversation goes on with the stack; a peer segment waits (in virtual time, at
/// most <see cref="ReplayOptions.ResponseTimeout"/>) until the stack has sent as far as the host had before it.</para>
/// <para>The verdict compares, in order, each frame the host sent with the stack's: Ethernet and IP addresses, TTL,
/// TOS and every byte of ARP, ICMP and UDP (IP identification and checksums aside, DF aside for UDP as the stack does no
/// path MTU discovery for it); for TCP the ports, flags, sequence and acknowledgement numbers relative to each side's
/// initial sequence number, the payload, and which options are present (MSS with its value); not the window or the
/// timestamp values. ARP requests are not compared (when a host asks is a timing choice).</para>
/// <para>IPv6: the host's IPv6 addresses (every source of frames from its MAC) go static into a stack with IPv6 on and
/// quiet (no DAD, no router solicitations, no SLAAC); its neighbour solicitations are answered from the capture as ARP
/// requests are; IPv6 frames compare by the same rules, the flow label and the fragment identification aside. Neighbour
/// solicitations, unsolicited advertisements, router solicitations and MLD reports are not compared on either side;
/// recorded frames with extension headers the stack does not send count in <see cref="ReplayResult.NotSupported"/>.</para>
/// </remarks>
public static class CaptureReplay
{
    /// <summary>Runs the replay; see the type's remarks.</summary>
    /// <param name="frames">The capture's Ethernet frames with their times (<see cref="CaptureFile.ReadEthernet(string, CaptureReadOptions?)"/>).</param>
    /// <param name="options">The host to play and how.</param>
    /// <exception cref="ArgumentException">The host never appears in the capture and no MAC was given.</exception>
    public static ReplayResult Run(IReadOnlyList<CaptureFrame> frames, ReplayOptions options)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(options);
        return new ReplayRun(frames, options).Execute();
    }
}

/// <summary>One replay's state.</summary>
internal sealed class ReplayRun
{
    private const int MaxPollsWhileBusy = 10_000;

    private readonly IReadOnlyList<CaptureFrame> _frames;
    private readonly ReplayOptions _options;
    private readonly List<IStackService> _services;
    private readonly ReplayFrame[] _facts;
    private readonly MacAddress _hostMac;
    private readonly Dictionary<IpAddress, MacAddress> _neighbours = [];
    private readonly Dictionary<(IpAddress Peer, ushort PeerPort, ushort HostPort), TcpFlow> _flows = [];
    private readonly Ipv4Address _host4;
    private readonly List<Ipv6Address> _hosts6 = [];
    private readonly HashSet<IpAddress> _hosts = [];
    private readonly List<NeighbourAnswer> _answers = [];
    private readonly List<ReplayDifference> _timeouts = [];
    private readonly ManualClock _clock = new();
    private ScriptedLink _link = null!;
    private NetworkStack _stack = null!;
    private int _collected;
    private DateTime _start;
    private int _fed, _ignored;

    public ReplayRun(IReadOnlyList<CaptureFrame> frames, ReplayOptions options)
    {
        _frames = frames;
        _options = options;
        _facts = new ReplayFrame[frames.Count];
        for (int i = 0; i < frames.Count; i++) _facts[i] = new ReplayFrame(frames[i].Data);
        _hostMac = options.HostMac ?? FindHostMac() ?? throw new ArgumentException(
            $"host {options.Host} sends nothing in the capture (no IP or ARP frame from it): give its MAC (--mac) or pick another host (--list-hosts)");
        (_host4, _hosts6) = HostAddresses();
        if (!_host4.IsAny) _hosts.Add(_host4);
        foreach (var a in _hosts6) _hosts.Add(a);
        _services = [.. options.Services];
        if (options.ServeRecordedTcp) _services.Add(new RecordedTcpServer(frames, options.Host, paced: !options.Fast));
        if (options.ConnectRecordedTcp) _services.Add(new RecordedTcpClient(frames, options.Host, paced: !options.Fast));
        LearnNeighbours();
    }

    // The host's addresses: the one given, the other family's from the frames its MAC sent (a dual-stack host), and every
    // IPv6 address it sent from (link-local and global), up to what the stack's address table holds beside its own link-local.
    private (Ipv4Address, List<Ipv6Address>) HostAddresses()
    {
        var host4 = _options.Host.IsIpv4 ? _options.Host.AsIpv4 : default;
        var hosts6 = new List<Ipv6Address>();
        if (_options.Host.IsIpv6) hosts6.Add(_options.Host.AsIpv6);
        int max = (_options.Stack?.Ipv6 ?? new Net.Ipv6.Ipv6Options()).MaxAddresses - 1;
        foreach (var f in _facts)
        {
            if (f.Source != _hostMac || !f.IsIp || f.IpSource.IsMulticast || f.IpSource.IsAny) continue;
            if (f.IsIpv4) { if (host4.IsAny) host4 = f.IpSource.AsIpv4; continue; }
            var a = f.IpSource.AsIpv6;
            if (!hosts6.Contains(a) && hosts6.Count < max) hosts6.Add(a);
        }
        return (host4, hosts6);
    }

    private MacAddress? FindHostMac()
    {
        foreach (var f in _facts)
        {
            if (f.IsIp && f.IpSource == _options.Host) return f.Source;
            if (f.IsArp && _options.Host.IsIpv4 && f.ArpSender == _options.Host.AsIpv4) return f.ArpSenderMac;
        }
        return null;
    }

    // What the host itself addressed comes first (the MAC it sent to for an address), then what the peers sent from.
    private void LearnNeighbours()
    {
        foreach (var f in _facts)
            if (f.IsIp && f.Source == _hostMac && !f.Destination.IsMulticast) _neighbours.TryAdd(f.IpDestination, f.Destination);
        foreach (var f in _facts)
        {
            if (f.Source == _hostMac) continue;
            if (f.IsIp && !f.IpSource.IsAny && !f.IpSource.IsMulticast) _neighbours.TryAdd(f.IpSource, f.Source);
            else if (f.IsArp && !f.ArpSender.IsAny) _neighbours.TryAdd(f.ArpSender, f.ArpSenderMac);
        }
    }

    public ReplayResult Execute()
    {
        var stackOptions = (_options.Stack ?? new NetworkStackOptions()) with
        {
            Address = _host4,
            MacAddress = _hostMac,
            PrefixLength = _options.PrefixLength ?? 0,
            Gateway = _options.Gateway,
            AnnounceOnUp = false,
        };
        if (!_options.KeepTimeToLive && HostTimeToLive(ipv6: false) is byte ttl) stackOptions = stackOptions with { TimeToLive = ttl };
        if (_hosts6.Count > 0) stackOptions = stackOptions with { Ipv6 = Ipv6Options(stackOptions.Ipv6) };
        // The window scale the host offered, as its TTL, unless the caller chose one (a mutation): the verdict compares it.
        if (stackOptions.Tcp.WindowScale is null && HostWindowScale() is byte shift)
            stackOptions = stackOptions with { Tcp = stackOptions.Tcp with { WindowScale = shift } };
        _link = new ScriptedLink(new LinkCapabilities(stackOptions.Mtu ?? 1500, 65535 + 18, false), _clock);
        _start = _frames.Count > 0 ? _frames[0].Time : DateTime.UnixEpoch;
        using (_stack = new NetworkStack(_link, stackOptions, new SeededRandomSource(_options.Seed)))
        {
            foreach (var service in _services) service.Start(_stack, _clock.Now);
            _options.Setup?.Invoke(_stack, _clock.Now);
            RunUntilIdle();
            TimeSpan last = TimeSpan.Zero;
            for (int i = 0; i < _frames.Count; i++)
            {
                ref readonly var f = ref _facts[i];
                if (f.Source == _hostMac) { NoteHostFrame(i); continue; }
                if (!IsForHost(f)) { _ignored++; continue; }
                TimeSpan at = _frames[i].Time - _start;
                if (at < last) at = last;
                last = at;
                if (!_options.Fast) AdvanceTo(at);
                if (f.IsTcp) WaitForStack(i);
                Feed(i);
            }
            AdvanceTo((_options.Fast ? _clock.Now : last) + _options.Tail);
        }
        return Verdict.Build(_frames, _facts, _hostMac, _options.Host, _hosts6, _hosts, _link.Sent, _start, _flows, _answers, _timeouts, _fed, 0, _ignored, _options.PureAcksOneByOne);
    }

    private byte? HostTimeToLive(bool ipv6)
    {
        foreach (var f in _facts)
            if (f.IsIp && f.IsIp6 == ipv6 && f.Source == _hostMac && _hosts.Contains(f.IpSource) && f.NotCompared is null
                && f.Icmpv6Type != Icmpv6Type.NeighborAdvertisement) return f.TimeToLive;
        return null;
    }

    // IPv6 as the host had it: its recorded addresses static (global ones with prefix 0, so every address is on the link
    // as for IPv4 and the replay answers the stack's solicitations; link-local ones /64), its hop limit, and quiet unless
    // the caller gave IPv6 options: no DAD, no router solicitations.
    private Net.Ipv6.Ipv6Options Ipv6Options(Net.Ipv6.Ipv6Options? given)
    {
        var v6 = given ?? new Net.Ipv6.Ipv6Options { DupAddrDetectTransmits = 0, RouterSolicitations = 0, Autoconfigure = false };
        var addresses = new List<(Ipv6Address, int)>(v6.StaticAddresses);
        foreach (var a in _hosts6) addresses.Add((a, (ulong)(a.Value >> 118) == 0x3FA ? 64 : 0));
        v6 = v6 with { StaticAddresses = addresses };
        if (!_options.KeepTimeToLive && HostTimeToLive(ipv6: true) is byte hops) v6 = v6 with { HopLimit = hops };
        return v6;
    }

    private byte? HostWindowScale()
    {
        for (int i = 0; i < _facts.Length; i++)
        {
            ref readonly var f = ref _facts[i];
            if (!f.IsTcp || f.IpSource != _options.Host || (f.Flags & TcpFlags.Syn) == 0) continue;
            var options = _frames[i].Data.AsSpan(f.TcpOffset + TcpHeader.MinimumSize, f.TcpHeaderLength - TcpHeader.MinimumSize);
            if (TcpOptions.TryParse(options, out var parsed) == WireError.None && parsed.WindowScale is byte shift) return shift;
        }
        return null;
    }

    private bool IsForHost(in ReplayFrame f)
        => f.Destination == _hostMac || f.Destination.IsMulticast;   // unicast to it, or group/broadcast

    private void Feed(int index)
    {
        var data = _frames[index].Data;
        ref readonly var f = ref _facts[index];
        if (f.IsTcp && _options.RewriteTcp && _flows.TryGetValue((f.IpSource, f.SourcePort, f.DestinationPort), out var flow))
            data = flow.RewritePeerSegment(data, f);
        _fed++;
        _link.Put(data);
        RunUntilIdle();
    }

    // The host's recorded frames move the point the stack must have reached before the peer's next segment.
    private void NoteHostFrame(int index)
    {
        ref readonly var f = ref _facts[index];
        if (!f.IsTcp || !_hosts.Contains(f.IpSource)) return;
        var flow = Flow(f.IpDestination, f.DestinationPort, f.SourcePort);
        if ((f.Flags & TcpFlags.Syn) != 0)
        {
            flow.HostIsn = f.Sequence;
            if ((f.Flags & TcpFlags.Ack) == 0) flow.HostOpened = true;
        }
        if (flow.HostIsn is uint isn) flow.RecordedEnd = Math.Max(flow.RecordedEnd, (long)(uint)(f.Sequence - isn) + f.SequenceLength);
        flow.LastHostFrame = index;
    }

    private TcpFlow Flow(IpAddress peer, ushort peerPort, ushort hostPort)
    {
        if (!_flows.TryGetValue((peer, peerPort, hostPort), out var flow)) _flows[(peer, peerPort, hostPort)] = flow = new TcpFlow();
        return flow;
    }

    // RFC-free pacing: the peer's next segment goes once the stack has sent as far in its sequence space as the host had
    // before it in the recording, or after the response timeout (reported).
    private void WaitForStack(int index)
    {
        ref readonly var f = ref _facts[index];
        if (!_flows.TryGetValue((f.IpSource, f.SourcePort, f.DestinationPort), out var flow)) return;
        long required = flow.RecordedEnd;
        if ((f.Flags & TcpFlags.Fin) != 0 && CrossingHostFin(index, flow) is long end) required = Math.Max(required, end);
        // A connection the host opened waits for the stack's SYN as well (the peer's SYN-ACK must answer it); one the
        // host accepted has nothing to wait for until the stack has answered the peer's SYN.
        if (flow.HostIsn is null || (flow.StackIsn is null && !flow.HostOpened) || flow.StackEnd >= required) return;
        TimeSpan until = _clock.Now + _options.ResponseTimeout;
        while (flow.StackEnd < required)
        {
            var next = NextDeadline();
            if (next is null || next.Value > until) break;
            _clock.Set(next.Value > _clock.Now ? next.Value : _clock.Now + TimeSpan.FromTicks(1));
            RunUntilIdle();
        }
        if (flow.StackEnd >= required) return;
        if (!_options.Fast) _clock.Set(until);
        if (flow.TimedOut) return;   // reported once per connection
        flow.TimedOut = true;
        _timeouts.Add(new ReplayDifference(ReplayDifferenceKind.Timeout, _frames[index].Number, -1,
            $"{f.IpDestination}:{f.DestinationPort} > {f.IpSource}:{f.SourcePort}: the stack sent {flow.StackEnd} of the {required} sequence numbers the host had sent by then"));
    }

    // FINs that crossed on the wire: the capture (taken at the peer's end) shows the peer's FIN first, but the host's next
    // segment on the connection is its own FIN and does not acknowledge the peer's, so the host sent it before the peer's
    // arrived. The peer's FIN then waits for the stack's FIN too (its end in the host's sequence space, or null).
    private long? CrossingHostFin(int index, TcpFlow flow)
    {
        ref readonly var peer = ref _facts[index];
        if (flow.HostIsn is not uint isn) return null;
        uint peerFinEnd = peer.Sequence + (uint)peer.PayloadLength + 1;
        for (int i = index + 1; i < _facts.Length; i++)
        {
            ref readonly var h = ref _facts[i];
            if (!h.IsTcp || h.Source != _hostMac || h.IpDestination != peer.IpSource || h.DestinationPort != peer.SourcePort || h.SourcePort != peer.DestinationPort) continue;
            if ((h.Flags & TcpFlags.Fin) == 0 || (h.Flags & TcpFlags.Ack) == 0 || (int)(h.Acknowledgment - peerFinEnd) >= 0) return null;
            return (long)(uint)(h.Sequence - isn) + h.SequenceLength;
        }
        return null;
    }

    private TimeSpan? NextDeadline()
    {
        TimeSpan? next = _stack.NextDeadline(_clock.Now);
        foreach (var service in _services)
            if (service.NextDeadline is TimeSpan d && (next is null || d < next)) next = d;
        return next;
    }

    // Runs the stack's timers up to a time, in deadline order, then sets the clock to it.
    private void AdvanceTo(TimeSpan time)
    {
        for (int guard = 0; guard < 1_000_000; guard++)
        {
            var next = NextDeadline();
            if (next is null || next.Value > time) break;
            _clock.Set(next.Value > _clock.Now ? next.Value : _clock.Now + TimeSpan.FromTicks(1));
            RunUntilIdle();
        }
        _clock.Set(time);
    }

    // Polls until the stack takes no frame, sends nothing new and has no timer due (answering its ARP requests on the way).
    private void RunUntilIdle()
    {
        for (int polls = 0, dueOnly = 0; polls < MaxPollsWhileBusy; polls++)
        {
            int before = _link.Sent.Count;
            bool worked = _stack.Poll(_clock.Now);
            foreach (var service in _services) service.Poll(_stack, _clock.Now);
            Collect();
            if (worked || _link.Sent.Count != before || _link.HasInput) { dueOnly = 0; continue; }
            if (NextDeadline() is TimeSpan due && due <= _clock.Now && ++dueOnly < 4) continue;   // output a service queued
            break;
        }
    }

    private void Collect()
    {
        for (; _collected < _link.Sent.Count; _collected++)
        {
            var data = _link.Sent[_collected].Frame;
            var f = new ReplayFrame(data);
            if (f.IsArpRequest) AnswerArp(data);
            else if (f.Icmpv6Type == Icmpv6Type.NeighborSolicitation) AnswerSolicitation(f);
            else if (f.IsTcp && _hosts.Contains(f.IpSource)) NoteStackSegment(data, f);
        }
    }

    private void NoteStackSegment(byte[] data, in ReplayFrame f)
    {
        var flow = Flow(f.IpDestination, f.DestinationPort, f.SourcePort);
        if ((f.Flags & TcpFlags.Syn) != 0) flow.StackIsn = f.Sequence;
        if (flow.StackIsn is uint isn) flow.StackEnd = Math.Max(flow.StackEnd, (long)(uint)(f.Sequence - isn) + f.SequenceLength);
        if (ReplayFrame.TryTimestamp(data, f, out int at)) flow.StackTimestamp = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at + 2));
    }

    private void AnswerArp(byte[] request)
    {
        if (EthernetFrame.TryParse(request, out var eth) != WireError.None || ArpPacket.TryParse(eth.Payload, out var arp) != WireError.None) return;
        var target = arp.TargetProtocolAddress;
        if (target == _host4 || !_neighbours.TryGetValue(target, out var mac)) return;
        var reply = new byte[EthernetHeader.Size + ArpHeader.Size];
        new EthernetHeader(_hostMac, mac, EtherType.Arp).WriteTo(reply);
        new ArpHeader(ArpOperation.Reply, mac, target, _hostMac, _host4).WriteTo(reply.AsSpan(EthernetHeader.Size));
        _answers.Add(new NeighbourAnswer(target, mac, _clock.Now));
        _link.Put(reply);
    }

    // The IPv6 twin of the ARP answer (RFC 4861 7.2.4): a solicited advertisement with the override flag and the target's
    // link-layer address, from the target to the soliciting address. DAD probes (from ::) are not answered: that would be
    // a conflict the recorded host did not have.
    private void AnswerSolicitation(in ReplayFrame f)
    {
        var target = f.NdTarget;
        if (f.IpSource.IsAny || _hosts.Contains(target) || !_neighbours.TryGetValue(target, out var mac)) return;
        var destination = f.IpSource.AsIpv6;
        const int message = NeighborAdvertisementHeader.Size + 8;
        var reply = new byte[EthernetHeader.Size + Ipv6Header.Size + message];
        new EthernetHeader(_hostMac, mac, EtherType.Ipv6).WriteTo(reply);
        var ip = reply.AsSpan(EthernetHeader.Size);
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], message);
        ip[6] = (byte)IpProtocol.Icmpv6;
        ip[7] = 255;
        target.WriteTo(ip[8..]);
        destination.WriteTo(ip[24..]);
        var icmp = ip[Ipv6Header.Size..];
        new NeighborAdvertisementHeader(target, Router: false, Solicited: true, Override: true).WriteTo(icmp);
        icmp[NeighborAdvertisementHeader.Size] = 2;       // target link-layer address option, 8 bytes
        icmp[NeighborAdvertisementHeader.Size + 1] = 1;
        mac.WriteTo(icmp[(NeighborAdvertisementHeader.Size + 2)..]);
        Icmpv6Header.FillChecksum(icmp, target, destination);
        _answers.Add(new NeighbourAnswer(target, mac, _clock.Now));
        _link.Put(reply);
    }
}

/// <summary>One TCP connection of the recorded host, as the replay follows it.</summary>
internal sealed class TcpFlow
{
    public uint? HostIsn, StackIsn;
    public long RecordedEnd, StackEnd;
    public uint? StackTimestamp;
    public int LastHostFrame = -1;
    public bool TimedOut;
    /// <summary>The host sent the SYN (it was the connecting side).</summary>
    public bool HostOpened;

    /// <summary>The peer's segment with its acknowledgement, SACK blocks and timestamp echo moved to the stack's numbers.</summary>
    public byte[] RewritePeerSegment(byte[] data, in ReplayFrame f)
    {
        if (HostIsn is not uint host || StackIsn is not uint stack) return data;
        uint delta = stack - host;
        var copy = (byte[])data.Clone();
        var span = copy.AsSpan();
        if ((f.Flags & TcpFlags.Ack) != 0) BinaryPrimitives.WriteUInt32BigEndian(span[(f.TcpOffset + 8)..], f.Acknowledgment + delta);
        ReplayFrame.ShiftSackBlocks(span, f, delta);
        if (StackTimestamp is uint ts && ReplayFrame.TryTimestamp(copy, f, out int at) && BinaryPrimitives.ReadUInt32BigEndian(span[(at + 6)..]) != 0)
            BinaryPrimitives.WriteUInt32BigEndian(span[(at + 6)..], ts);
        // The TCP checksum again (the IP header is unchanged).
        int end = Math.Min(copy.Length, f.IpOffset + f.IpTotalLength);
        var segment = span[f.TcpOffset..end];
        segment[16] = segment[17] = 0;
        ushort checksum = InternetChecksum.ComputeTransport(f.IpSource, f.IpDestination, IpProtocol.Tcp, segment);
        BinaryPrimitives.WriteUInt16BigEndian(segment[16..], checksum);
        return copy;
    }
}
