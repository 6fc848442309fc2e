using System.Buffers.Binary;
using TcpIpSharp.Links;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp.Matrix;

/// <summary>One segment the stack sent, with absolute sequence numbers.</summary>
internal sealed record SentSegment(TimeSpan At, ushort SourcePort, ushort DestinationPort, TcpFlags Flags, uint Seq, uint Ack, ushort Window,
    byte[] Payload, TcpOptions Options)
{
    public int Length => Payload.Length;

    public override string ToString()
        => $"{At.TotalMilliseconds:0}ms {SourcePort}>{DestinationPort} {Flags} seq {Seq} ack {Ack} win {Window} len {Payload.Length}"
           + (Options.SackBlocks.Count > 0 ? $" sack {string.Join(' ', Enumerable.Range(0, Options.SackBlocks.Count).Select(i => $"{Options.SackBlocks[i].Left}-{Options.SackBlocks[i].Right}"))}" : "");
}

/// <summary>
/// The stack under test (192.0.2.2) on an in-memory link, and a peer (192.0.2.1) that writes raw segments with absolute
/// numbers and records what the stack sends, in virtual time with 1 ms steps (the script runner's machinery without
/// the script: matrices compute their segments in code). ARP is answered by the peer.
/// Over <see cref="IpFamily.V6"/> the stack is 2001:db8::2 (static, DAD off) and the peer 2001:db8::1, as in the script
/// runner: the peer answers neighbour solicitations, link chatter (MLD, RS, NA) is dropped, ICMP errors go as their
/// ICMPv6 counterparts, and the stack's MTU is 1520 so its MSS is 1460 as over IPv4 (Tcp/Scripts/README.md).
/// </summary>
internal sealed class RawPeer : IDisposable
{
    public const ushort PeerPort = 40000;
    public readonly ManualClock Clock = new();
    public readonly NetworkStack Stack;
    private readonly InMemoryLink _link;
    private readonly byte[] _buffer = new byte[70000];

    /// <summary>TCP segments the stack sent and not yet taken.</summary>
    public List<SentSegment> Sent { get; } = [];
    /// <summary>Non-TCP IPv4 datagrams the stack sent (protocol, IP payload).</summary>
    public List<(IpProtocol Protocol, byte[] Payload)> SentOther { get; } = [];

    public static readonly Ipv6Address StackIp6 = Ipv6Address.Parse("2001:db8::2"), PeerIp6 = Ipv6Address.Parse("2001:db8::1");
    public readonly IpFamily Family;
    /// <summary>The stack's and the peer's addresses in <see cref="Family"/>.</summary>
    public readonly IpAddress StackIp, PeerIp;

    public RawPeer(TcpConnectionOptions? tcp = null, NetworkStackOptions? options = null, int seed = 7, IpFamily family = IpFamily.V4)
    {
        Family = family;
        (StackIp, PeerIp) = family == IpFamily.V6 ? ((IpAddress)StackIp6, (IpAddress)PeerIp6) : (Frames.StackIp, Frames.PeerIp);
        var o = (options ?? new NetworkStackOptions()) with
        {
            MacAddress = Frames.StackMac, Address = Frames.StackIp, PrefixLength = 24, Gateway = Ipv4Address.Parse("192.0.2.254"),
        };
        if (tcp is not null) o = o with { Tcp = tcp };
        var link = LinkCapabilities.Ethernet;
        if (family == IpFamily.V6)
        {
            o = o with
            {
                Mtu = 1500 + IpFamilies.Ipv6MtuShift,
                Ipv6 = new TcpIpSharp.Net.Ipv6.Ipv6Options { StaticAddresses = [(StackIp6, 64)], DupAddrDetectTransmits = 0, RouterSolicitations = 0 },
            };
            link = link with { Mtu = 1500 + IpFamilies.Ipv6MtuShift, MaxFrameSize = EthernetHeader.Size + 1500 + IpFamilies.Ipv6MtuShift };
        }
        var (a, b) = InMemoryLink.CreatePair(link, queueFrames: 4096);
        _link = b;
        Stack = new NetworkStack(a, o, new SeededRandomSource(seed));
        Stack.AfterFrame = TcpIpSharp.Diagnostics.StackInvariants.Check;
        Stack.Poll(Clock.Now);
        while (_link.TryReceive(_buffer) > 0) { }
        // Teach the stack the peer's MAC (an ARP request, or a neighbour solicitation over IPv6).
        _link.TrySend(family == IpFamily.V6
            ? V6.Ns(PeerIp6, V6.SolicitedNode(StackIp6), StackIp6, Frames.PeerMac)
            : Frames.Arp(ArpOperation.Request, Frames.PeerMac, Frames.PeerIp, MacAddress.Zero, Frames.StackIp));
        Stack.Poll(Clock.Now);
        while (_link.TryReceive(_buffer) > 0) { }
    }

