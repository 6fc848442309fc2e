using System.Text;
using System.Text.Json;
using PacketDotNet;
using SharpPcap;
using SharpPcap.LibPcap;
using TcpIpSharp.Diagnostics;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp decode FILE [--json]</c>: prints one line per frame of a pcap or pcapng capture with Ethernet link type,
/// in frame order, a malformed frame included (its line names the layer and the reason). The file is read through
/// SharpPcap (libpcap); the frames are read by the stack's own wire views through <see cref="FrameFormatter"/>.
/// </summary>
internal static class DecodeCommand
{
    /// <summary>Exit status for a file that is not a capture, a capture of another link type, or bad arguments.</summary>
    public const int BadInput = 2;
    /// <summary>Exit status when libpcap is not installed.</summary>
    public const int MissingLibpcap = 3;

    public const string Usage = "usage: tcpipsharp decode FILE [--json]";

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        string? path = null;
        bool json = false;
        foreach (string arg in args)
        {
            if (arg == "--json") json = true;
            else if (arg is "-h" or "--help") { output.WriteLine(Usage); return 0; }
            else if (arg.StartsWith('-') || path != null) { error.WriteLine($"tcpipsharp decode: unexpected argument '{arg}'; {Usage}"); return BadInput; }
            else path = arg;
        }
        if (path is null) { error.WriteLine("tcpipsharp decode: no FILE given; " + Usage); return BadInput; }
        if (!File.Exists(path)) { error.WriteLine($"tcpipsharp decode: {path}: no such file"); return BadInput; }
        if (LibpcapProblem() is { } problem) { error.WriteLine("tcpipsharp decode: " + problem); return MissingLibpcap; }

        using var device = new CaptureFileReaderDevice(path);
        try
        {
            device.Open(new DeviceConfiguration());
        }
        catch (PcapException e)
        {
            error.WriteLine($"tcpipsharp decode: {path}: not a pcap or pcapng capture ({OneLine(e.Message)})");
            return BadInput;
        }
        if (device.LinkType != LinkLayers.Ethernet)
        {
            error.WriteLine($"tcpipsharp decode: {path}: link type {device.LinkType} ({(int)device.LinkType}); only Ethernet (1) is decoded");
            return BadInput;
        }

        var buffer = new MemoryStream();
        using var jsonWriter = new Utf8JsonWriter(buffer);
        long number = 0;
        GetPacketStatus status;
        while ((status = device.GetNextPacket(out PacketCapture capture)) == GetPacketStatus.PacketRead)
        {
            number++;
            int wireLength = capture.Header is PcapHeader header ? (int)Math.Min(header.PacketLength, int.MaxValue) : capture.Data.Length;
            if (json)
            {
                buffer.SetLength(0);
                jsonWriter.Reset(buffer);
                FrameFormatter.WriteJson(jsonWriter, capture.Data, number, wireLength);
                jsonWriter.Flush();
                output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            }
            else
            {
                output.WriteLine(FrameFormatter.FormatSummary(capture.Data, number, wireLength));
            }
        }
        output.Flush();
        if (status == GetPacketStatus.Error)
        {
            // A capture cut off in the middle of a record: every whole frame before it has its line.
            error.WriteLine($"tcpipsharp decode: {path}: read error after frame {number} ({OneLine(device.LastError)})");
            return BadInput;
        }
        return 0;
    }

    /// <summary>Null when libpcap loads; otherwise what to install.</summary>
    internal static string? LibpcapProblem()
    {
        try
        {
            if (Pcap.LibpcapVersion.Major > 0) return null;
        }
        catch (DllNotFoundException) { }
        catch (TypeInitializationException) { }
        return "libpcap is not installed (Debian/Ubuntu: apt-get install libpcap0.8)";
    }

    private static string OneLine(string? text) => (text ?? "").ReplaceLineEndings(" ").Trim();
}
