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
        List<NeighbourAnswer> answers, List<ReplayDifference> timeouts, int fed, int notSupported, int ignored)
    {
        // The stack's frames, keyed; ARP requests, neighbour solicitations and start-up announcements are not compared.
        var sentFrames = new List<CaptureFrame>(sent.Count);
        var sentKeys = new FrameKey?[sent.Count];
        for (int i = 0; i < sent.Count; i++)
        {
            var data = sent[i].Frame;
            sentFrames.Add(new CaptureFrame(i + 1, start + sent[i].Time, data));
            var f = new ReplayFrame(data);
            if (f.NotCompared is not null) continue;
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
            var key = Key(recorded.Data, f, hosts, flows, stack: false);
            int found = -1;
            for (int k = next; k < sentKeys.Length && k < next + SearchWindow; k++)
                if (!used[k] && key.Equals(sentKeys[k])) { found = k; break; }
            if (found >= 0) { used[found] = true; next = found + 1; }
            else differences.Add(new ReplayDifference(ReplayDifferenceKind.Missing, recorded.Number, -1, FrameFormatter.FormatSummary(recorded.Data, recorded.Number)));
            outcomes.Add(new RecordedFrameOutcome(recorded.Number, recorded.Data, found, null));
        }
        for (int k = 0; k < sentKeys.Length; k++)
            if (sentKeys[k] is not null && !used[k])
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
        var tcpKey = new byte[f.TcpOffset + 16 + options.Length + 1 + payload.Length];
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
        payload.CopyTo(tcpKey.AsSpan(at));
        return new FrameKey(tcpKey[..(at + payload.Length)]);
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

/// <summary>A frame's comparison bytes.</summary>
internal sealed class FrameKey(byte[] bytes) : IEquatable<FrameKey>
{
    private readonly byte[] _bytes = bytes;

    public bool Equals(FrameKey? other) => other is not null && other._bytes.AsSpan().SequenceEqual(_bytes);
    public override bool Equals(object? obj) => Equals(obj as FrameKey);
    public override int GetHashCode() => _bytes.Length;
}
