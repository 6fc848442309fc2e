using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TcpIpSharp.Capture;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Tap.Cli;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp decode FILE [--json]</c>: prints one line per record of a pcap or pcapng capture, in file order, a
/// malformed frame included (its line names the layer and the reason). The file is read by the library's managed reader
/// (<see cref="CaptureFileReader"/>), as <c>replay</c> reads it: pcap and pcapng with several interfaces, Linux cooked
/// captures (SLL, SLL2) turned into Ethernet frames, VLAN tags kept and decoded, and records cut by the snap length
/// decoded as far as the captured bytes go. The frames are read by the stack's own wire views through
/// <see cref="FrameFormatter"/>.
/// </summary>
internal static class DecodeCommand
{
    /// <summary>Exit status for a file that is not a capture, a capture of another link type, or bad arguments.</summary>
    public const int BadInput = ExitCodes.Usage;

    public static Command Create()
    {
        var command = new Command("decode", "Print one line per frame of a pcap or pcapng capture. A tcpdump-style summary, or with --json one JSON object per line.")
        {
            Opt.Argument("FILE", "a pcap or pcapng capture"),
            Opt.Switch("--json", "one JSON object per frame instead of the summary line"),
        };
        command.SetAction(App.Action(cl => Run(cl.Positional[0], cl.Has("--json"), cl.Output, cl.Error)));
        return command;
    }

    /// <summary>Runs <c>decode ARGS</c> as the program would (parsing included), writing to the given writers.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error) => App.Run(["decode", .. args], output, error);

    private static int Run(string path, bool json, TextWriter output, TextWriter error)
    {
        if (!File.Exists(path)) { error.WriteLine($"tcpipsharp decode: {path}: no such file"); return BadInput; }
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var records = new List<CaptureRecord>();
        string? damage = null;
        try
        {
            using var reader = CaptureFileReader.Open(path);
            try
            {
                while (reader.TryRead(out var record)) records.Add(record);
            }
            catch (CaptureFormatException e) { damage = OneLine(e.Message); }
        }
        catch (CaptureFormatException e)
        {
            error.WriteLine($"tcpipsharp decode: {OneLine(e.Message)}");
            return BadInput;
        }

        // Decode sees what was on the wire: tags kept, cut records kept (decoded as far as they go), cooked headers
        // turned into Ethernet ones as replay turns them.
        var (frames, _, _) = CaptureFile.ToEthernet(records, new CaptureReadOptions { StripVlanTags = false, KeepTruncated = true });
        if (frames.Count == 0 && records.Count > 0 && records.All(r => !IsDecodedLinkType(r.LinkType)))
        {
            string types = string.Join(", ", records.Select(r => CaptureFile.LinkTypeName(r.LinkType)).Distinct());
            error.WriteLine($"tcpipsharp decode: {path}: link type {types}; only Ethernet (1) and Linux cooked (SLL 113, SLL2 276) are decoded");
            return BadInput;
        }
        var byNumber = frames.ToDictionary(f => f.Number, f => f.Data);
        // Ethernet records go to the decoder as recorded (a runt's line names its error).
        foreach (var record in records)
            if (record.LinkType == CaptureFile.LinkTypeEthernet) byNumber[record.Number] = record.Data;

        var buffer = new MemoryStream();
        using var jsonWriter = new Utf8JsonWriter(buffer);
        foreach (var record in records)
        {
            if (!byNumber.TryGetValue(record.Number, out byte[]? frame))
            {
                string why = Skipped(record);
                if (json) output.WriteLine($"{{\"n\":{record.Number.ToString(CultureInfo.InvariantCulture)},\"len\":{record.OriginalLength.ToString(CultureInfo.InvariantCulture)},\"error\":{JsonSerializer.Serialize("link: " + why)}}}");
                else output.WriteLine($"{record.Number.ToString(CultureInfo.InvariantCulture)} not decoded: {why}");
                continue;
            }
            // A cooked header is longer than the Ethernet header it became: the wire length moves with it.
            int wireLength = Math.Max(frame.Length, record.OriginalLength - (record.Data.Length - frame.Length));
            if (json)
            {
                buffer.SetLength(0);
                jsonWriter.Reset(buffer);
                FrameFormatter.WriteJson(jsonWriter, frame, record.Number, wireLength);
                jsonWriter.Flush();
                output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            }
            else
            {
                output.WriteLine(FrameFormatter.FormatSummary(frame, record.Number, wireLength));
            }
        }
        output.Flush();
        // On a terminal only: how fast it went.
        if (ProgressLine.ForConsole(error) is not null)
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"decode: {records.Count} frames in {watch.Elapsed.TotalSeconds:0.000} s ({records.Count / Math.Max(1e-6, watch.Elapsed.TotalSeconds):0} frames/s)"));
        if (damage is not null)
        {
            // A capture cut off in the middle of a record: every whole record before it has its line.
            error.WriteLine($"tcpipsharp decode: read error after frame {records.Count} ({damage})");
            return BadInput;
        }
        return 0;
    }

    private static bool IsDecodedLinkType(int linkType) => linkType is CaptureFile.LinkTypeEthernet or CaptureFile.LinkTypeLinuxSll or CaptureFile.LinkTypeLinuxSll2;

    // Why a record has no frame: another link type, or a cooked header the conversion refused.
    private static string Skipped(CaptureRecord record)
    {
        if (!IsDecodedLinkType(record.LinkType)) return $"link type {CaptureFile.LinkTypeName(record.LinkType)} is not decoded";
        var (_, skipped, _) = CaptureFile.ToEthernet([record], new CaptureReadOptions { StripVlanTags = false, KeepTruncated = true });
        return skipped.Count > 0 ? skipped[0].Reason : "not an Ethernet frame";
    }

    private static string OneLine(string? text) => (text ?? "").ReplaceLineEndings(" ").Trim();
}
