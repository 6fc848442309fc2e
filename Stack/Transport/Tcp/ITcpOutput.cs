using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

/// <summary>What a TCP connection writes its segments through (the interface implements it); connections never call a link.</summary>
internal interface ITcpOutput
{
    /// <summary>Where the next segment (header and payload) is written.</summary>
    Span<byte> SegmentBuffer { get; }

    /// <summary>The largest segment (header and payload) the path to <paramref name="destination"/> carries without fragmentation.</summary>
    int MaxSegment(IpAddress destination);

    /// <summary>
    /// The largest segment (header and payload) the output takes in one piece when it may cut it into segments itself
    /// (the link's segmentation offload); equal to <see cref="MaxSegment"/> when it may not.
    /// </summary>
    int MaxOffloadSegment(IpAddress destination);

    /// <summary>
    /// Checksums and sends the segment of <paramref name="length"/> bytes in <see cref="SegmentBuffer"/>. A segment
    /// longer than <see cref="MaxSegment"/> (at most <see cref="MaxOffloadSegment"/>) is cut on the way out into segments
    /// of <paramref name="segmentSize"/> payload bytes each; 0 for a segment that goes out as it is. <paramref name="ecn"/>
    /// is the ECN field for the IP header (RFC 3168 5): ECT(0) on new data of an ECN connection, else Not-ECT. When
    /// <paramref name="summedFrom"/> is above 0, the bytes from there on (the payload) were summed to
    /// <paramref name="payloadSum"/> as they were copied in, and the checksum is assembled from it and the header.
    /// </summary>
    NetError SendSegment(IpAddress source, IpAddress destination, int length, TimeSpan now, int segmentSize = 0, IpEcn ecn = IpEcn.NotEct,
                         int summedFrom = 0, uint payloadSum = 0);

    /// <summary>Repeated timeouts toward <paramref name="destination"/>: the next hop's link address may be wrong; re-resolve it.</summary>
    void SuspectNeighbour(IpAddress destination, TimeSpan now);
}
