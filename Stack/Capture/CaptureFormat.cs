namespace TcpIpSharp.Capture;

/// <summary>The file formats <see cref="CaptureFileReader"/> reads.</summary>
public enum CaptureFormat
{
    /// <summary>The classic libpcap format (microsecond or nanosecond timestamps).</summary>
    Pcap,
    /// <summary>pcapng (RFC draft-ietf-opsawg-pcapng): sections of interfaces and packet blocks.</summary>
    PcapNg,
}
