namespace TcpIpSharp.Wire;

/// <summary>The fixed part of a Neighbour Solicitation (RFC 4861 4.3).</summary>
/// <param name="Target">The address whose link-layer address is sought.</param>
public readonly record struct NeighborSolicitationHeader(Ipv6Address Target)
{
    /// <summary>Size of the fixed part (options follow).</summary>
    public const int Size = NeighborSolicitation.Field.Options;

    /// <summary>Reads the fields from a parsed solicitation.</summary>
    public static NeighborSolicitationHeader From(NeighborSolicitation solicitation) => new(solicitation.Target);

    /// <summary>Writes the fixed part with a zero checksum; returns the bytes written. Write options after it, then <see cref="Icmpv6Header.FillChecksum"/>.</summary>
    public int WriteTo(Span<byte> destination)
    {
        NdMessage.WriteStart(destination, Icmpv6Type.NeighborSolicitation, Size);
        Target.WriteTo(destination[NeighborSolicitation.Field.Target..]);
        return Size;
    }
}
