using System.Buffers.Binary;
using System.Globalization;
using System.Reflection;
using System.Text;
using TcpIpSharp.Links;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp.Scripts;

/// <summary>
/// Runs a <see cref="PacketdrillScript"/> against one stack (192.0.2.2, or 2001:db8::2 over IPv6) on an in-memory link in
/// virtual time; the script plays the peer 192.0.2.1 (2001:db8::1). Inbound lines are injected, outbound lines are matched against what the stack sends,
/// calls act on the connection, assertions read its state. Time moves in 1 ms steps, polling the stack at each.
/// See README.md for the syntax and for exactly what is checked.
/// </summary>
internal sealed class PacketdrillRunner : IDisposable
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(1);

    /// <summary>The stack's and the peer's IPv6 addresses when a script runs over <see cref="IpFamily.V6"/>.</summary>
    public static readonly Ipv6Address StackIp6 = Ipv6Address.Parse("2001:db8::2"), PeerIp6 = Ipv6Address.Parse("2001:db8::1");

    // Over IPv6 the stack's MTU is 20 up, so its MSS (and every script's numbers) stay as over IPv4 (README.md).
    private const int Ipv6MtuShift = IpFamilies.Ipv6MtuShift;

    private readonly PacketdrillScript _script;
    private readonly IpFamily _family;
    private readonly IpAddress _stackIp, _peerIp;
    private readonly ManualClock _clock = new();
    private readonly NetworkStack _stack;
    private readonly InMemoryLink _peer;
    private readonly byte[] _buffer = new byte[70000];
    private readonly List<(TimeSpan At, byte[] Segment, string? NotTcp, IpEcn Ecn)> _outbound = [];
    private readonly StringBuilder _trace = new();
    private readonly Dictionary<ushort, Flow> _flows = [];
    private readonly Dictionary<uint, uint> _timestampLabels = [];
    private readonly TcpConnectionOptions _tcpOptions;
    private readonly TimeSpan _tolerance = TimeSpan.FromMilliseconds(10);
    private readonly uint _remoteIsn;
    private readonly ushort _defaultRemotePort = 40000;
    private ushort _defaultLocalPort = 8080;
    private long? _timestampOffset;
    private Flow? _current;
    private TcpListener? _listener;
    private TimeSpan _previous;   // the actual time of the previous line: what relative times count from

    private sealed class Flow(ushort remotePort, ushort localPort)
    {
        public ushort RemotePort { get; } = remotePort;
        public ushort LocalPort { get; set; } = localPort;
        public uint? StackIsn { get; set; }
        public uint? LastTimestamp { get; set; }
        public TcpConnection? Connection { get; set; }
        public TcpConnection? Seen { get; set; }
        public long Written { get; set; }
        public long Read { get; set; }
    }

    public PacketdrillRunner(PacketdrillScript script, IpFamily family = IpFamily.V4)
    {
        _script = script;
        _family = family;
        (_stackIp, _peerIp) = family == IpFamily.V6 ? ((IpAddress)StackIp6, (IpAddress)PeerIp6) : (Frames.StackIp, Frames.PeerIp);
        var stackOptions = new NetworkStackOptions
        {
            MacAddress = Frames.StackMac, Address = Frames.StackIp, PrefixLength = 24, Gateway = Ipv4Address.Parse("192.0.2.254"),
        };
        if (family == IpFamily.V6)
        {
            // Static, usable at once (no DAD), no router solicitations to wait for: scripts start at TCP.
            stackOptions = stackOptions with
            {
                Mtu = 1500 + Ipv6MtuShift,
                Ipv6 = new TcpIpSharp.Net.Ipv6.Ipv6Options { StaticAddresses = [(StackIp6, 64)], DupAddrDetectTransmits = 0, RouterSolicitations = 0 },
            };
        }
        var tcp = new TcpConnectionOptions();
        foreach (var (name, value) in script.Settings)
        {
            switch (name)
            {
                case "tolerance_usecs": _tolerance = TimeSpan.FromMicroseconds(long.Parse(value, Invariant)); break;
                case "mtu": stackOptions = stackOptions with { Mtu = int.Parse(value, Invariant) + (family == IpFamily.V6 ? Ipv6MtuShift : 0) }; break;
                case "syn_queue": stackOptions = stackOptions with { TcpSynQueue = int.Parse(value, Invariant) }; break;
                case "remote_isn": _remoteIsn = uint.Parse(value, Invariant); break;
                case "remote_port": _defaultRemotePort = ushort.Parse(value, Invariant); break;
                case "local_port": _defaultLocalPort = ushort.Parse(value, Invariant); break;
                default:
                    if (!name.StartsWith("tcp.", StringComparison.Ordinal)) throw new ScriptFailure($"unknown setting --{name}");
                    tcp = WithOption(tcp, name[4..], value);
                    break;
            }
        }
        _tcpOptions = tcp;
        stackOptions = stackOptions with { Tcp = tcp };

        // Over IPv6 the link carries the 20 bytes more (a 1534-byte frame, as a jumbo-capable NIC would).
        var link = family == IpFamily.V6
            ? LinkCapabilities.Ethernet with { Mtu = 1500 + Ipv6MtuShift, MaxFrameSize = EthernetHeader.Size + 1500 + Ipv6MtuShift }
            : LinkCapabilities.Ethernet;
        var (a, b) = InMemoryLink.CreatePair(link, queueFrames: 4096);
        _peer = b;
        _stack = new NetworkStack(a, stackOptions, new SeededRandomSource(7));
        _stack.AfterFrame = TcpIpSharp.Diagnostics.StackInvariants.Check;
        _stack.Poll(_clock.Now);
        while (_peer.TryReceive(_buffer) > 0) { }   // the gratuitous ARP
        // Teach the stack the peer's MAC, as an ARP exchange (a neighbour solicitation over IPv6) would, so that scripts
        // start at TCP.
        if (family == IpFamily.V6)
            _peer.TrySend(V6.Ns(PeerIp6, V6.SolicitedNode(StackIp6), StackIp6, Frames.PeerMac));
        else
            _peer.TrySend(Frames.Arp(ArpOperation.Request, Frames.PeerMac, Frames.PeerIp, MacAddress.Zero, Frames.StackIp));
        _stack.Poll(_clock.Now);
        while (_peer.TryReceive(_buffer) > 0) { }
    }

    private static TcpConnectionOptions WithOption(TcpConnectionOptions options, string name, string value)
    {
        var property = typeof(TcpConnectionOptions).GetProperty(name, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new ScriptFailure($"TcpConnectionOptions has no property {name}");
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        object parsed = type == typeof(int) ? int.Parse(value, Invariant)
            : type == typeof(bool) ? bool.Parse(value)
            : type == typeof(TimeSpan) ? TimeSpan.FromSeconds(double.Parse(value, Invariant))
            : type.IsEnum ? Enum.Parse(type, value)
            : throw new ScriptFailure($"cannot set {name} of type {type.Name}");
        var copy = options with { };
        property.SetValue(copy, parsed);
        return copy;
    }

    /// <summary>Parses and runs the script file; throws <see cref="ScriptFailure"/> with a diff and a trace when it fails.</summary>
    public static void RunFile(string path, IpFamily family = IpFamily.V4)
    {
        var script = PacketdrillParser.Parse(Path.GetFileName(path), File.ReadAllText(path));
        using var runner = new PacketdrillRunner(script, family);
        runner.Run();
    }

    public void Run()
    {
        ScriptEvent? current = null;
        try
        {
            foreach (var e in _script.Events)
            {
                current = e;
                switch (e)
                {
                    case ScriptEvent.Packet { Inbound: false } p: ExpectOutbound(p); break;
                    case ScriptEvent.Packet p: AdvanceQuietly(e); Inject(p); break;
                    case ScriptEvent.Icmp i: AdvanceQuietly(e); InjectIcmp(i); break;
                    case ScriptEvent.Call c: AdvanceQuietly(e); Execute(c); break;
                    case ScriptEvent.Assert a: AdvanceQuietly(e); Check(a); break;
                }
            }
            current = null;
            FailOnUnexpected("the end of the script");
        }
        catch (ScriptFailure f)
        {
            string name = _family == IpFamily.V6 ? _script.Name + " (IPv6)" : _script.Name;
            string where = current is null ? $"{name}: at the end" : $"{name}:{current.Line}: `{current.Text}`";
            throw new ScriptFailure($"{where}\n{f.Message}\n\ntrace (virtual seconds; + inbound, - outbound):\n{_trace}\nconnection: {Observed(_current)}");
        }
    }

    // ---------------------------------------------------------------- time

    private void PollOnce()
    {
        bool again;
        do
        {
            while (_stack.Poll(_clock.Now)) { }
            again = Collect();
        }
        while (again);
        foreach (var flow in _flows.Values) Observed(flow);
    }

    // Takes what the stack sent: answers ARP requests (neighbour solicitations) for the peer itself, keeps everything
    // else for matching.
    private bool Collect()
    {
        bool injected = false;
        int n;
        while ((n = _peer.TryReceive(_buffer)) > 0)
        {
            var frame = _buffer.AsSpan(0, n);
            if (EthernetFrame.TryParse(frame, out var eth) != WireError.None) { _outbound.Add((_clock.Now, [], "a malformed Ethernet frame", IpEcn.NotEct)); continue; }
            if (_family == IpFamily.V6)
            {
                injected |= CollectIpv6(eth, n);
                continue;
            }
            if (eth.EtherType == EtherType.Arp)
            {
                if (ArpPacket.TryParse(eth.Payload, out var arp) == WireError.None && arp.Operation == ArpOperation.Request && arp.TargetProtocolAddress == Frames.PeerIp)
                {
                    _peer.TrySend(Frames.Arp(ArpOperation.Reply, Frames.PeerMac, Frames.PeerIp, arp.SenderHardwareAddress, arp.SenderProtocolAddress));
                    injected = true;
                }
                continue;
            }
            if (eth.EtherType != EtherType.Ipv4 || Ipv4Packet.TryParse(eth.Payload, out var ip) != WireError.None || !ip.IsChecksumValid)
            {
                _outbound.Add((_clock.Now, [], $"a non-IPv4 or malformed frame ({n} bytes)", IpEcn.NotEct));
                continue;
            }
            if (ip.Protocol != IpProtocol.Tcp)
            {
                _outbound.Add((_clock.Now, [], $"an IPv4 {ip.Protocol} datagram to {ip.Destination}", IpEcn.NotEct));
                continue;
            }
            if (TcpSegment.TryParse(ip.Payload, out var tcp) != WireError.None || !tcp.IsChecksumValid(ip.Source, ip.Destination))
            {
                _outbound.Add((_clock.Now, [], "a malformed TCP segment or one with a bad checksum", IpEcn.NotEct));
                continue;
            }
            if (ip.Source != Frames.StackIp || ip.Destination != Frames.PeerIp)
            {
                _outbound.Add((_clock.Now, [], $"a TCP segment from {ip.Source} to {ip.Destination}", IpEcn.NotEct));
                continue;
            }
            KeepSegment(ip.Payload, (IpEcn)(ip.TypeOfService & 3));
        }
        return injected;
    }

    private void KeepSegment(ReadOnlySpan<byte> segment, IpEcn ecn)
    {
        var bytes = segment.ToArray();
        _outbound.Add((_clock.Now, bytes, null, ecn));
        _trace.Append(CultureInfo.InvariantCulture, $"{Seconds(_clock.Now)} - {EcnText(ecn)}{Describe(bytes)}\n");
    }

    // One frame over IPv6: a neighbour solicitation for the peer is answered (as ARP is over IPv4); MLD reports, router
    // solicitations and the stack's own neighbour advertisements are link chatter the scripts do not speak of; TCP is kept.
    private bool CollectIpv6(EthernetFrame eth, int n)
    {
        if (eth.EtherType != EtherType.Ipv6 || Ipv6Packet.TryParse(eth.Payload, out var ip) != WireError.None)
        {
            _outbound.Add((_clock.Now, [], $"a non-IPv6 or malformed frame ({n} bytes)", IpEcn.NotEct));
            return false;
        }
        if (IpFamilies.IsChatter(ip, out var target)) return false;
        if (target is not null)
        {
            if (target != PeerIp6)
            {
                _outbound.Add((_clock.Now, [], $"a neighbour solicitation from {ip.Source} not for the peer", IpEcn.NotEct));
                return false;
            }
            // RFC 4861 7.2.4: solicited, override, to the solicitation's source (all nodes when it was ::).
            var to = ip.Source.IsUnspecified ? V6.AllNodes : ip.Source;
            _peer.TrySend(V6.Na(PeerIp6, to, PeerIp6, Frames.PeerMac, solicited: !ip.Source.IsUnspecified));
            _trace.Append(CultureInfo.InvariantCulture, $"{Seconds(_clock.Now)} - neighbour solicitation for {PeerIp6} (answered)\n");
            return true;
        }
        if (ip.NextHeader != IpProtocol.Tcp)
        {
            _outbound.Add((_clock.Now, [], $"an IPv6 {ip.NextHeader} packet to {ip.Destination}", IpEcn.NotEct));
            return false;
        }
        if (TcpSegment.TryParse(ip.Payload, out var tcp) != WireError.None || !tcp.IsChecksumValid(ip.Source, ip.Destination))
        {
            _outbound.Add((_clock.Now, [], "a malformed TCP segment or one with a bad checksum (IPv6 pseudo-header)", IpEcn.NotEct));
            return false;
        }
        if (ip.Source != StackIp6 || ip.Destination != PeerIp6)
        {
            _outbound.Add((_clock.Now, [], $"a TCP segment from {ip.Source} to {ip.Destination}", IpEcn.NotEct));
            return false;
        }
        KeepSegment(ip.Payload, (IpEcn)(ip.TrafficClass & 3));
        return false;
    }

    // Moves the clock to the line's time; nothing may be sent meanwhile (that was not expected by the script).
    private void AdvanceQuietly(ScriptEvent e)
    {
        FailOnUnexpected($"line {e.Line}");
        var (from, _) = e.Time.Resolve(_previous);
        while (_clock.Now < from)
        {
            var step = from - _clock.Now < Step ? from - _clock.Now : Step;
            _clock.Advance(step);
            PollOnce();
            FailOnUnexpected($"line {e.Line} at {Seconds(from)}");
        }
        _previous = _clock.Now;
        _trace.Append(CultureInfo.InvariantCulture, $"{Seconds(_clock.Now)}   {e.Text}\n");
    }

    private void FailOnUnexpected(string before)
    {
        if (_outbound.Count == 0) return;
        var (at, segment, notTcp, _) = _outbound[0];
        throw new ScriptFailure($"unexpected outbound packet at {Seconds(at)} s, before {before}: {notTcp ?? Describe(segment)}"
            + (_outbound.Count > 1 ? $" (and {_outbound.Count - 1} more)" : ""));
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000", Invariant);

    // ---------------------------------------------------------------- packets

    private Flow FlowFor(ushort? remotePort)
    {
        if (remotePort is null)
        {
            if (_current is null)
            {
                _current = new Flow(_defaultRemotePort, _listener?.Port ?? _defaultLocalPort);
                _flows[_current.RemotePort] = _current;
            }
            return _current;
        }
        if (!_flows.TryGetValue(remotePort.Value, out var flow))
            _flows[remotePort.Value] = flow = new Flow(remotePort.Value, _listener?.Port ?? _defaultLocalPort);
        return flow;
    }

    private static byte Pattern(long offset) => (byte)(offset % 251);

    private void Inject(ScriptEvent.Packet p)
    {
        var flow = FlowFor(p.RemotePort);
        var options = new byte[TcpOptions.MaximumLength];
        int optionLength = p.Options is null ? 0 : LayOut(p.Options, options, flow);
        int headerLength = TcpHeader.MinimumSize + (optionLength + 3) / 4 * 4;
        if (headerLength > TcpHeader.MaximumSize) throw new ScriptFailure("the options take more than 40 bytes");
        var segment = new byte[headerLength + p.Length];
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(TcpSegment.Field.SourcePort), flow.RemotePort);
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(TcpSegment.Field.DestinationPort), flow.LocalPort);
        BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(TcpSegment.Field.SequenceNumber), _remoteIsn + p.Start);
        BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(TcpSegment.Field.AcknowledgmentNumber), p.Ack is uint ack ? (flow.StackIsn ?? 0) + ack : 0);
        segment[TcpSegment.Field.DataOffset] = (byte)(headerLength / 4 << 4);
        segment[TcpSegment.Field.Flags] = (byte)p.Flags;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(TcpSegment.Field.WindowSize), p.Window ?? 65535);
        options.AsSpan(0, optionLength).CopyTo(segment.AsSpan(TcpSegment.Field.Options));
        long offset = p.Start + (p.Flags.HasFlag(TcpFlags.Syn) ? 1 : 0) - 1;
        for (int i = 0; i < p.Length; i++) segment[headerLength + i] = Pattern(offset + i);
        TcpHeader.FillChecksum(segment, _peerIp, _stackIp);
        byte ecn = (byte)(p.Ecn ?? IpEcn.NotEct);
        if (p.Fragments is { } fragments) { InjectFragments(p, segment, fragments); return; }
        _trace.Append(CultureInfo.InvariantCulture, $"{Seconds(_clock.Now)} + {EcnText(p.Ecn ?? IpEcn.NotEct)}{Describe(segment, inbound: true)}\n");
        _peer.TrySend(_family == IpFamily.V6
            ? V6.Packet(PeerIp6, StackIp6, IpProtocol.Tcp, segment, trafficClass: ecn)
            : Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Tcp, segment, tos: ecn));
        PollOnce();
    }

    // The segment as IP fragments of about equal size (all but the last a multiple of 8 bytes), each with its own ECN
    // field: how a script checks what reassembly does with ECN (RFC 3168 5.3).
    private void InjectFragments(ScriptEvent.Packet p, byte[] segment, IReadOnlyList<IpEcn> fragments)
    {
        int piece = (segment.Length / fragments.Count + 7) & ~7;
        if (piece == 0 || piece * (fragments.Count - 1) >= segment.Length) throw new ScriptFailure($"a {segment.Length}-byte segment does not make {fragments.Count} fragments");
        uint id = (uint)(0x4000 + p.Line);
        var marks = string.Join(",", fragments.Select(f => EcnText(f).Trim() is { Length: > 0 } t ? t[1..^1] : "noecn"));
        _trace.Append(CultureInfo.InvariantCulture, $"{Seconds(_clock.Now)} + [{marks}] {Describe(segment, inbound: true)} (as {fragments.Count} fragments)\n");
        for (int i = 0; i < fragments.Count; i++)
        {
            int offset = i * piece, length = i == fragments.Count - 1 ? segment.Length - offset : piece;
            bool more = i < fragments.Count - 1;
            var data = segment.AsSpan(offset, length);
            _peer.TrySend(_family == IpFamily.V6
                ? V6.Fragment(PeerIp6, StackIp6, id, offset, more, data, IpProtocol.Tcp, trafficClass: (byte)fragments[i])
                : Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Tcp, data, id: (ushort)id, more: more, offset: offset, tos: (byte)fragments[i]));
        }
        PollOnce();
    }

    // Writes the options in the order listed (inbound lines are laid out exactly as written); returns the length.
    private int LayOut(IReadOnlyList<ScriptOption> options, Span<byte> o, Flow flow)
    {
        int p = 0;
        foreach (var option in options)
        {
            switch (option)
            {
                case ScriptOption.Mss m: o[p] = 2; o[p + 1] = 4; BinaryPrimitives.WriteUInt16BigEndian(o[(p + 2)..], m.Value); p += 4; break;
                case ScriptOption.WindowScale w: o[p] = 3; o[p + 1] = 3; o[p + 2] = w.Shift; p += 3; break;
                case ScriptOption.SackPermitted: o[p] = 4; o[p + 1] = 2; p += 2; break;
                case ScriptOption.Nop: o[p++] = 1; break;
                case ScriptOption.Eol: o[p++] = 0; break;
                case ScriptOption.Timestamp t:
                    if (t.Value is null || t.EchoReply is null) throw new ScriptFailure("an inbound TS option needs numbers, not *");
                    o[p] = 8; o[p + 1] = 10;
                    BinaryPrimitives.WriteUInt32BigEndian(o[(p + 2)..], t.Value.Value);
                    BinaryPrimitives.WriteUInt32BigEndian(o[(p + 6)..], TranslateEcho(t.EchoReply.Value));
                    p += 10;
                    break;
                case ScriptOption.Sack s:
                    o[p] = 5; o[p + 1] = (byte)(2 + 8 * s.Blocks.Count);
                    p += 2;
                    foreach (var (left, right) in s.Blocks)
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(o[p..], (flow.StackIsn ?? 0) + left);
                        BinaryPrimitives.WriteUInt32BigEndian(o[(p + 4)..], (flow.StackIsn ?? 0) + right);
                        p += 8;
                    }
                    break;
            }
        }
        return p;
    }

    // An inbound ecr names a value the script gave to an outbound TS val; it becomes the value the stack really sent.
    private uint TranslateEcho(uint echo)
    {
        if (echo == 0) return 0;
        if (_timestampLabels.TryGetValue(echo, out uint actual)) return actual;
        return _timestampOffset is long offset ? (uint)(echo + offset) : echo;
    }

    private void InjectIcmp(ScriptEvent.Icmp e)
    {
        if (_family == IpFamily.V6) { InjectIcmpv6(e); return; }
        var flow = FlowFor(e.RemotePort);
        var quote = new byte[Ipv4Header.MinimumSize + 8];
        new Ipv4Header(Frames.StackIp, Frames.PeerIp, IpProtocol.Tcp, (ushort)(Ipv4Header.MinimumSize + TcpHeader.MinimumSize + e.QuotedLength), 1, 64, true)
            .WriteTo(quote);
        BinaryPrimitives.WriteUInt16BigEndian(quote.AsSpan(20), flow.LocalPort);
        BinaryPrimitives.WriteUInt16BigEndian(quote.AsSpan(22), flow.RemotePort);
        BinaryPrimitives.WriteUInt32BigEndian(quote.AsSpan(24), (flow.StackIsn ?? 0) + e.QuotedStart);
        var message = new byte[IcmpHeader.Size + quote.Length];
        new IcmpHeader(e.Type, e.Code, e.Mtu).WriteTo(message);
        quote.CopyTo(message.AsSpan(IcmpHeader.Size));
        IcmpHeader.FillChecksum(message);
        _trace.Append(CultureInfo.InvariantCulture, $"{Seconds(_clock.Now)} + icmp {e.Type} code {e.Code} mtu {e.Mtu}\n");
        _peer.TrySend(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, message));
        PollOnce();
    }

    // The ICMPv6 counterpart of the script's ICMPv4 error (README.md, "ICMP over IPv6"), quoting the IPv6 header and the
    // first 8 TCP bytes of the segment the script names.
    private void InjectIcmpv6(ScriptEvent.Icmp e)
    {
        var flow = FlowFor(e.RemotePort);
        Icmpv6Type type;
        byte code;
        uint rest;
        try { (type, code, rest) = IpFamilies.Icmpv6For(e.Type, e.Code, e.Mtu); }
        catch (ArgumentException x) { throw new ScriptFailure(x.Message); }
        var quote = new byte[Ipv6Header.Size + 8];
        new Ipv6Header(StackIp6, PeerIp6, IpProtocol.Tcp, (ushort)(TcpHeader.MinimumSize + e.QuotedLength), 64).WriteTo(quote);
        BinaryPrimitives.WriteUInt16BigEndian(quote.AsSpan(Ipv6Header.Size), flow.LocalPort);
        BinaryPrimitives.WriteUInt16BigEndian(quote.AsSpan(Ipv6Header.Size + 2), flow.RemotePort);
        BinaryPrimitives.WriteUInt32BigEndian(quote.AsSpan(Ipv6Header.Size + 4), (flow.StackIsn ?? 0) + e.QuotedStart);
        var body = new byte[4 + quote.Length];
        BinaryPrimitives.WriteUInt32BigEndian(body, rest);
        quote.CopyTo(body.AsSpan(4));
        _trace.Append(CultureInfo.InvariantCulture, $"{Seconds(_clock.Now)} + icmpv6 {type} code {code}{(type == Icmpv6Type.PacketTooBig ? $" mtu {rest}" : "")}\n");
        _peer.TrySend(V6.Icmp(PeerIp6, StackIp6, type, code, body, hopLimit: 64));
        PollOnce();
    }

    private void ExpectOutbound(ScriptEvent.Packet p)
    {
        var (from, to) = p.Time.Resolve(_previous);
        var earliest = from - _tolerance;
        var latest = to + _tolerance;
        while (_outbound.Count == 0)
        {
            if (_clock.Now >= latest)
                throw new ScriptFailure($"expected at {Seconds(from)}{(to != from ? "~" + Seconds(to) : "")} s (±{_tolerance.TotalMilliseconds} ms): {p.Text.Trim()}\n" +
                                        $"but nothing was sent up to {Seconds(_clock.Now)} s");
            _clock.Advance(Step);
            PollOnce();
        }
        var (at, segment, notTcp, ecn) = _outbound[0];
        _outbound.RemoveAt(0);
        string expectation = $"expected at {Seconds(from)}{(to != from ? "~" + Seconds(to) : "")} s: {Strip(p.Text)}";
        if (notTcp is not null) throw new ScriptFailure($"{expectation}\nactual at {Seconds(at)} s: {notTcp}");
        var flow = FlowFor(p.RemotePort);
        var differences = Compare(p, segment, flow);
        if (p.Ecn is IpEcn wantEcn && ecn != wantEcn) differences.Insert(0, $"IP ECN field: expected {EcnName(wantEcn)}, got {EcnName(ecn)}");
        if (at < earliest) differences.Insert(0, $"time: sent at {Seconds(at)} s, earlier than {Seconds(earliest)}");
        if (differences.Count > 0)
            throw new ScriptFailure($"{expectation}\nactual at {Seconds(at)} s:   {EcnText(ecn)}{Describe(segment)}\ndifferences:\n  " + string.Join("\n  ", differences));
        _previous = at;
        _trace.Append(CultureInfo.InvariantCulture, $"{Seconds(at)}   {p.Text} (matched)\n");
    }

    private static string Strip(string line)
    {
        int space = line.IndexOfAny([' ', '\t']);
        return line[(space + 1)..].Trim();
    }

    private List<string> Compare(ScriptEvent.Packet p, byte[] bytes, Flow flow)
    {
        var d = new List<string>();
        TcpSegment.TryParse(bytes, out var s);
        if (s.DestinationPort != flow.RemotePort) d.Add($"destination port: expected {flow.RemotePort}, got {s.DestinationPort}");
        if (flow.Connection is null && flow.LocalPort == 0) flow.LocalPort = s.SourcePort;
        else if (s.SourcePort != flow.LocalPort) d.Add($"source port: expected {flow.LocalPort}, got {s.SourcePort}");
        var flags = s.Flags & ~TcpFlags.Ns;
        if (flags != p.Flags) d.Add($"flags: expected {FlagText(p.Flags)}, got {FlagText(flags)}");
        // Learn the stack's ISN from its SYN or SYN-ACK, as packetdrill does.
        if (p.Flags.HasFlag(TcpFlags.Syn) && flags.HasFlag(TcpFlags.Syn)) flow.StackIsn = s.SequenceNumber - p.Start;
        uint seq = s.SequenceNumber - (flow.StackIsn ?? 0);
        int length = s.Payload.Length;
        if (seq != p.Start || length != p.Length) d.Add($"sequence: expected {p.Start}:{p.End}({p.Length}), got {seq}:{seq + (uint)length}({length})");
        if (p.Ack is uint ack && flags.HasFlag(TcpFlags.Ack) && s.AcknowledgmentNumber - _remoteIsn != ack)
            d.Add($"ack: expected {ack}, got {s.AcknowledgmentNumber - _remoteIsn}");
        if (p.Window is ushort window && s.WindowSize != window) d.Add($"win: expected {window}, got {s.WindowSize}");
        if (length > 0 && seq == p.Start)
        {
            long offset = seq + (flags.HasFlag(TcpFlags.Syn) ? 1 : 0) - 1;
            var payload = s.Payload;
            for (int i = 0; i < payload.Length; i++)
            {
                if (payload[i] != Pattern(offset + i)) { d.Add($"payload: byte {i} (stream offset {offset + i}) is {payload[i]}, the data written there was {Pattern(offset + i)}"); break; }
            }
        }
        if (TcpOptions.TryParse(s.Options, out var actual) != WireError.None) { d.Add("options: malformed"); return d; }
        if (actual.Timestamp is TcpTimestamp ts)
        {
            if (flow.LastTimestamp is uint last && (int)(ts.Value - last) < 0) d.Add($"TS val went backwards: {ts.Value} after {last} (RFC 7323 5.4)");
            flow.LastTimestamp = ts.Value;
        }
        if (p.Options is { } expected) CompareOptions(expected, actual, d);
        return d;
    }

    private void CompareOptions(IReadOnlyList<ScriptOption> expected, TcpOptions actual, List<string> d)
    {
        var mss = expected.OfType<ScriptOption.Mss>().FirstOrDefault();
        if (mss?.Value != actual.MaximumSegmentSize)
            d.Add($"option mss: expected {(mss is null ? "none" : mss.Value)}, got {(actual.MaximumSegmentSize?.ToString(Invariant) ?? "none")}");
        var ws = expected.OfType<ScriptOption.WindowScale>().FirstOrDefault();
        if (ws?.Shift != actual.WindowScale)
            d.Add($"option wscale: expected {(ws is null ? "none" : ws.Shift)}, got {(actual.WindowScale?.ToString(Invariant) ?? "none")}");
        bool sackOk = expected.OfType<ScriptOption.SackPermitted>().Any();
        if (sackOk != actual.SackPermitted) d.Add($"option sackOK: expected {(sackOk ? "present" : "none")}, got {(actual.SackPermitted ? "present" : "none")}");
        var ts = expected.OfType<ScriptOption.Timestamp>().FirstOrDefault();
        if (ts is null != actual.Timestamp is null)
            d.Add($"option TS: expected {(ts is null ? "none" : "present")}, got {(actual.Timestamp is null ? "none" : "present")}");
        else if (ts is not null && actual.Timestamp is TcpTimestamp a)
        {
            if (ts.EchoReply is uint ecr && ecr != a.EchoReply) d.Add($"option TS ecr: expected {ecr}, got {a.EchoReply}");
            if (ts.Value is uint label)
            {
                _timestampLabels[label] = a.Value;
                _timestampOffset = (long)a.Value - label;
            }
        }
        var sack = expected.OfType<ScriptOption.Sack>().FirstOrDefault();
        var want = sack?.Blocks ?? [];
        var got = new List<(uint, uint)>();
        for (int i = 0; i < actual.SackBlocks.Count; i++) got.Add((actual.SackBlocks[i].Left - _remoteIsn, actual.SackBlocks[i].Right - _remoteIsn));
        if (!want.SequenceEqual(got))
            d.Add($"option sack: expected {(want.Count == 0 ? "none" : string.Join(' ', want.Select(b => $"{b.Left}:{b.Right}")))}, " +
                  $"got {(got.Count == 0 ? "none" : string.Join(' ', got.Select(b => $"{b.Item1}:{b.Item2}")))}");
    }

    private static string EcnText(IpEcn ecn) => ecn switch
    {
        IpEcn.Ect0 => "[ect0] ", IpEcn.Ect1 => "[ect1] ", IpEcn.Ce => "[ce] ", _ => "",
    };

    private static string EcnName(IpEcn ecn) => ecn == IpEcn.NotEct ? "[noecn]" : EcnText(ecn).Trim();

    private static string FlagText(TcpFlags f)
    {
        var sb = new StringBuilder();
        if (f.HasFlag(TcpFlags.Syn)) sb.Append('S');
        if (f.HasFlag(TcpFlags.Fin)) sb.Append('F');
        if (f.HasFlag(TcpFlags.Rst)) sb.Append('R');
        if (f.HasFlag(TcpFlags.Psh)) sb.Append('P');
        if (f.HasFlag(TcpFlags.Urg)) sb.Append('U');
        if (f.HasFlag(TcpFlags.Ece)) sb.Append('E');
        if (f.HasFlag(TcpFlags.Cwr)) sb.Append('W');
        if (f.HasFlag(TcpFlags.Ack)) sb.Append('.');
        return sb.Length == 0 ? "(none)" : sb.ToString();
    }

    // A segment in the script's own notation, sequence numbers relative to each side's ISN.
    private string Describe(byte[] bytes, bool inbound = false)
    {
        if (TcpSegment.TryParse(bytes, out var s) != WireError.None) return "(malformed)";
        uint seqBase, ackBase;
        ushort remotePort = inbound ? s.SourcePort : s.DestinationPort;
        uint stackIsn = _flows.TryGetValue(remotePort, out var flow) && flow.StackIsn is uint isn ? isn
            : !inbound && s.Flags.HasFlag(TcpFlags.Syn) ? s.SequenceNumber : 0;
        if (inbound) (seqBase, ackBase) = (_remoteIsn, stackIsn);
        else (seqBase, ackBase) = (stackIsn, _remoteIsn);
        uint seq = s.SequenceNumber - seqBase;
        var sb = new StringBuilder();
        if (remotePort != (_current?.RemotePort ?? _defaultRemotePort)) sb.Append(CultureInfo.InvariantCulture, $"[port {remotePort}] ");
        sb.Append(CultureInfo.InvariantCulture, $"{FlagText(s.Flags)} {seq}:{seq + (uint)s.Payload.Length}({s.Payload.Length})");
        if (s.Flags.HasFlag(TcpFlags.Ack)) sb.Append(CultureInfo.InvariantCulture, $" ack {s.AcknowledgmentNumber - ackBase}");
        sb.Append(CultureInfo.InvariantCulture, $" win {s.WindowSize}");
        var items = new List<string>();
        var reader = new TcpOptionReader(s.Options);
        while (reader.Read())
        {
            var data = reader.Data;
            items.Add(reader.Kind switch
            {
                TcpOptionKind.MaximumSegmentSize => $"mss {BinaryPrimitives.ReadUInt16BigEndian(data)}",
                TcpOptionKind.WindowScale => $"wscale {data[0]}",
                TcpOptionKind.SackPermitted => "sackOK",
                TcpOptionKind.Timestamps => $"TS val {BinaryPrimitives.ReadUInt32BigEndian(data)} ecr {BinaryPrimitives.ReadUInt32BigEndian(data[4..])}",
                TcpOptionKind.Sack => SackText(data, ackBase),
                _ => $"kind {(int)reader.Kind}",
            });
        }
        if (items.Count > 0) sb.Append(" <").Append(string.Join(',', items)).Append('>');
        return sb.ToString();
    }

    private static string SackText(ReadOnlySpan<byte> data, uint baseline)
    {
        var sb = new StringBuilder("sack");
        for (int i = 0; i + 8 <= data.Length; i += 8)
            sb.Append(CultureInfo.InvariantCulture, $" {BinaryPrimitives.ReadUInt32BigEndian(data[i..]) - baseline}:{BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..]) - baseline}");
        return sb.ToString();
    }

    // ---------------------------------------------------------------- calls

    // The flow's connection whether or not it was accepted yet (it stays visible after the table frees it).
    private TcpConnection? Observed(Flow? flow)
    {
        if (flow is null) return null;
        if (flow.Connection is { } c) return c;
        var found = _stack.Tcp.Find(_peerIp, flow.RemotePort, flow.LocalPort);
        if (found is not null) flow.Seen = found;
        return flow.Seen;
    }

    private TcpConnection Connection(ScriptEvent e)
        => _current?.Connection ?? throw new ScriptFailure($"`{e.Text.Trim()}` needs a connection (connect() or accept() first)");

    private static long Number(ScriptEvent.Call c, int index)
    {
        if (index >= c.Arguments.Count) throw new ScriptFailure($"{c.Name}() needs argument {index + 1}");
        return long.Parse(c.Arguments[index], Invariant);
    }

    private void Execute(ScriptEvent.Call c)
    {
        long result;
        string? error = null;
        switch (c.Name)
        {
            case "listen":
            {
                var port = (ushort)Number(c, 0);
                int backlog = c.Arguments.Count > 1 ? (int)Number(c, 1) : 128;
                _listener = _stack.ListenTcp(port, backlog, _tcpOptions);
                _defaultLocalPort = port;
                foreach (var f in _flows.Values.Where(f => f.Connection is null)) f.LocalPort = port;
                result = 0;
                break;
            }
            case "close_listener":
                (_listener ?? throw new ScriptFailure("no listener")).Close();
                result = 0;
                break;
            case "connect":
            {
                var port = (ushort)Number(c, 0);
                var connection = _stack.ConnectTcp(_peerIp, port, _tcpOptions);
                var flow = new Flow(port, connection.LocalPort) { Connection = connection };
                _flows[port] = flow;
                _current = flow;
                result = 0;
                break;
            }
            case "accept":
                if (_listener is null) throw new ScriptFailure("accept() before listen()");
                if (_listener.TryAccept(out var accepted))
                {
                    if (!_flows.TryGetValue(accepted.RemotePort, out var flow)) _flows[accepted.RemotePort] = flow = new Flow(accepted.RemotePort, accepted.LocalPort);
                    flow.Connection = accepted;
                    _current = flow;
                    result = 0;
                }
                else (result, error) = (-1, "EAGAIN");
                break;
            case "write":
            {
                var connection = Connection(c);
                int n = (int)Number(c, 0);
                var flow = _current!;
                var data = new byte[n];
                for (int i = 0; i < n; i++) data[i] = Pattern(flow.Written + i);
                if (!connection.IsSendOpen) (result, error) = (-1, connection.Error != NetError.None ? Errno(connection.Error) : "EPIPE");
                else
                {
                    result = connection.Send(data);
                    if (result == 0 && n > 0) (result, error) = (-1, "EAGAIN");
                    else flow.Written += result;
                }
                if (c.Expected is null && result != n) throw new ScriptFailure($"write({n}) took {result}{(error is null ? "" : " " + error)}");
                break;
            }
            case "read":
            {
                var connection = Connection(c);
                int n = (int)Number(c, 0);
                var flow = _current!;
                var data = new byte[n];
                result = connection.Receive(data);
                if (result < 0) error = connection.Error != NetError.None ? Errno(connection.Error) : "EAGAIN";
                for (int i = 0; i < result; i++)
                {
                    if (data[i] != Pattern(flow.Read + i))
                        throw new ScriptFailure($"read: byte at stream offset {flow.Read + i} is {data[i]}, the peer sent {Pattern(flow.Read + i)} there");
                }
                if (result > 0) flow.Read += result;
                if (c.Expected is null && result != n) throw new ScriptFailure($"read({n}) returned {result}{(error is null ? "" : " " + error)}");
                break;
            }
            case "close": Connection(c).Close(); result = 0; break;
            case "shutdown": Connection(c).Shutdown(); result = 0; break;
            case "abort": Connection(c).Abort(); result = 0; break;
            case "setsockopt":
                if (c.Arguments.Count != 2 || c.Arguments[0] != "TCP_NODELAY") throw new ScriptFailure("setsockopt(TCP_NODELAY, 0|1) only");
                Connection(c).NoDelay = Number(c, 1) != 0;
                result = 0;
                break;
            default:
                throw new ScriptFailure($"unknown call {c.Name}() (listen, connect, accept, write, read, close, shutdown, abort, close_listener, setsockopt)");
        }
        if (c.Expected is long expected && expected != result)
            throw new ScriptFailure($"{c.Name}() returned {result}{(error is null ? "" : " " + error)}, expected {expected}{(c.ExpectedError is null ? "" : " " + c.ExpectedError)}");
        if (c.ExpectedError is string e && e != error)
            throw new ScriptFailure($"{c.Name}() failed with {error ?? "no error"}, expected {e}");
        PollOnce();
    }

    private static string Errno(NetError error) => error switch
    {
        NetError.None => "0",
        NetError.ConnectionRefused => "ECONNREFUSED",
        NetError.ConnectionReset => "ECONNRESET",
        NetError.TimedOut => "ETIMEDOUT",
        NetError.HostUnreachable => "EHOSTUNREACH",
        NetError.NetworkUnreachable => "ENETUNREACH",
        NetError.MessageTooLong => "EMSGSIZE",
        _ => error.ToString().ToUpperInvariant(),
    };

    // ---------------------------------------------------------------- assertions

    private void Check(ScriptEvent.Assert a)
    {
        foreach (var (name, op, value) in a.Conditions)
        {
            if (name is "state" or "tcpi_state")
            {
                string actual = StateName(Observed(_current)?.State ?? (_listener is { IsClosed: false } ? TcpState.Listen : TcpState.Closed));
                string want = NormaliseState(value);
                bool ok = op switch { "==" => actual == want, "!=" => actual != want, _ => throw new ScriptFailure("state compares with == or !=") };
                if (!ok) throw new ScriptFailure($"state is {actual}, expected {op} {want}");
                continue;
            }
            if (name == "error")
            {
                string actual = Errno(Observed(_current)?.Error ?? NetError.None);
                string want = value is "none" or "0" ? "0" : value;
                bool ok = op switch { "==" => actual == want, "!=" => actual != want, _ => throw new ScriptFailure("error compares with == or !=") };
                if (!ok) throw new ScriptFailure($"error is {actual}, expected {op} {want}");
                continue;
            }
            long got = Quantity(name);
            long limit = long.Parse(value, Invariant);
            bool holds = op switch
            {
                "==" => got == limit, "!=" => got != limit, "<" => got < limit, "<=" => got <= limit, ">" => got > limit, ">=" => got >= limit,
                _ => false,
            };
            if (!holds) throw new ScriptFailure($"{name} is {got}, expected {op} {limit}");
        }
    }

    private long Quantity(string name)
    {
        if (name.StartsWith("stats.", StringComparison.Ordinal))
        {
            // Public properties, or the internal NameCount fields behind the ones not yet published as properties.
            var counters = _stack.Statistics.TcpDetail;
            var type = typeof(TcpIpSharp.Diagnostics.TcpCounters);
            if (type.GetProperty(name[6..]) is { } property) return (long)property.GetValue(counters)!;
            var field = type.GetField(name[6..] + "Count", BindingFlags.Instance | BindingFlags.NonPublic) ?? throw new ScriptFailure($"no TCP counter {name[6..]}");
            return (long)field.GetValue(counters)!;
        }
        if (name == "connections") return _stack.Tcp.Count;
        if (name is "listener.pending" or "listener.halfopen")
        {
            var l = _listener ?? throw new ScriptFailure("no listener");
            return name == "listener.pending" ? l.Pending : l.HalfOpen;
        }
        var c = Observed(_current) ?? throw new ScriptFailure($"`{name}` needs a connection");
        return name switch
        {
            "mss" => c.MaximumSegmentSize,
            "cwnd" => c.CongestionWindow,
            "rto" => (long)c.RetransmissionTimeout.TotalMilliseconds,
            "srtt" => (long)c.SmoothedRoundTripTime.TotalMilliseconds,
            "available" => c.Available,
            "send_space" => c.SendSpace,
            "retransmits" => c.Retransmits,
            "ecn" => c.EcnNegotiated ? 1 : 0,
            "reordering_seen" => c.RackReorderingSeen ? 1 : 0,
            _ => throw new ScriptFailure($"unknown quantity {name} (state, error, mss, cwnd, rto, srtt, available, send_space, retransmits, ecn, reordering_seen, connections, listener.pending, listener.halfopen, stats.NAME)"),
        };
    }

    private static string StateName(TcpState s) => s switch
    {
        TcpState.Closed => "CLOSED", TcpState.Listen => "LISTEN", TcpState.SynSent => "SYN_SENT", TcpState.SynReceived => "SYN_RECEIVED",
        TcpState.Established => "ESTABLISHED", TcpState.FinWait1 => "FIN_WAIT_1", TcpState.FinWait2 => "FIN_WAIT_2", TcpState.CloseWait => "CLOSE_WAIT",
        TcpState.Closing => "CLOSING", TcpState.LastAck => "LAST_ACK", TcpState.TimeWait => "TIME_WAIT", _ => s.ToString(),
    };

    // Accepts RFC names (SYN-RECEIVED, FIN-WAIT-1), Linux names (SYN_RECV, FIN_WAIT1, CLOSE) and a TCP_ prefix.
    private static string NormaliseState(string name)
    {
        string n = name.ToUpperInvariant().Replace('-', '_');
        if (n.StartsWith("TCP_", StringComparison.Ordinal)) n = n[4..];
        return n.Replace("_", "", StringComparison.Ordinal) switch
        {
            "CLOSED" or "CLOSE" => "CLOSED", "LISTEN" => "LISTEN", "SYNSENT" => "SYN_SENT", "SYNRECEIVED" or "SYNRECV" => "SYN_RECEIVED",
            "ESTABLISHED" => "ESTABLISHED", "FINWAIT1" => "FIN_WAIT_1", "FINWAIT2" => "FIN_WAIT_2", "CLOSEWAIT" => "CLOSE_WAIT",
            "CLOSING" => "CLOSING", "LASTACK" => "LAST_ACK", "TIMEWAIT" => "TIME_WAIT",
            _ => throw new ScriptFailure($"unknown state {name}"),
        };
    }

    public void Dispose()
    {
        _stack.Dispose();
        _peer.Dispose();
    }
}
