using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>The layer at which a frame stopped parsing ("eth", "arp", "ipv4", "icmp", "icmp-quote", "udp") and why.</summary>
internal readonly record struct WalkResult(string Layer, WireError Error)
{
    public static readonly WalkResult Ok = new("", WireError.None);
}

/// <summary>
/// Parses a frame through every L2-L4 view in turn, the way the stack's receive path will, and checksums each layer
/// that has one. Allocates nothing: the allocation test runs it 10,000 times.
/// </summary>
internal static class LayerWalk
{
    /// <summary>Walks the layers; <paramref name="checksumsValid"/> counts the checksums that verified.</summary>
    public static WalkResult Walk(ReadOnlySpan<byte> bytes, out int checksumsValid)
    {
        checksumsValid = 0;
        WireError error = EthernetFrame.TryParse(bytes, out var frame);
        if (error != WireError.None) return new("eth", error);
        switch (frame.EtherType)
        {
            case EtherType.Arp:
                error = ArpPacket.TryParse(frame.Payload, out _);
                return error == WireError.None ? WalkResult.Ok : new("arp", error);
            case EtherType.Ipv4:
                break;
            default:
                return WalkResult.Ok;
        }

        error = Ipv4Packet.TryParse(frame.Payload, out var ip);
        if (error != WireError.None) return new("ipv4", error);
        if (ip.IsChecksumValid) checksumsValid++;
        if (ip.FragmentOffset != 0) return WalkResult.Ok;   // later fragments carry no transport header
        switch (ip.Protocol)
        {
            case IpProtocol.Icmp:
                error = IcmpPacket.TryParse(ip.Payload, out var icmp);
                if (error != WireError.None) return new("icmp", error);
                if (icmp.IsChecksumValid) checksumsValid++;
                if (!icmp.IsError) return WalkResult.Ok;
                error = icmp.TryGetQuote(out _);
                return error == WireError.None ? WalkResult.Ok : new("icmp-quote", error);
            case IpProtocol.Udp:
                error = UdpDatagram.TryParse(ip.Payload, out var udp);
                if (error != WireError.None) return new("udp", error);
                if (!ip.IsFragment && udp.IsChecksumValid(ip.Source, ip.Destination)) checksumsValid++;
                return WalkResult.Ok;
            default:
                return WalkResult.Ok;
        }
    }
}
