namespace TcpIpSharp.Wire;

/// <summary>The fixed part of a Router Solicitation (RFC 4861 4.1): type, code and 4 reserved bytes.</summary>
public readonly record struct RouterSolicitationHeader
{
    /// <summary>Size of the fixed part (options follow).</summary>
    public const int Size = RouterSolicitation.Field.Options;

    /// <summary>Writes the fixed part with a zero checksum; returns the bytes written. Write options after it, then <see cref="Icmpv6Header.FillChecksum"/>.</summary>
    public int WriteTo(Span<byte> destination)
    {
        NdMessage.WriteStart(destination, Icmpv6Type.RouterSolicitation, Size);
        return Size;
    }
}
