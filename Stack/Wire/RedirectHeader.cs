namespace TcpIpSharp.Wire;

/// <summary>The fixed part of a Redirect (RFC 4861 4.5).</summary>
/// <param name="Target">The better first hop.</param>
/// <param name="Destination">The destination redirected.</param>
public readonly record struct RedirectHeader(Ipv6Address Target, Ipv6Address Destination)
{
    /// <summary>Size of the fixed part (options follow).</summary>
    public const int Size = Redirect.Field.Options;

    /// <summary>Reads the fields from a parsed redirect.</summary>
    public static RedirectHeader From(Redirect redirect) => new(redirect.Target, redirect.Destination);

    /// <summary>Writes the fixed part with a zero checksum; returns the bytes written. Write options after it, then <see cref="Icmpv6Header.FillChecksum"/>.</summary>
    public int WriteTo(Span<byte> destination)
    {
        NdMessage.WriteStart(destination, Icmpv6Type.Redirect, Size);
        Target.WriteTo(destination[Redirect.Field.Target..]);
        Destination.WriteTo(destination[Redirect.Field.Destination..]);
        return Size;
    }
}
