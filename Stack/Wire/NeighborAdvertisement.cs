namespace TcpIpSharp.Wire;

/// <summary>A view over a Neighbour Advertisement (RFC 4861 4.4): R/S/O flags and the target address, then options (a target link-layer address).</summary>
public readonly ref struct NeighborAdvertisement
{
    internal static class Field
    {
        public const int Flags = 4;      // R 0x80, S 0x40, O 0x20; 4..8 with the reserved bits
        public const int Target = 8;     // 8..24
        public const int Options = 24;
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private NeighborAdvertisement(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks type, code 0 and length (RFC 4861 7.1.2), and every option's length (4.6).</summary>
    public static WireError TryParse(ReadOnlySpan<byte> message, out NeighborAdvertisement advertisement)
    {
        advertisement = default;
        var error = NdMessage.Check(message, Icmpv6Type.NeighborAdvertisement, Field.Options);
        if (error != WireError.None) return error;
        advertisement = new NeighborAdvertisement(message);
        return WireError.None;
    }

    /// <summary>The whole ICMPv6 message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>R flag: the sender is a router.</summary>
    public bool Router => (_bytes[Field.Flags] & 0x80) != 0;
    /// <summary>S flag: sent in answer to a solicitation.</summary>
    public bool Solicited => (_bytes[Field.Flags] & 0x40) != 0;
    /// <summary>O flag: override an existing cache entry.</summary>
    public bool Override => (_bytes[Field.Flags] & 0x20) != 0;
    /// <summary>The address the advertisement is about.</summary>
    public Ipv6Address Target => Ipv6Address.Read(_bytes[Field.Target..]);
    /// <summary>The options after the target.</summary>
    public ReadOnlySpan<byte> Options => _bytes[Field.Options..];
    /// <summary>A reader over <see cref="Options"/>.</summary>
    public NdOptionReader GetOptions() => new(Options);
}
