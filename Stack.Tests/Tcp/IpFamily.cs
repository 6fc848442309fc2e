using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>The address family a TCP test runs over: the same test code runs over both (issue 14, Tests).</summary>
public enum IpFamily
{
    V4,
    V6,
}

/// <summary>What the raw-segment test peers (the script runner, the matrices' RawPeer) share about IPv6.</summary>
internal static class IpFamilies
{
    /// <summary>Every case of <paramref name="cases"/> over IPv4, then over IPv6: the family is appended as the last argument.</summary>
    public static IEnumerable<TestCaseData> OverBoth(IEnumerable<TestCaseData> cases)
    {
        var list = cases.ToList();
        foreach (var family in new[] { IpFamily.V4, IpFamily.V6 })
        {
            foreach (var c in list)
            {
                var d = new TestCaseData([.. c.Arguments, family]);
                if (c.ArgDisplayNames is { } names) d.SetArgDisplayNames([.. names, family.ToString()]);
                yield return d;
            }
        }
    }

    /// <summary>
    /// How much bigger the stack's MTU is over IPv6 in the raw-peer tests: the IPv6 header is 20 bytes longer than
    /// IPv4's, so with the MTU (and the in-memory link's frame) 20 bytes up the stack's MSS is the same as over IPv4 (1460
    /// at 1500) and the same expectations apply to both families (Tcp/Scripts/README.md, "Over IPv6").
    /// </summary>
    public const int Ipv6MtuShift = Ipv6Header.Size - Ipv4Header.MinimumSize;

    /// <summary>
    /// The ICMPv6 counterpart of an ICMPv4 error (type, code, the 32-bit field after the checksum): see the table in
    /// Tcp/Scripts/README.md. Fragmentation needed becomes Packet Too Big with the MTU raised by <see cref="Ipv6MtuShift"/>.
    /// </summary>
    public static (Icmpv6Type Type, byte Code, uint Field) Icmpv6For(IcmpType type, byte code, ushort mtu) => (type, code) switch
    {
        (IcmpType.DestinationUnreachable, 0) => (Icmpv6Type.DestinationUnreachable, 0, 0u),   // net: no route to destination
        (IcmpType.DestinationUnreachable, 1) => (Icmpv6Type.DestinationUnreachable, 3, 0u),   // host: address unreachable
        (IcmpType.DestinationUnreachable, 2) => (Icmpv6Type.ParameterProblem, 1, (uint)Ipv6Packet.Field.NextHeader),   // protocol: unrecognised next header
        (IcmpType.DestinationUnreachable, 3) => (Icmpv6Type.DestinationUnreachable, 4, 0u),   // port unreachable
        (IcmpType.DestinationUnreachable, 4) => (Icmpv6Type.PacketTooBig, 0, (uint)(mtu + Ipv6MtuShift)),   // fragmentation needed
        (IcmpType.TimeExceeded, 0) => (Icmpv6Type.TimeExceeded, 0, 0u),                       // hop limit exceeded in transit
        _ => throw new ArgumentException($"no ICMPv6 counterpart for ICMP {type} code {code}"),
    };

    /// <summary>
    /// Whether an outbound IPv6 packet is link chatter a TCP test does not speak of: MLD reports (behind a hop-by-hop
    /// header), router solicitations, neighbour advertisements. Sets <paramref name="solicitedTarget"/> for a neighbour
    /// solicitation (for the caller to answer) and returns false for it.
    /// </summary>
    public static bool IsChatter(Ipv6Packet ip, out Ipv6Address? solicitedTarget)
    {
        solicitedTarget = null;
        var next = ip.NextHeader;
        var upper = ip.Payload;
        if (next == IpProtocol.HopByHopOptions && upper.Length >= 8 && upper.Length >= (upper[1] + 1) * 8)
        {
            next = (IpProtocol)upper[0];
            upper = upper[((upper[1] + 1) * 8)..];
        }
        if (next != IpProtocol.Icmpv6 || upper.Length < 4) return false;
        var type = (Icmpv6Type)upper[0];
        if (type == Icmpv6Type.NeighborSolicitation)
        {
            if (NeighborSolicitation.TryParse(upper, out var ns) == WireError.None) solicitedTarget = ns.Target;
            return false;
        }
        return type is Icmpv6Type.NeighborAdvertisement or Icmpv6Type.RouterSolicitation or Icmpv6Type.MulticastListenerReport
            or Icmpv6Type.MulticastListenerReportV2 or Icmpv6Type.MulticastListenerDone;
    }
}
