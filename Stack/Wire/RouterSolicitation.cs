namespace TcpIpSharp.Wire;

/// <summary>A view over a Router Solicitation (RFC 4861 4.1): 4 reserved bytes, then options (a source link-layer address, unless sent from ::).</summary>
public readonly ref struct RouterSolicitation
{
    internal static class Field
    {
        public const int Reserved = 4;   // 4..8
        public const int Options = 8;
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private RouterSolicitation(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks type, code 0 and length (RFC 4861 6.1.1), and every option's length (4.6).</summary>
    public static WireError TryParse(ReadOnlySpan<byte> message, out RouterSolicitation solicitation)
    {
        solicitation = default;
        var error = NdMessage.Check(message, Icmpv6Type.RouterSolicitation, Field.Options);
        if (error != WireError.None) return error;
        solicitation = new RouterSolicitation(message);
        return WireError.None;
    }

    /// <summary>The whole ICMPv6 message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>The options after the fixed fields.</summary>
    public ReadOnlySpan<byte> Options => _bytes[Field.Options..];
    /// <summary>A reader over <see cref="Options"/>.</summary>
    public NdOptionReader GetOptions() => new(Options);
}
