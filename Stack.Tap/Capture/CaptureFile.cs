using SharpPcap;
using SharpPcap.LibPcap;

namespace TcpIpSharp.Tap.Capture;

/// <summary>Reads and writes pcap/pcapng files through SharpPcap (libpcap).</summary>
internal static class CaptureFile
{
    /// <summary>A frame and when it was captured.</summary>
    public readonly record struct Frame(DateTime Time, byte[] Data);

    /// <summary>Throws a clear error when libpcap is missing (SharpPcap then fails with a DllNotFoundException for 'wpcap').</summary>
    public static void RequireLibpcap()
    {
        try
        {
            _ = Pcap.LibpcapVersion;
            if (Pcap.LibpcapVersion.Major == 0) throw new DllNotFoundException();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException)
        {
            throw new CaptureException("libpcap is not installed: install the Debian package libpcap0.8 (apt-get install libpcap0.8)");
        }
    }

    /// <summary>Reads every frame of an Ethernet capture.</summary>
    public static List<Frame> ReadEthernet(string path)
    {
        RequireLibpcap();
        if (!File.Exists(path)) throw new CaptureException($"{path}: no such file");
        using var device = new CaptureFileReaderDevice(path);
        try { device.Open(new DeviceConfiguration()); }
        catch (Exception e) when (e is PcapException or InvalidOperationException) { throw new CaptureException($"{path}: not a pcap or pcapng capture ({e.Message})"); }
        if (device.LinkType != PacketDotNet.LinkLayers.Ethernet) throw new CaptureException($"{path}: link type {device.LinkType}, not Ethernet");
        var frames = new List<Frame>();
        while (device.GetNextPacket(out PacketCapture capture) == GetPacketStatus.PacketRead)
            frames.Add(new Frame(capture.Header.Timeval.Date, capture.Data.ToArray()));
        return frames;
    }

    /// <summary>Writes frames to a new pcap file (Ethernet link type) with their times.</summary>
    public static void WriteEthernet(string path, IEnumerable<Frame> frames)
    {
        RequireLibpcap();
        using var writer = new CaptureFileWriterDevice(path, FileMode.Create);
        writer.Open(new DeviceConfiguration { LinkLayerType = PacketDotNet.LinkLayers.Ethernet });
        foreach (var f in frames) writer.Write(new RawCapture(PacketDotNet.LinkLayers.Ethernet, new PosixTimeval(f.Time), f.Data));
    }
}

/// <summary>A capture that cannot be read: printed as one line, exit status 2.</summary>
internal sealed class CaptureException(string message) : Exception(message);
