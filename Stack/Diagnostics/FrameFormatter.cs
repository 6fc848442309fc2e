using System.Buffers;
using System.Text;
using System.Text.Json;

namespace TcpIpSharp.Diagnostics;

/// <summary>
/// Formats one Ethernet frame the way <c>tcpipsharp decode</c> prints it: a tcpdump-style summary line, or one JSON object
/// (keys <c>n</c>, <c>len</c>, <c>eth</c>, <c>arp</c>, <c>ipv4</c>, <c>icmp</c>, <c>udp</c>, ... and <c>error</c> naming the
/// malformed layer and why). A diagnostic path: it allocates, and never runs on the packet path unless tracing is on.
/// </summary>
public static class FrameFormatter
{
    /// <summary>The tcpdump-style summary line of a frame (no line break).</summary>
    /// <param name="frame">The frame's bytes, from the destination MAC address on, without FCS.</param>
    /// <param name="number">The frame's number, from 1.</param>
    /// <param name="wireLength">The frame's length on the wire when a capture cut it short; 0 means the span is the whole frame.</param>
    public static string FormatSummary(ReadOnlySpan<byte> frame, long number, int wireLength = 0)
        => FrameSummaryWriter.Format(FrameDecoder.Decode(frame, number, wireLength));

    /// <summary>The JSON object of a frame, on one line (no line break).</summary>
    /// <inheritdoc cref="FormatSummary" path="/param"/>
    public static string FormatJson(ReadOnlySpan<byte> frame, long number, int wireLength = 0)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
            WriteJson(writer, frame, number, wireLength);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the JSON object of a frame to <paramref name="writer"/> (which should not be indented, to keep one line per frame).</summary>
    /// <param name="writer">Where the object goes.</param>
    /// <param name="frame">The frame's bytes, from the destination MAC address on, without FCS.</param>
    /// <param name="number">The frame's number, from 1.</param>
    /// <param name="wireLength">The frame's length on the wire when a capture cut it short; 0 means the span is the whole frame.</param>
    public static void WriteJson(Utf8JsonWriter writer, ReadOnlySpan<byte> frame, long number, int wireLength = 0)
    {
        ArgumentNullException.ThrowIfNull(writer);
        FrameJsonWriter.Write(writer, FrameDecoder.Decode(frame, number, wireLength));
    }
}
