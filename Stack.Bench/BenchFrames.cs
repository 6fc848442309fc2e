using SharpPcap;
using SharpPcap.LibPcap;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench;

/// <summary>Loads the frames a parse benchmark runs on: from ../shared/captures when present, else from <see cref="EmbeddedFrames"/>.</summary>
internal static class BenchFrames
{
    /// <summary>Frames per benchmark invocation (each benchmark reports the cost of one).</summary>
    public const int PerInvoke = 16;

    // Well-formed captures with the protocols the benchmarks parse (see ../shared/captures/MANIFEST.tsv).
    private static readonly string[] Captures =
    [
        "zeek/testing/btest/Traces/communityid/arp.pcap",
        "pcapplusplus/Tests/Packet++Test/PacketExamples/ArpResponsePacket.pcap",
        "zeek/testing/btest/Traces/icmp/5-pings.pcap",
        "zeek/testing/btest/Traces/tcp/syn-synack.pcap",
        "gopacket/pcap/test_ethernet.pcap",
        "zeek/testing/btest/Traces/tcp/options.pcap",
        "zeek/testing/btest/Traces/tcp/option-sack.pcap",
        "tcpdump/tests/dns_udp.pcap",
        "zeek/testing/btest/Traces/dns-two-responses.pcap",
        "zeek/testing/btest/Traces/dns/long-connection.pcap",
        "charrua/test/dhcp2.pcap",
        "tcpdump/tests/dhcp-rfc3004.pcap",
        "lwip/test/unit/dhcp/dhcp_offer.pcap",
        "zeek/testing/btest/Traces/dhcp/dhcp_inform.pcap",
    ];

    /// <summary>Where the frames came from, for the benchmark log.</summary>
    public static string Source { get; private set; } = "not loaded";

    /// <summary><see cref="PerInvoke"/> frames of <paramref name="kind"/>, repeating the ones found.</summary>
    public static byte[][] Load(FrameKind kind)
    {
        var found = new List<byte[]>();
        string? folder = FindCaptures();
        if (folder != null)
        {
            foreach (var capture in Captures)
            {
                string path = Path.Combine(folder, capture);
                if (!File.Exists(path)) continue;
                using var device = new CaptureFileReaderDevice(path);
                device.Open(new DeviceConfiguration());
                while (device.GetNextPacket(out PacketCapture e) == GetPacketStatus.PacketRead)
                {
                    byte[] frame = e.Data.ToArray();
                    if (Is(kind, frame)) found.Add(frame);
                }
            }
            Source = folder;
        }
        if (found.Count == 0)
        {
            found.AddRange(EmbeddedFrames.All.Where(f => Is(kind, f)));
            Source = "embedded frames";
        }
        if (found.Count == 0) throw new InvalidOperationException($"no {kind} frame to benchmark");
        Console.WriteLine($"// {kind}: {found.Count} distinct frames from {Source}");
        return Enumerable.Range(0, PerInvoke).Select(i => found[i % found.Count]).ToArray();
    }

    private static string? FindCaptures()
    {
        string? overridden = Environment.GetEnvironmentVariable("TCPIPSHARP_CAPTURES");
        if (!string.IsNullOrEmpty(overridden)) return Directory.Exists(overridden) ? overridden : null;
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                if (!File.Exists(Path.Combine(d.FullName, "TcpIpSharp.sln"))) continue;
                string folder = Path.GetFullPath(Path.Combine(d.FullName, "..", "shared", "captures"));
                return Directory.Exists(folder) ? folder : null;
            }
        }
        return null;
    }

    // Classifies with the stack's own parsers; the PacketDotNet baseline must also take the frame without throwing.
    private static bool Is(FrameKind kind, byte[] frame)
    {
        if (!Matches(kind, frame)) return false;
        try
        {
            return global::PacketDotNet.Packet.ParsePacket(global::PacketDotNet.LinkLayers.Ethernet, frame) != null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException or NullReferenceException)
        {
            return false;
        }
    }

    private static bool Matches(FrameKind kind, ReadOnlySpan<byte> frame)
    {
        if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None || ethernet.IsTagged) return false;
        if (kind == FrameKind.Ethernet) return true;
        if (kind == FrameKind.Arp) return ethernet.EtherType == EtherType.Arp && ArpPacket.TryParse(ethernet.Payload, out _) == WireError.None;
        if (ethernet.EtherType != EtherType.Ipv4 || Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None || ip.IsFragment) return false;
        switch (kind)
        {
            case FrameKind.Ipv4:
                return true;
            case FrameKind.Icmp:
                return ip.Protocol == IpProtocol.Icmp && IcmpPacket.TryParse(ip.Payload, out _) == WireError.None;
            case FrameKind.TcpWithOptions:
                return ip.Protocol == IpProtocol.Tcp && TcpSegment.TryParse(ip.Payload, out var tcp) == WireError.None
                    && tcp.Options.Length > 0 && TcpOptions.TryParse(tcp.Options, out _) == WireError.None;
        }
        if (ip.Protocol != IpProtocol.Udp || UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None) return false;
        switch (kind)
        {
            case FrameKind.Udp:
                return true;
            case FrameKind.Dns:
            {
                if (udp.SourcePort != DnsMessage.ServerPort && udp.DestinationPort != DnsMessage.ServerPort) return false;
                if (DnsMessage.TryParse(udp.Payload, out var dns) != WireError.None) return false;
                var reader = dns.GetReader();
                while (reader.TryReadRecord(out _)) { }
                return reader.Error == WireError.None;
            }
            case FrameKind.Dhcp:
                return (udp.DestinationPort is DhcpMessage.ServerPort or DhcpMessage.ClientPort) && DhcpMessage.TryParse(udp.Payload, out _) == WireError.None;
            default:
                return false;
        }
    }
}
