namespace TcpIpSharp.Wire;

/// <summary>A view over a Neighbour Solicitation (RFC 4861 4.3): the target address, then options (a source link-layer address, except in a DAD probe).</summary>
public readonly ref struct NeighborSolicitation
{
    internal static class Field
    {
        public const int Reserved = 4;   // 4..8
        public const int Target = 8;     // 8..24
        public const int Options = 24;
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private NeighborSolicitation(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks type, code 0 and length (RFC 4861 7.1.1), and every option's length (4.6). Whether the target is multicast is the caller's to check.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> message, out NeighborSolicitation solicitation)
    {
        solicitation = default;
        var error = NdMessage.Check(message, Icmpv6Type.NeighborSolicitation, Field.Options);
        if (error != WireError.None) return error;
        solicitation = new NeighborSolicitation(message);
        return WireError.None;
    }

    /// <summary>The whole ICMPv6 message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>The address whose link-layer address is sought.</summary>
    public Ipv6Address Target => Ipv6Address.Read(_bytes[Field.Target..]);
    /// <summary>The options after the target.</summary>
    public ReadOnlySpan<byte> Options => _bytes[Field.Options..];
    /// <summary>A reader over <see cref="Options"/>.</summary>
    public NdOptionReader GetOptions() => new(Options);
}
