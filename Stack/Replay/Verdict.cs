using System.Buffers.Binary;
using System.Text;
using TcpIpSharp.Capture;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>Compares the host's recorded frames with the stack's, in order (see <see cref="CaptureReplay"/>'s remarks for the rules).</summary>
internal static class Verdict
{
    public static ReplayResult Build(IReadOnlyList<CaptureFrame> frames, ReplayFrame[] facts, MacAddress hostMac, Ipv4Address host,
        List<(TimeSpan Time, byte[] Frame)> sent, DateTime start, Dictionary<(uint Peer, ushort PeerPort, ushort HostPort), TcpFlow> flows,
        List<NeighbourAnswer> answers, List<ReplayDifference> timeouts, int fed, int notSupported, int ignored)
    {
        // The stack's frames, keyed; ARP requests (neighbour traffic) and IPv6 are not compared.
        var sentFrames = new List<CaptureFrame>(sent.Count);
        var sentKeys = new string?[sent.Count];
        for (int i = 0; i < sent.Count; i++)
        {
            var data = sent[i].Frame;
            sentFrames.Add(new CaptureFrame(i + 1, start + sent[i].Time, data));
            var f = new ReplayFrame(data);
            if (f.IsIpv6) notSupported++;
            if (f.IsArpRequest || f.IsIpv6) continue;
            sentKeys[i] = Key(data, f, host, flows, stack: true);
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
            string? notCompared = f.IsArpRequest ? "ARP request (when a host asks is a timing choice)"
                : f.IsIpv6 ? "IPv6 (not supported by the stack yet)" : null;
            if (notCompared is not null) { outcomes.Add(new RecordedFrameOutcome(recorded.Number, recorded.Data, -1, notCompared)); continue; }
            string key = Key(recorded.Data, f, host, flows, stack: false);
            int found = -1;
            for (int k = next; k < sentKeys.Length; k++)
                if (!used[k] && sentKeys[k] == key) { found = k; break; }
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
            Host = host, HostMac = hostMac, Sent = sentFrames, HostFrames = outcomes, Differences = differences,
            NeighbourAnswers = answers, FramesIn = fed, NotSupported = notSupported, Ignored = ignored,
        };
    }

    /// <summary>What must be equal for two frames to count as the same (the comparison rules, as a string).</summary>
    internal static string Key(byte[] data, in ReplayFrame f, Ipv4Address host, Dictionary<(uint Peer, ushort PeerPort, ushort HostPort), TcpFlow> flows, bool stack)
    {
        var sb = new StringBuilder(64 + data.Length * 2);
        var span = data.AsSpan();
        if (span.Length < EthernetHeader.Size) return "short " + Convert.ToHexString(span);
        sb.Append(Convert.ToHexString(span[..EthernetHeader.Size]));
        if (f.IsArp)
        {
            sb.Append(" arp ").Append(Convert.ToHexString(span.Slice(EthernetHeader.Size, Math.Min(ArpHeader.Size, span.Length - EthernetHeader.Size))));
            return sb.ToString();
        }
        if (!f.IsIpv4) return sb.Append(' ').Append(Convert.ToHexString(span[EthernetHeader.Size..])).ToString();
        int end = Math.Min(span.Length, f.IpOffset + f.IpTotalLength);   // Linux pads short frames to 60 bytes
        var ip = span[f.IpOffset..end].ToArray();
        ip[4] = ip[5] = 0;        // identification
        ip[10] = ip[11] = 0;      // header checksum
        if (ip[9] == (byte)IpProtocol.Udp) ip[6] &= 0xBF;   // DF: Linux's UDP path MTU discovery, which the stack does not do
        if (!f.IsTcp) return sb.Append(' ').Append(Convert.ToHexString(ip)).ToString();

        // TCP: IP header without length, id and checksum; then the segment relative to each side's ISN.
        ip[2] = ip[3] = 0;
        sb.Append(' ').Append(Convert.ToHexString(ip.AsSpan(0, f.IpHeaderLength)));
        bool fromHost = f.IpSource == host;
        var flowKey = fromHost ? (f.IpDestination.Value, f.DestinationPort, f.SourcePort) : (f.IpSource.Value, f.SourcePort, f.DestinationPort);
        flows.TryGetValue(flowKey, out var flow);
        uint own = fromHost && flow is not null ? (stack ? flow.StackIsn : flow.HostIsn) ?? 0 : 0;
        sb.Append(" tcp ").Append(f.SourcePort).Append('>').Append(f.DestinationPort)
          .Append(" flags ").Append(((int)f.Flags & 0xFF).ToString("x2", System.Globalization.CultureInfo.InvariantCulture))
          .Append(" seq ").Append(f.Sequence - own);
        if ((f.Flags & TcpFlags.Ack) != 0) sb.Append(" ack ").Append(f.Acknowledgment);
        var segment = span[f.TcpOffset..end];
        AppendOptions(sb, segment[TcpHeader.MinimumSize..f.TcpHeaderLength]);
        sb.Append(" data ").Append(Convert.ToHexString(segment[f.TcpHeaderLength..]));
        if ((f.Flags & TcpFlags.Urg) != 0) sb.Append(" urg ").Append(BinaryPrimitives.ReadUInt16BigEndian(segment[18..]));
        return sb.ToString();
    }

    // Which options are there (MSS with its value, SACK blocks with theirs); not timestamp values or the window scale's shift.
    private static void AppendOptions(StringBuilder sb, ReadOnlySpan<byte> options)
    {
        for (int at = 0; at < options.Length;)
        {
            byte kind = options[at];
            if (kind == 0) break;
            if (kind == 1) { at++; continue; }
            if (at + 1 >= options.Length) { sb.Append(" opt-bad"); break; }
            int length = options[at + 1];
            if (length < 2 || at + length > options.Length) { sb.Append(" opt-bad"); break; }
            var value = options.Slice(at + 2, length - 2);
            switch (kind)
            {
                case 2: sb.Append(" mss ").Append(value.Length == 2 ? BinaryPrimitives.ReadUInt16BigEndian(value) : -1); break;
                case 3: sb.Append(" wscale"); break;
                case 4: sb.Append(" sackOK"); break;
                case 5: sb.Append(" sack ").Append(Convert.ToHexString(value)); break;
                case 8: sb.Append(" ts"); break;
                default: sb.Append(" opt").Append(kind).Append(' ').Append(Convert.ToHexString(value)); break;
            }
            at += length;
        }
    }
}
