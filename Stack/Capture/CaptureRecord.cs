namespace TcpIpSharp.Capture;

/// <summary>One record of a capture file, as stored: the bytes captured on the interface's own link type.</summary>
/// <param name="Number">The record's position in the file, from 1 (the frame number tshark shows).</param>
/// <param name="Time">When it was captured (UTC).</param>
/// <param name="Data">The captured bytes (fewer than <paramref name="OriginalLength"/> when cut by a snap length).</param>
/// <param name="OriginalLength">The frame's length on the wire.</param>
/// <param name="LinkType">The interface's link type (LINKTYPE_ values: 1 Ethernet, 113 Linux SLL, 276 Linux SLL2).</param>
/// <param name="Interface">The pcapng interface the record belongs to (0 in a pcap file).</param>
public sealed record CaptureRecord(long Number, DateTime Time, byte[] Data, int OriginalLength, int LinkType, int Interface)
{
    /// <summary>True when the capture holds fewer bytes than the frame had on the wire (a snap length cut it).</summary>
    public bool IsTruncated => Data.Length < OriginalLength;
}
