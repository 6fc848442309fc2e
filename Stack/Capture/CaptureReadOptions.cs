namespace TcpIpSharp.Capture;

/// <summary>How <see cref="CaptureFile.ReadEthernet(string, CaptureReadOptions?)"/> turns records into Ethernet frames.</summary>
public sealed record CaptureReadOptions
{
    /// <summary>Null (the default): VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8, stacked) are removed and every frame kept.
    /// A VLAN ID: only frames whose outer tag carries it are kept (untagged, tags removed); the others are skipped.</summary>
    public int? Vlan { get; init; }
    /// <summary>Remove VLAN tags (default true). False keeps tagged frames as they are (and <see cref="Vlan"/> is ignored).</summary>
    public bool StripVlanTags { get; init; } = true;
    /// <summary>Keep frames cut by the snap length (default false: each is skipped and reported).</summary>
    public bool KeepTruncated { get; init; }
}
