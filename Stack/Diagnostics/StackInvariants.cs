using System.Globalization;

namespace TcpIpSharp.Diagnostics;

/// <summary>
/// The stack-wide invariants (issue 8, item 2) that simulations and fuzzers assert after every frame through
/// <see cref="NetworkStack.AfterFrame"/>: every bounded table within its bound (docs/security.md) and every TCP
/// connection's sequence-space and buffer invariants.
/// </summary>
internal static class StackInvariants
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first invariant that does not hold.</summary>
    public static void Check(NetworkStack stack)
    {
        if (Broken(stack) is string broken) throw new InvalidOperationException("stack invariant broken: " + broken);
    }

    /// <summary>The first invariant that does not hold, or null.</summary>
    public static string? Broken(NetworkStack stack)
    {
        var o = stack.Options;
        var ip = stack.Interface;
        var r = stack.Ipv4.Reassembler;
        if (r.BytesHeld < 0 || r.BytesHeld > o.ReassemblyMaxBytes) return Format("reassembly holds {0} bytes, bound {1}", r.BytesHeld, o.ReassemblyMaxBytes);
        if (r.SlotsInUse != r.DatagramsInProgress) return Format("reassembly counts {0} slots in use, {1} are", r.SlotsInUse, r.DatagramsInProgress);
        if (r.DatagramsInProgress > o.ReassemblyMaxDatagrams) return Format("{0} datagrams in reassembly, bound {1}", r.DatagramsInProgress, o.ReassemblyMaxDatagrams);
        if (ip.Arp.Count > o.ArpCacheSize) return Format("ARP cache holds {0}, bound {1}", ip.Arp.Count, o.ArpCacheSize);
        if (ip.Arp.QueuedFrames > o.ArpQueueTotal) return Format("{0} frames wait for ARP, bound {1}", ip.Arp.QueuedFrames, o.ArpQueueTotal);
        if (stack.Ipv6 is { } v6 && Ipv6Broken(o, o.Ipv6!, v6) is string broken6) return broken6;
        if (stack.Udp.Count > o.UdpMaxEndpoints) return Format("{0} UDP endpoints, bound {1}", stack.Udp.Count, o.UdpMaxEndpoints);
        foreach (var c in stack.Tcp.Connections)
            if (c.BrokenInvariant() is string broken) return $"{c}: {broken}";
        foreach (var l in stack.Tcp.Listeners)
            if (l.HalfOpen > l.SynQueueLimit || l.Pending > l.Backlog) return Format("listener {0}: {1} half-open (bound {2}), {3} to accept (bound {4})", l.Port, l.HalfOpen, l.SynQueueLimit, l.Pending, l.Backlog);
        return null;
    }

    // IPv6's tables (Ipv6Options and the shared neighbour-cache and reassembly bounds): what router advertisements,
    // solicitations and fragments from the link could otherwise grow.
    private static string? Ipv6Broken(NetworkStackOptions o, Net.Ipv6.Ipv6Options v6o, Net.Ipv6.Ipv6Layer v6)
    {
        if (v6.AddressCount > Math.Max(1, v6o.MaxAddresses)) return Format("{0} IPv6 addresses, bound {1}", v6.AddressCount, v6o.MaxAddresses);
        if (v6.PrefixCount > Math.Max(1, v6o.MaxPrefixes)) return Format("{0} on-link prefixes, bound {1}", v6.PrefixCount, v6o.MaxPrefixes);
        if (v6.RouterCount > Math.Max(1, v6o.MaxRouters)) return Format("{0} default routers, bound {1}", v6.RouterCount, v6o.MaxRouters);
        if (v6.DnsServers.Count > v6o.MaxDnsServers) return Format("{0} RDNSS servers, bound {1}", v6.DnsServers.Count, v6o.MaxDnsServers);
        if (v6.DestinationCount > Math.Max(1, v6o.DestinationCacheSize)) return Format("{0} destinations with a path MTU, bound {1}", v6.DestinationCount, v6o.DestinationCacheSize);
        if (v6.Neighbours.Count > o.ArpCacheSize) return Format("neighbour cache holds {0}, bound {1}", v6.Neighbours.Count, o.ArpCacheSize);
        if (v6.Neighbours.QueuedFrames > o.ArpQueueTotal) return Format("{0} frames wait for ND, bound {1}", v6.Neighbours.QueuedFrames, o.ArpQueueTotal);
        var r = v6.Reassembler;
        if (r.BytesHeld < 0 || r.BytesHeld > o.ReassemblyMaxBytes) return Format("IPv6 reassembly holds {0} bytes, bound {1}", r.BytesHeld, o.ReassemblyMaxBytes);
        if (r.SlotsInUse != r.DatagramsInProgress) return Format("IPv6 reassembly counts {0} slots in use, {1} are", r.SlotsInUse, r.DatagramsInProgress);
        if (r.DatagramsInProgress > o.ReassemblyMaxDatagrams) return Format("{0} datagrams in IPv6 reassembly, bound {1}", r.DatagramsInProgress, o.ReassemblyMaxDatagrams);
        return null;
    }

    private static string Format(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
