using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

/// <summary>What a TCP connection writes its segments through (the interface implements it); connections never call a link.</summary>
internal interface ITcpOutput
{
    /// <summary>Where the next segment (header and payload) is written.</summary>
    Span<byte> SegmentBuffer { get; }

    /// <summary>The largest segment (header and payload) the path carries without fragmentation.</summary>
    int MaxSegment { get; }

    /// <summary>Checksums and sends the segment of <paramref name="length"/> bytes in <see cref="SegmentBuffer"/>.</summary>
    NetError SendSegment(Ipv4Address source, Ipv4Address destination, int length, TimeSpan now);

    /// <summary>Repeated timeouts toward <paramref name="destination"/>: the next hop's link address may be wrong; re-resolve it.</summary>
    void SuspectNeighbour(Ipv4Address destination, TimeSpan now);
}
