using TcpIpSharp.Capture;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>A host seen in a capture (an IPv4 or IPv6 address that sent frames), for picking the one to replay.</summary>
/// <param name="Address">Its IPv4 or IPv6 address.</param>
/// <param name="Macs">The MACs its frames came from (several when it is behind a router, or the capture saw it from two sides).</param>
/// <param name="FramesSent">Frames with it as the source.</param>
/// <param name="FramesReceived">Frames with it as the destination.</param>
/// <param name="Conversations">Its conversations, one line each ("tcp 192.0.2.2:80 - 192.0.2.1:40000, 12 frames"), busiest first.</param>
public sealed record CaptureHost(IpAddress Address, IReadOnlyList<MacAddress> Macs, int FramesSent, int FramesReceived, IReadOnlyList<string> Conversations)
{
    /// <summary>The hosts of a capture, busiest first (IPv4 and IPv6; ARP senders count as frames sent; :: and multicast sources are not hosts).</summary>
    public static IReadOnlyList<CaptureHost> List(IReadOnlyList<CaptureFrame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        var hosts = new Dictionary<IpAddress, (List<MacAddress> Macs, int Sent, int Received, Dictionary<string, int> Talks)>();
        (List<MacAddress> Macs, int Sent, int Received, Dictionary<string, int> Talks) Get(IpAddress a)
        {
            if (!hosts.TryGetValue(a, out var h)) hosts[a] = h = ([], 0, 0, new Dictionary<string, int>(StringComparer.Ordinal));
            return h;
        }
        foreach (var frame in frames)
        {
            var f = new ReplayFrame(frame.Data);
            if (f.IsArp && !f.ArpSender.IsAny)
            {
                var h = Get(f.ArpSender);
                if (!h.Macs.Contains(f.ArpSenderMac)) h.Macs.Add(f.ArpSenderMac);
                hosts[(IpAddress)f.ArpSender] = (h.Macs, h.Sent + 1, h.Received, h.Talks);
                Count(h.Talks, "arp");
                continue;
            }
            if (!f.IsIp || f.IpSource.IsAny || f.IpSource.IsMulticast) continue;
            var s = Get(f.IpSource);
            if (!s.Macs.Contains(f.Source)) s.Macs.Add(f.Source);
            hosts[f.IpSource] = (s.Macs, s.Sent + 1, s.Received, s.Talks);
            var d = Get(f.IpDestination);
            hosts[f.IpDestination] = (d.Macs, d.Sent, d.Received + 1, d.Talks);
            string protocol = f.IsTcp ? "tcp" : ProtocolName(frame.Data, f);
            if (f.IsTcp)
            {
                Count(s.Talks, $"tcp {f.IpSource}:{f.SourcePort} - {f.IpDestination}:{f.DestinationPort}");
                Count(d.Talks, $"tcp {f.IpDestination}:{f.DestinationPort} - {f.IpSource}:{f.SourcePort}");
            }
            else
            {
                Count(s.Talks, $"{protocol} with {f.IpDestination}");
                Count(d.Talks, $"{protocol} with {f.IpSource}");
            }
        }
        return hosts.Where(h => h.Value.Sent > 0)
            .Select(h => new CaptureHost(h.Key, h.Value.Macs, h.Value.Sent, h.Value.Received,
                h.Value.Talks.OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}, {t.Value} frames").ToList()))
            .OrderByDescending(h => h.FramesSent + h.FramesReceived).ThenBy(h => h.Address.Value).ToList();
    }

    private static void Count(Dictionary<string, int> talks, string key) => talks[key] = talks.GetValueOrDefault(key) + 1;

    private static string ProtocolName(byte[] data, in ReplayFrame f)
    {
        if (f.IsIp6) return f.Icmpv6Type != 0 ? "icmpv6" : "ipv6";
        int at = f.IpOffset + 9;
        if (at >= data.Length) return "ip";
        return data[at] switch { 1 => "icmp", 6 => "tcp", 17 => "udp", 2 => "igmp", byte p => $"ip proto {p}" };
    }
}