    /// <summary>The byte at stream offset <paramref name="offset"/> of the peer's stream.</summary>
    public static byte Pattern(long offset) => (byte)(offset % 251);

    /// <summary>Injects a segment; <paramref name="payload"/> null means <paramref name="length"/> bytes of zeros.</summary>
    public void Send(TcpFlags flags, uint seq, uint ack, int length = 0, ushort window = 65535, ushort localPort = 8080,
        ushort remotePort = PeerPort, byte[]? payload = null, byte[]? options = null)
    {
        payload ??= new byte[length];
        int optionLength = options is null ? 0 : (options.Length + 3) / 4 * 4;
        int header = TcpHeader.MinimumSize + optionLength;
        var segment = new byte[header + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(TcpSegment.Field.SourcePort), remotePort);
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(TcpSegment.Field.DestinationPort), localPort);
        BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(TcpSegment.Field.SequenceNumber), seq);
        BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(TcpSegment.Field.AcknowledgmentNumber), ack);
        segment[TcpSegment.Field.DataOffset] = (byte)(header / 4 << 4);
        segment[TcpSegment.Field.Flags] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(TcpSegment.Field.WindowSize), window);
        options?.CopyTo(segment.AsSpan(TcpSegment.Field.Options));
        payload.CopyTo(segment.AsSpan(header));
        TcpHeader.FillChecksum(segment, PeerIp, StackIp);
        SendIp(IpProtocol.Tcp, segment);
    }

    /// <summary>Injects an IP datagram (IPv4 or IPv6, as <see cref="Family"/>) from the peer.</summary>
    public void SendIp(IpProtocol protocol, byte[] payload) => SendFrame(Family == IpFamily.V6
        ? V6.Packet(PeerIp6, StackIp6, protocol, payload)
        : Frames.Ipv4(Frames.PeerIp, Frames.StackIp, protocol, payload));

    /// <summary>Injects a whole Ethernet frame and polls at the current time.</summary>
    public void SendFrame(byte[] frame)
    {
        _link.TrySend(frame);
        PollNow();
    }

    /// <summary>An ICMP error of <paramref name="type"/>/<paramref name="code"/> quoting a datagram the stack sent
    /// (its IP header and the first 8 bytes of <paramref name="quotedTransport"/>, RFC 792).</summary>
    public void SendIcmpError(IcmpType type, byte code, IpProtocol quotedProtocol, ReadOnlySpan<byte> quotedTransport, ushort mtu = 0)
    {
        int quoted = Math.Min(8, quotedTransport.Length);
        if (Family == IpFamily.V6)
        {
            // Its ICMPv6 counterpart (Tcp/Scripts/README.md), quoting the IPv6 header and the first 8 transport bytes.
            var (type6, code6, field) = IpFamilies.Icmpv6For(type, code, mtu);
            var body = new byte[4 + Ipv6Header.Size + quoted];
            BinaryPrimitives.WriteUInt32BigEndian(body, field);
            new Ipv6Header(StackIp6, PeerIp6, quotedProtocol, (ushort)quotedTransport.Length, 64).WriteTo(body.AsSpan(4));
            quotedTransport[..quoted].CopyTo(body.AsSpan(4 + Ipv6Header.Size));
            SendFrame(V6.Icmp(PeerIp6, StackIp6, type6, code6, body, hopLimit: 64));
            return;
        }
        var quote = new byte[Ipv4Header.MinimumSize + quoted];
        new Ipv4Header(Frames.StackIp, Frames.PeerIp, quotedProtocol, (ushort)(Ipv4Header.MinimumSize + quotedTransport.Length), 1, 64, true).WriteTo(quote);
        quotedTransport[..quoted].CopyTo(quote.AsSpan(Ipv4Header.MinimumSize));
        var message = new byte[IcmpHeader.Size + quote.Length];
        new IcmpHeader(type, code, mtu).WriteTo(message);
        quote.CopyTo(message.AsSpan(IcmpHeader.Size));
        IcmpHeader.FillChecksum(message);
        SendIp(IpProtocol.Icmp, message);
    }

    /// <summary>The first 8 bytes of a TCP header the stack sent: ports and sequence number (what an ICMP error quotes).</summary>
    public static byte[] QuoteOf(SentSegment s)
    {
        var q = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(q, s.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(q.AsSpan(2), s.DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(q.AsSpan(4), s.Seq);
        return q;
    }

    /// <summary>Polls until the stack is idle at the current time, collecting what it sent.</summary>
    public void PollNow()
    {
        bool again;
        do
        {
            while (Stack.Poll(Clock.Now)) { }
            again = Collect();
        }
        while (again);
    }

    /// <summary>Moves virtual time forward in 1 ms steps, polling at each.</summary>
    public void Run(TimeSpan duration)
    {
        var end = Clock.Now + duration;
        PollNow();
        while (Clock.Now < end)
        {
            Clock.Advance(TimeSpan.FromMilliseconds(1));
            PollNow();
        }
    }

    /// <summary>Runs until <paramref name="done"/> holds (checked each step) or <paramref name="limit"/> passes; false on timeout.</summary>
    public bool RunUntil(Func<bool> done, TimeSpan limit)
    {
        var end = Clock.Now + limit;
        PollNow();
        while (!done())
        {
            if (Clock.Now >= end) return false;
            Clock.Advance(TimeSpan.FromMilliseconds(1));
            PollNow();
        }
        return true;
    }

    /// <summary>Returns and forgets the segments collected so far.</summary>
    public List<SentSegment> Take()
    {
        var list = Sent.ToList();
        Sent.Clear();
        return list;
    }

    /// <summary>The one segment the stack sent (fails otherwise).</summary>
    public SentSegment TakeOne(string what)
    {
        var list = Take();
        if (list.Count != 1) throw new InvalidOperationException($"expected one segment ({what}), got {list.Count}: {string.Join("; ", list)}");
        return list[0];
    }

    private bool Collect()
    {
        bool injected = false;
        int n;
        while ((n = _link.TryReceive(_buffer)) > 0)
        {
            var frame = _buffer.AsSpan(0, n);
            if (EthernetFrame.TryParse(frame, out var eth) != WireError.None) throw new InvalidOperationException("malformed frame from the stack");
            if (Family == IpFamily.V6)
            {
                injected |= CollectIpv6(eth);
                continue;
            }
            if (eth.EtherType == EtherType.Arp)
            {
                if (ArpPacket.TryParse(eth.Payload, out var arp) == WireError.None && arp.Operation == ArpOperation.Request && arp.TargetProtocolAddress == Frames.PeerIp)
                {
                    _link.TrySend(Frames.Arp(ArpOperation.Reply, Frames.PeerMac, Frames.PeerIp, arp.SenderHardwareAddress, arp.SenderProtocolAddress));
                    injected = true;
                }
                continue;
            }
            if (eth.EtherType != EtherType.Ipv4 || Ipv4Packet.TryParse(eth.Payload, out var ip) != WireError.None || !ip.IsChecksumValid)
                throw new InvalidOperationException("a non-IPv4 or malformed frame from the stack");
            if (ip.Protocol != IpProtocol.Tcp)
            {
                SentOther.Add((ip.Protocol, ip.Payload.ToArray()));
                continue;
            }
            if (TcpSegment.TryParse(ip.Payload, out var tcp) != WireError.None || !tcp.IsChecksumValid(ip.Source, ip.Destination))
                throw new InvalidOperationException("a malformed TCP segment or one with a bad checksum from the stack");
            Keep(tcp);
        }
        return injected;
    }

    private void Keep(TcpSegment tcp)
    {
        TcpOptions.TryParse(tcp.Options, out var options);
        Sent.Add(new SentSegment(Clock.Now, tcp.SourcePort, tcp.DestinationPort, tcp.Flags, tcp.SequenceNumber, tcp.AcknowledgmentNumber,
            tcp.WindowSize, tcp.Payload.ToArray(), options));
    }

    // Over IPv6: neighbour solicitations for the peer are answered; link chatter is dropped; TCP is kept, the rest is other.
    private bool CollectIpv6(EthernetFrame eth)
    {
        if (eth.EtherType != EtherType.Ipv6 || Ipv6Packet.TryParse(eth.Payload, out var ip) != WireError.None)
            throw new InvalidOperationException("a non-IPv6 or malformed frame from the stack");
        if (IpFamilies.IsChatter(ip, out var target)) return false;
        if (target is not null)
        {
            if (target != PeerIp6) throw new InvalidOperationException($"a neighbour solicitation for {target}, not the peer");
            var to = ip.Source.IsUnspecified ? V6.AllNodes : ip.Source;
            _link.TrySend(V6.Na(PeerIp6, to, PeerIp6, Frames.PeerMac, solicited: !ip.Source.IsUnspecified));
            return true;
        }
        if (ip.NextHeader != IpProtocol.Tcp)
        {
            SentOther.Add((ip.NextHeader, ip.Payload.ToArray()));
            return false;
        }
        if (TcpSegment.TryParse(ip.Payload, out var tcp) != WireError.None || !tcp.IsChecksumValid(ip.Source, ip.Destination))
            throw new InvalidOperationException("a malformed TCP segment or one with a bad checksum (IPv6 pseudo-header) from the stack");
        if (ip.Source != StackIp6 || ip.Destination != PeerIp6) throw new InvalidOperationException($"a TCP segment from {ip.Source} to {ip.Destination}");
        Keep(tcp);
        return false;
    }

    public TcpConnection? Find(ushort localPort, ushort remotePort = PeerPort) => Stack.Tcp.Find(PeerIp, remotePort, localPort);

    public void Dispose() => Stack.Dispose();
}
