using System.Buffers.Binary;
using TcpIpSharp.Capture;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>Compares the host's recorded frames with the stack's, in order (see <see cref="CaptureReplay"/>'s remarks for the rules).</summary>
internal static class Verdict
{
    // How far ahead in the stack's frames a recorded frame is looked for: keeps a replay with many differences linear.
    private const int SearchWindow = 4096;

    public static ReplayResult Build(IReadOnlyList<CaptureFrame> frames, ReplayFrame[] facts, MacAddress hostMac, IpAddress host,
        IReadOnlyList<Ipv6Address> hosts6, HashSet<IpAddress> hosts,
        List<(TimeSpan Time, byte[] Frame)> sent, DateTime start, Dictionary<(IpAddress Peer, ushort PeerPort, ushort HostPort), TcpFlow> flows,
        List<NeighbourAnswer> answers, List<ReplayDifference> timeouts, int fed, int notSupported, int ignored, bool pureAcksOneByOne = false)
    {
        // Pure ACKs (no data, SYN, FIN, RST or SACK blocks) are compared by what they acknowledge, not one by one: how
        // often a receiver ACKs is its delayed-ACK policy (RFC 9293 3.8.6.3 allows every segment or every second; Linux
        // ACKs every segment in its quick-ACK mode and delays the ACK of a FIN in its ping-pong mode). Each run of pure
        // ACKs of a connection between two of its other segments is a unit; the recorded ACKs of a run are reproduced
        // when the stack's run at the same place acknowledges as far (see PureAckRuns).
        var runs = pureAcksOneByOne ? null : new PureAckRuns();
        // The stack's frames, keyed; ARP requests, neighbour solicitations and start-up announcements are not compared.
        var sentFrames = new List<CaptureFrame>(sent.Count);
        var sentKeys = new FrameKey?[sent.Count];
        for (int i = 0; i < sent.Count; i++)
        {
            var data = sent[i].Frame;
            sentFrames.Add(new CaptureFrame(i + 1, start + sent[i].Time, data));
            var f = new ReplayFrame(data);
            if (f.NotCompared is not null) continue;
            if (runs is not null && f.IsTcp && hosts.Contains(f.IpSource) && runs.Note(data, f, stack: true, i)) continue;
            sentKeys[i] = Key(data, f, hosts, flows, stack: true);
        }

        var outcomes = new List<RecordedFrameOutcome>();
        var differences = new List<ReplayDifference>();
        var used = new bool[sent.Count];
        int next = 0;
        for (int i = 0; i < frames.Count; i++)
        {
            ref readonly var f = ref facts[i];
            if (f.Source != hostMac) continue;
            var recorded = frames[i];
            string? notCompared = f.NotCompared;
            if (notCompared is not null)
            {
                if (f.Ipv6Unsupported || f.IsIpv6 && !f.IsIp6) notSupported++;
                outcomes.Add(new RecordedFrameOutcome(recorded.Number, recorded.Data, -1, notCompared));
                continue;
            }
            if (runs is not null && f.IsTcp && hosts.Contains(f.IpSource) && runs.Note(recorded.Data, f, stack: false, outcomes.Count))
            {
                outcomes.Add(new RecordedFrameOutcome(recorded.Number, recorded.Data, -1, null));   // settled below
                continue;
            }
            var key = Key(recorded.Data, f, hosts, flows, stack: false);
            int found = -1;
            for (int k = next; k < sentKeys.Length && k < next + SearchWindow; k++)
                if (!used[k] && key.Equals(sentKeys[k])) { found = k; break; }
            if (found >= 0) { used[found] = true; next = found + 1; }
            else differences.Add(new ReplayDifference(ReplayDifferenceKind.Missing, recorded.Number, -1, FrameFormatter.FormatSummary(recorded.Data, recorded.Number)));
            outcomes.Add(new RecordedFrameOutcome(recorded.Number, recorded.Data, found, null));
        }
        if (runs is not null)
        {
            foreach (var (outcome, found) in runs.MatchRecorded())
            {
                var o = outcomes[outcome];
                outcomes[outcome] = o with { SentIndex = found };
                if (found < 0) differences.Add(new ReplayDifference(ReplayDifferenceKind.Missing, o.Number, -1, FrameFormatter.FormatSummary(o.Frame, o.Number)));
            }
            differences.Sort((a, b) => a.RecordedNumber.CompareTo(b.RecordedNumber));   // the missing ones in capture order
        }
        var extras = new List<int>();
        for (int k = 0; k < sentKeys.Length; k++)
            if (sentKeys[k] is not null && !used[k]) extras.Add(k);
        if (runs is not null) { extras.AddRange(runs.UnmatchedStackRuns()); extras.Sort(); }
        foreach (int k in extras)
            differences.Add(new ReplayDifference(ReplayDifferenceKind.Extra, 0, k, FrameFormatter.FormatSummary(sent[k].Frame, k + 1)));
        differences.AddRange(timeouts);
        return new ReplayResult
        {
            Host = host, Ipv6Addresses = hosts6, HostMac = hostMac, Sent = sentFrames, HostFrames = outcomes, Differences = differences,
            NeighbourAnswers = answers, FramesIn = fed, NotSupported = notSupported, Ignored = ignored,
        };
    }

    /// <summary>What must be equal for two frames to count as the same (the comparison rules), as bytes.</summary>
    internal static FrameKey Key(byte[] data, in ReplayFrame f, HashSet<IpAddress> hosts, Dictionary<(IpAddress Peer, ushort PeerPort, ushort HostPort), TcpFlow> flows, bool stack)
    {
        var span = data.AsSpan();
        if (span.Length < EthernetHeader.Size || !(f.IsArp || f.IsIp)) return new FrameKey(data);
        if (f.IsArp) return new FrameKey(span[..Math.Min(span.Length, EthernetHeader.Size + ArpHeader.Size)].ToArray());
        int end = Math.Min(span.Length, f.IpOffset + f.IpTotalLength);   // Linux pads short frames to 60 bytes
        if (!f.IsTcp)
        {
            var key = span[..end].ToArray();
            if (f.IsIp6) Normalise6(key.AsSpan(f.IpOffset), f.FragmentHeaderOffset > 0 ? f.FragmentHeaderOffset - f.IpOffset : 0, tcp: false);
            else Normalise(key.AsSpan(f.IpOffset), tcp: false);
            return new FrameKey(key);
        }

        // TCP: IP header without length, id and checksum; then the segment relative to each side's ISN.
        var segment = span[f.TcpOffset..end];
        var options = segment[TcpHeader.MinimumSize..f.TcpHeaderLength];
        var payload = segment[f.TcpHeaderLength..];
        var tcpKey = new byte[f.TcpOffset + 16 + options.Length + 1];
        span[..f.TcpOffset].CopyTo(tcpKey);
        if (f.IsIp6) Normalise6(tcpKey.AsSpan(f.IpOffset), f.FragmentHeaderOffset > 0 ? f.FragmentHeaderOffset - f.IpOffset : 0, tcp: true);
        else Normalise(tcpKey.AsSpan(f.IpOffset), tcp: true);
        bool fromHost = hosts.Contains(f.IpSource);
        var flowKey = fromHost ? (f.IpDestination, f.DestinationPort, f.SourcePort) : (f.IpSource, f.SourcePort, f.DestinationPort);
        flows.TryGetValue(flowKey, out var flow);
        uint own = fromHost && flow is not null ? (stack ? flow.StackIsn : flow.HostIsn) ?? 0 : 0;
        var fixedPart = tcpKey.AsSpan(f.TcpOffset, 16);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart, f.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[2..], f.DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart[4..], f.Sequence - own);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart[8..], (f.Flags & TcpFlags.Ack) != 0 ? f.Acknowledgment : 0);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[12..], (ushort)((int)f.Flags & 0xFF));
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[14..], (f.Flags & TcpFlags.Urg) != 0 ? BinaryPrimitives.ReadUInt16BigEndian(segment[18..]) : (ushort)0);
        int at = f.TcpOffset + 16;
        at += WriteOptions(tcpKey.AsSpan(at), options);
        tcpKey[at++] = 0xFF;
        // The payload is compared where it lies in the frame (a copy per frame was most of the verdict's allocations).
        return new FrameKey(tcpKey[..at], data, f.TcpOffset + f.TcpHeaderLength, payload.Length);
    }

    private static void Normalise(Span<byte> ip, bool tcp)
    {
        ip[4] = ip[5] = 0;       // identification
        ip[10] = ip[11] = 0;     // header checksum
        if (ip[9] == (byte)IpProtocol.Udp) ip[6] &= 0xBF;   // DF: Linux's UDP path MTU discovery, which the stack does not do
        if (tcp) ip[2] = ip[3] = 0;                         // total length: the options may differ in size
    }

    // IPv6: the flow label aside (Linux hashes one per flow, RFC 6437; the stack sends 0), the fragment header's
    // identification as IPv4's, and for TCP the payload length (the options may differ in size).
    private static void Normalise6(Span<byte> ip, int fragmentHeader, bool tcp)
    {
        ip[1] &= 0xF0;
        ip[2] = ip[3] = 0;
        if (fragmentHeader > 0 && fragmentHeader + 8 <= ip.Length) ip.Slice(fragmentHeader + 4, 4).Clear();
        if (tcp) ip[4] = ip[5] = 0;
    }

    // Which options are there (MSS, window scale and SACK blocks with their values); not the timestamp values (each side's
    // clock). Writes at most options.Length bytes (kind, length and value, or just the kind).
    private static int WriteOptions(Span<byte> key, ReadOnlySpan<byte> options)
    {
        int written = 0;
        for (int at = 0; at < options.Length;)
        {
            byte kind = options[at];
            if (kind == 0) break;
            if (kind == 1) { at++; continue; }
            if (at + 1 >= options.Length) { key[written++] = 0xFE; break; }
            int length = options[at + 1];
            if (length < 2 || at + length > options.Length) { key[written++] = 0xFE; break; }
            key[written++] = kind;
            if (kind != 8)
            {
                key[written++] = (byte)length;
                options.Slice(at + 2, length - 2).CopyTo(key[written..]);
                written += length - 2;
            }
            at += length;
        }
        return written;
    }
}

