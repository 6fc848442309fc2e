using System.Text;
using System.Text.Json;
using TcpIpSharp.Capture;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>What a replay did and found: every frame the stack sent, each recorded frame of the host with its match,
/// and the differences. <see cref="Passed"/> when there are none.</summary>
public sealed class ReplayResult
{
    /// <summary>The host the stack played (the address it was given).</summary>
    public required IpAddress Host { get; init; }
    /// <summary>The host's IPv6 addresses the stack took from the capture (empty for an IPv4-only host).</summary>
    public IReadOnlyList<Ipv6Address> Ipv6Addresses { get; init; } = [];
    /// <summary>Its MAC (given, or found in the capture).</summary>
    public required MacAddress HostMac { get; init; }
    /// <summary>Every frame the stack sent, in order, timed on the capture's clock (numbered from 1).</summary>
    public required IReadOnlyList<CaptureFrame> Sent { get; init; }
    /// <summary>Each frame the recorded host sent, in capture order, and whether the stack sent an equivalent one.</summary>
    public required IReadOnlyList<RecordedFrameOutcome> HostFrames { get; init; }
    /// <summary>Recorded frames the stack did not reproduce, frames it sent that the host did not, and timeouts.</summary>
    public required IReadOnlyList<ReplayDifference> Differences { get; init; }
    /// <summary>ARP replies and neighbour advertisements the replay made up from the capture for the stack's requests and solicitations.</summary>
    public required IReadOnlyList<NeighbourAnswer> NeighbourAnswers { get; init; }
    /// <summary>Frames put into the stack (sent to the host, or to everyone, by the other hosts).</summary>
    public required int FramesIn { get; init; }
    /// <summary>Recorded frames of the host that are not compared because the stack does not support them (IPv6 with
    /// extension headers other than a fragment header, or IPv6 that does not parse).</summary>
    public required int NotSupported { get; init; }
    /// <summary>Frames between other hosts, left out.</summary>
    public required int Ignored { get; init; }

    /// <summary>True when the stack sent what the host sent, in order, and nothing else (ARP requests aside).</summary>
    public bool Passed => Differences.Count == 0;
    /// <summary>Recorded frames of the host that were compared.</summary>
    public int Compared => HostFrames.Count(o => o.NotCompared is null);
    /// <summary>Compared frames the stack reproduced.</summary>
    public int Matched => HostFrames.Count(o => o.Matched);

    /// <summary>The verdict as text: a summary line, then one line per difference and per synthesised neighbour answer.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Passed ? "PASS" : "FAIL").Append(": host ").Append(Host).Append(' ').Append(HostMac)
          .Append(": ").Append(Matched).Append(" of ").Append(Compared).Append(" recorded frames reproduced; ")
          .Append(FramesIn).Append(" frames in, ").Append(Sent.Count).Append(" sent by the stack; ")
          .Append(Differences.Count).Append(Differences.Count == 1 ? " difference" : " differences");
        if (NotSupported > 0) sb.Append("; ").Append(NotSupported).Append(" IPv6 frames not supported (not compared)");
        if (Ipv6Addresses.Count > 0) sb.Append("; IPv6 ").Append(string.Join(", ", Ipv6Addresses));
        if (Ignored > 0) sb.Append("; ").Append(Ignored).Append(" frames between other hosts left out");
        sb.AppendLine();
        foreach (var answer in NeighbourAnswers)
            sb.Append(answer.Address.IsIpv4 ? "  neighbour: answered the stack's ARP request for " : "  neighbour: answered the stack's neighbour solicitation for ").Append(answer.Address).Append(" with ").Append(answer.Mac)
              .Append(" (seen in the capture) at +").Append(answer.Time.TotalSeconds.ToString("F6", System.Globalization.CultureInfo.InvariantCulture)).AppendLine(" s");
        foreach (var d in Differences) sb.Append("  ").AppendLine(d.ToString());
        return sb.ToString();
    }

    /// <summary>The verdict as one JSON object (keys: passed, host, mac, compared, matched, frames_in, sent, not_supported,
    /// ignored, neighbour_answers, differences, recorded).</summary>
    /// <param name="writer">Where the object goes.</param>
    /// <param name="extra">Writes more properties at the start of the object (the program adds the file's name and its skipped records).</param>
    public void WriteJson(Utf8JsonWriter writer, Action<Utf8JsonWriter>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        extra?.Invoke(writer);
        writer.WriteBoolean("passed", Passed);
        writer.WriteString("host", Host.ToString());
        writer.WriteString("mac", HostMac.ToString());
        writer.WriteStartArray("ipv6");
        foreach (var a in Ipv6Addresses) writer.WriteStringValue(a.ToString());
        writer.WriteEndArray();
        writer.WriteNumber("compared", Compared);
        writer.WriteNumber("matched", Matched);
        writer.WriteNumber("frames_in", FramesIn);
        writer.WriteNumber("sent", Sent.Count);
        writer.WriteNumber("not_supported", NotSupported);
        writer.WriteNumber("ignored", Ignored);
        writer.WriteStartArray("neighbour_answers");
        foreach (var a in NeighbourAnswers)
        {
            writer.WriteStartObject();
            writer.WriteString("address", a.Address.ToString());
            writer.WriteString("mac", a.Mac.ToString());
            writer.WriteNumber("time", a.Time.TotalSeconds);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteStartArray("differences");
        foreach (var d in Differences)
        {
            writer.WriteStartObject();
            writer.WriteString("kind", d.Kind.ToString().ToLowerInvariant());
            if (d.RecordedNumber > 0) writer.WriteNumber("recorded", d.RecordedNumber);
            if (d.SentIndex >= 0) writer.WriteNumber("sent", d.SentIndex + 1);
            writer.WriteString("frame", d.Description);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteStartArray("recorded");
        foreach (var o in HostFrames)
        {
            writer.WriteStartObject();
            writer.WriteNumber("n", o.Number);
            if (o.NotCompared is not null) writer.WriteString("not_compared", o.NotCompared);
            else writer.WriteBoolean("matched", o.Matched);
            if (o.Matched) writer.WriteNumber("sent", o.SentIndex + 1);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The verdict as a JSON string on one line.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer)) WriteJson(writer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
