using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A view over a Router Advertisement (RFC 4861 4.2): the router's parameters, then options (prefixes, MTU, RDNSS, DNSSL, source link-layer address).</summary>
public readonly ref struct RouterAdvertisement
{
    internal static class Field
    {
        public const int CurrentHopLimit = 4;
        public const int Flags = 5;            // M 0x80, O 0x40
        public const int RouterLifetime = 6;   // 6..8
        public const int ReachableTime = 8;    // 8..12
        public const int RetransTimer = 12;    // 12..16
        public const int Options = 16;
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private RouterAdvertisement(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks type, code 0 and length (RFC 4861 6.1.2), and every option's length (4.6).</summary>
    public static WireError TryParse(ReadOnlySpan<byte> message, out RouterAdvertisement advertisement)
    {
        advertisement = default;
        var error = NdMessage.Check(message, Icmpv6Type.RouterAdvertisement, Field.Options);
        if (error != WireError.None) return error;
        advertisement = new RouterAdvertisement(message);
        return WireError.None;
    }

    /// <summary>The whole ICMPv6 message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Cur Hop Limit: the hop limit to use, 0 when unspecified.</summary>
    public byte CurrentHopLimit => _bytes[Field.CurrentHopLimit];
    /// <summary>M flag: addresses are available from DHCPv6.</summary>
    public bool ManagedAddressConfiguration => (_bytes[Field.Flags] & 0x80) != 0;
    /// <summary>O flag: other configuration is available from DHCPv6.</summary>
    public bool OtherConfiguration => (_bytes[Field.Flags] & 0x40) != 0;
    /// <summary>Router lifetime in seconds; 0: not a default router.</summary>
    public ushort RouterLifetime => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.RouterLifetime..]);
    /// <summary>Reachable time in milliseconds, 0 when unspecified.</summary>
    public uint ReachableTime => BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.ReachableTime..]);
    /// <summary>Retransmission timer in milliseconds, 0 when unspecified.</summary>
    public uint RetransTimer => BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.RetransTimer..]);
    /// <summary>The options after the fixed fields.</summary>
    public ReadOnlySpan<byte> Options => _bytes[Field.Options..];
    /// <summary>A reader over <see cref="Options"/>.</summary>
    public NdOptionReader GetOptions() => new(Options);
}