/// <summary>A frame's comparison bytes: a normalised head and, for TCP, the payload where it lies in the frame.</summary>
internal sealed class FrameKey(byte[] bytes, byte[]? frame = null, int payloadOffset = 0, int payloadLength = 0) : IEquatable<FrameKey>
{
    private readonly byte[] _bytes = bytes;
    private readonly byte[]? _frame = frame;
    private readonly int _payloadOffset = payloadOffset, _payloadLength = payloadLength;

    private ReadOnlySpan<byte> Payload => _frame is null ? default : _frame.AsSpan(_payloadOffset, _payloadLength);

    public bool Equals(FrameKey? other)
        => other is not null && other._payloadLength == _payloadLength && other._bytes.AsSpan().SequenceEqual(_bytes) && other.Payload.SequenceEqual(Payload);
    public override bool Equals(object? obj) => Equals(obj as FrameKey);
    public override int GetHashCode() => _bytes.Length + _payloadLength;
}

/// <summary>
/// The pure ACKs of the host and of the stack, in runs: for each connection, the pure ACKs between two of its other
/// segments (those that take sequence space or carry SACK blocks) form the run at that place (the count of other segments
/// before it). A recorded pure ACK is reproduced when the stack's run at the same place, or the stack's segment that ends
/// that run (its ACK piggybacked on data or a FIN), acknowledges as far as it does (the stack's frame that first does is
/// its match); the stack's pure ACKs in a run the host also had are never extra (how
/// many there are is the receiver's ACK policy); in a run where the host had none, a pure ACK of the stack is extra unless
/// the host's segment that ends that run acknowledged as far (the host piggybacked what the stack sent alone).
/// </summary>
internal sealed class PureAckRuns
{
    private readonly Dictionary<((IpAddress, ushort, ushort) Flow, bool Stack), int> _others = [];
    private readonly Dictionary<((IpAddress, ushort, ushort) Flow, int Place), List<(int Index, uint Ack)>> _stack = [];
    private readonly List<((IpAddress, ushort, ushort) Flow, int Place, int Outcome, uint Ack)> _recorded = [];
    private readonly HashSet<((IpAddress, ushort, ushort), int)> _recordedPlaces = [];
    private readonly Dictionary<((IpAddress, ushort, ushort) Flow, int Place), (int Index, uint Ack)> _stackRunEnds = [];
    private readonly Dictionary<((IpAddress, ushort, ushort) Flow, int Place), uint> _recordedRunEnds = [];

