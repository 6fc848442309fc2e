namespace TcpIpSharp.Wire;

/// <summary>A view over a Redirect (RFC 4861 4.5): a better first hop (target) for a destination, then options (target link-layer address, redirected header).</summary>
public readonly ref struct Redirect
{
    internal static class Field
    {
        public const int Reserved = 4;      // 4..8
        public const int Target = 8;        // 8..24
        public const int Destination = 24;  // 24..40
        public const int Options = 40;
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private Redirect(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks type, code 0 and length (RFC 4861 8.1), and every option's length (4.6). The source and target rules of 8.1 are the caller's.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> message, out Redirect redirect)
    {
        redirect = default;
        var error = NdMessage.Check(message, Icmpv6Type.Redirect, Field.Options);
        if (error != WireError.None) return error;
        redirect = new Redirect(message);
        return WireError.None;
    }

    /// <summary>The whole ICMPv6 message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>The better first hop (or the destination itself when it is on-link).</summary>
    public Ipv6Address Target => Ipv6Address.Read(_bytes[Field.Target..]);
    /// <summary>The destination that is redirected.</summary>
    public Ipv6Address Destination => Ipv6Address.Read(_bytes[Field.Destination..]);
    /// <summary>The options after the addresses.</summary>
    public ReadOnlySpan<byte> Options => _bytes[Field.Options..];
    /// <summary>A reader over <see cref="Options"/>.</summary>
    public NdOptionReader GetOptions() => new(Options);
}
