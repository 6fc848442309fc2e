namespace TcpIpSharp.Capture;

/// <summary>What <see cref="CaptureFile.ReadEthernet(string, CaptureReadOptions?)"/> read: the Ethernet frames, the
/// records left out and why, and the damage that ended the reading early, if any.</summary>
public sealed class CaptureContents
{
    /// <summary>pcap or pcapng.</summary>
    public required CaptureFormat Format { get; init; }
    /// <summary>Records in the file (read before any damage).</summary>
    public required long Records { get; init; }
    /// <summary>The frames, in file order, as Ethernet.</summary>
    public required IReadOnlyList<CaptureFrame> Frames { get; init; }
    /// <summary>Records not turned into frames (truncated, another link type, another VLAN), in file order.</summary>
    public required IReadOnlyList<CaptureSkip> Skipped { get; init; }
    /// <summary>Link types seen, with their names ("Ethernet", "Linux SLL2").</summary>
    public required IReadOnlyList<string> LinkTypes { get; init; }
    /// <summary>Null, or the one-line reason the file could not be read to its end (a damaged or cut-off record): the
    /// frames before it are kept.</summary>
    public string? Damage { get; init; }
}
