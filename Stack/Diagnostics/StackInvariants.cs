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
        if (stack.Udp.Count > o.UdpMaxEndpoints) return Format("{0} UDP endpoints, bound {1}", stack.Udp.Count, o.UdpMaxEndpoints);
        foreach (var c in stack.Tcp.Connections)
            if (c.BrokenInvariant() is string broken) return $"{c}: {broken}";
        foreach (var l in stack.Tcp.Listeners)
            if (l.HalfOpen > l.SynQueueLimit || l.Pending > l.Backlog) return Format("listener {0}: {1} half-open (bound {2}), {3} to accept (bound {4})", l.Port, l.HalfOpen, l.SynQueueLimit, l.Pending, l.Backlog);
        return null;
    }

    private static string Format(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);
}
