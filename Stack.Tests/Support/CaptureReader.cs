using SharpPcap;
using SharpPcap.LibPcap;

namespace TcpIpSharp.Tests.Support;

/// <summary>One frame read from a capture file.</summary>
/// <param name="Data">The captured bytes.</param>
/// <param name="OriginalLength">The frame's length on the wire (larger than <see cref="Data"/> when the capture was cut by a snap length).</param>
internal sealed record CapturedFrame(byte[] Data, int OriginalLength);

/// <summary>Reads capture files in tests through SharpPcap (libpcap).</summary>
internal static class CaptureReader
{
    /// <summary>Fails the test, naming the package, when libpcap cannot be loaded.</summary>
    public static void RequireLibpcap()
    {
        Version version;
        try { version = Pcap.LibpcapVersion; }
        catch (DllNotFoundException e) { Assert.Fail("libpcap is missing (apt-get install libpcap0.8): " + e.Message); return; }
        if (version.Major == 0) Assert.Fail("libpcap is missing (apt-get install libpcap0.8): SharpPcap reports version " + version);
    }

    /// <summary>All frames of a capture, in file order.</summary>
    public static List<CapturedFrame> ReadFrames(string path)
    {
        RequireLibpcap();
        var frames = new List<CapturedFrame>();
        using var device = new CaptureFileReaderDevice(path);
        device.Open(new DeviceConfiguration());
        while (device.GetNextPacket(out PacketCapture capture) == GetPacketStatus.PacketRead)
        {
            byte[] data = capture.Data.ToArray();
            int original = capture.Header is PcapHeader header ? (int)header.PacketLength : data.Length;
            frames.Add(new CapturedFrame(data, original));
        }
        return frames;
    }
}