    /// <summary>Notes a TCP segment the host or the stack sent; true when it is a pure ACK (kept here, not keyed).</summary>
    public bool Note(byte[] data, in ReplayFrame f, bool stack, int index)
    {
        var flow = (f.IpDestination, f.DestinationPort, f.SourcePort);
        _others.TryGetValue((flow, stack), out int place);
        bool pure = f.Flags == TcpFlags.Ack && f.PayloadLength == 0 && !HasSackBlocks(data, f);
        if (!pure)
        {
            _others[(flow, stack)] = place + 1;
            if ((f.Flags & TcpFlags.Ack) != 0)
            {
                if (stack) _stackRunEnds[(flow, place)] = (index, f.Acknowledgment);
                else _recordedRunEnds[(flow, place)] = f.Acknowledgment;
            }
            return false;
        }
        if (stack)
        {
            if (!_stack.TryGetValue((flow, place), out var run)) _stack[(flow, place)] = run = [];
            run.Add((index, f.Acknowledgment));
        }
        else
        {
            _recorded.Add((flow, place, index, f.Acknowledgment));
            _recordedPlaces.Add((flow, place));
        }
        return true;
    }

    /// <summary>Each recorded pure ACK (its outcome's index) with the stack's frame that first acknowledged as far in the
    /// run at the same place, or -1.</summary>
    public IEnumerable<(int Outcome, int Found)> MatchRecorded()
    {
        foreach (var (flow, place, outcome, ack) in _recorded)
        {
            int found = -1;
            if (_stack.TryGetValue((flow, place), out var run))
                foreach (var (index, stackAck) in run)
                    if ((int)(stackAck - ack) >= 0) { found = index; break; }
            // The segment that ends the stack's run (data or a FIN) may carry the acknowledgement Linux sent alone.
            if (found < 0 && _stackRunEnds.TryGetValue((flow, place), out var end) && (int)(end.Ack - ack) >= 0) found = end.Index;
            yield return (outcome, found);
        }
    }

    /// <summary>The stack's pure ACKs in runs where the host had none, unless the host's segment at the end of that run
    /// (data or a FIN) acknowledged as far: then the stack sent alone the ACK the host piggybacked.</summary>
    public IEnumerable<int> UnmatchedStackRuns()
    {
        foreach (var (place, run) in _stack)
        {
            if (_recordedPlaces.Contains(place)) continue;
            bool covered = _recordedRunEnds.TryGetValue(place, out uint end);
            foreach (var (index, ack) in run)
                if (!covered || (int)(end - ack) < 0) yield return index;
        }
    }

    private static bool HasSackBlocks(byte[] data, in ReplayFrame f)
    {
        var options = data.AsSpan(f.TcpOffset + TcpHeader.MinimumSize, f.TcpHeaderLength - TcpHeader.MinimumSize);
        for (int at = 0; at < options.Length;)
        {
            byte kind = options[at];
            if (kind == 0) break;
            if (kind == 1) { at++; continue; }
            if (at + 1 >= options.Length) break;
            int length = options[at + 1];
            if (length < 2 || at + length > options.Length) break;
            if (kind == 5) return true;
            at += length;
        }
        return false;
    }
}
