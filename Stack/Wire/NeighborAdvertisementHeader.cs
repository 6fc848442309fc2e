namespace TcpIpSharp.Wire;

/// <summary>The fixed part of a Neighbour Advertisement (RFC 4861 4.4).</summary>
/// <param name="Target">The address advertised.</param>
/// <param name="Router">R flag.</param>
/// <param name="Solicited">S flag: an answer to a solicitation.</param>
/// <param name="Override">O flag.</param>
public readonly record struct NeighborAdvertisementHeader(Ipv6Address Target, bool Router, bool Solicited, bool Override)
{
    /// <summary>Size of the fixed part (options follow).</summary>
    public const int Size = NeighborAdvertisement.Field.Options;

    /// <summary>Reads the fields from a parsed advertisement.</summary>
    public static NeighborAdvertisementHeader From(NeighborAdvertisement advertisement)
        => new(advertisement.Target, advertisement.Router, advertisement.Solicited, advertisement.Override);

    /// <summary>Writes the fixed part with a zero checksum; returns the bytes written. Write options after it, then <see cref="Icmpv6Header.FillChecksum"/>.</summary>
    public int WriteTo(Span<byte> destination)
    {
        NdMessage.WriteStart(destination, Icmpv6Type.NeighborAdvertisement, Size);
        destination[NeighborAdvertisement.Field.Flags] = (byte)((Router ? 0x80 : 0) | (Solicited ? 0x40 : 0) | (Override ? 0x20 : 0));
        Target.WriteTo(destination[NeighborAdvertisement.Field.Target..]);
        return Size;
    }
}
