using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A view over an IPv4 packet (RFC 791): header with options, and the payload up to Total Length (link padding excluded).</summary>
public readonly ref struct Ipv4Packet
{
    internal static class Field
    {
        public const int VersionIhl = 0;
        public const int Tos = 1;
        public const int TotalLength = 2;      // 2..4
        public const int Identification = 4;   // 4..6
        public const int FlagsFragment = 6;    // 6..8
        public const int Ttl = 8;
        public const int Protocol = 9;
        public const int Checksum = 10;        // 10..12
        public const int Source = 12;          // 12..16
        public const int Destination = 16;     // 16..20
        public const int Options = 20;
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private Ipv4Packet(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks version, header length and total length against the bytes present. The checksum is not checked here: see <see cref="IsChecksumValid"/>.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out Ipv4Packet packet)
    {
        packet = Parse(bytes, out var error);
        return error;
    }

    /// <summary>
    /// <see cref="TryParse"/> for the receive path: the view is returned, not written through an <c>out</c> (which made the
    /// caller keep it in memory and read it back with one wide load from two narrower stores, a store-forwarding stall
    /// on every packet); default with <paramref name="error"/> set when the bytes are not a packet.
    /// </summary>
    internal static Ipv4Packet Parse(ReadOnlySpan<byte> bytes, out WireError error)
    {
        error = WireError.Truncated;
        if (bytes.Length < Ipv4Header.MinimumSize) return default;
        int headerLength = (bytes[Field.VersionIhl] & 0xF) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(bytes[Field.TotalLength..]);
        error = bytes[Field.VersionIhl] >> 4 != 4 ? WireError.BadVersion
            : headerLength < Ipv4Header.MinimumSize ? WireError.BadHeaderLength
            : totalLength < headerLength ? WireError.BadLength
            : bytes.Length < headerLength ? WireError.BadHeaderLength
            : totalLength > bytes.Length ? WireError.BadLength
            : WireError.None;
        return error == WireError.None ? new Ipv4Packet(bytes[..totalLength]) : default;
    }

    /// <summary>Header and payload, Total Length bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Header length in bytes (20..60).</summary>
    public int HeaderLength => (_bytes[Field.VersionIhl] & 0xF) * 4;
    /// <summary>Type of service / DSCP and ECN byte.</summary>
    public byte TypeOfService => _bytes[Field.Tos];
    /// <summary>Total Length field.</summary>
    public ushort TotalLength => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.TotalLength..]);
    /// <summary>Identification field.</summary>
    public ushort Identification => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Identification..]);
    /// <summary>Don't Fragment flag.</summary>
    public bool DontFragment => (_bytes[Field.FlagsFragment] & 0x40) != 0;
    /// <summary>More Fragments flag.</summary>
    public bool MoreFragments => (_bytes[Field.FlagsFragment] & 0x20) != 0;
    /// <summary>Fragment offset in bytes (the field times 8).</summary>
    public int FragmentOffset => (BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.FlagsFragment..]) & 0x1FFF) * 8;
    /// <summary>True when this packet is a fragment (MF set or a non-zero offset).</summary>
    public bool IsFragment => MoreFragments || FragmentOffset != 0;
    /// <summary>Time to live.</summary>
    public byte TimeToLive => _bytes[Field.Ttl];
    /// <summary>Protocol of the payload.</summary>
    public IpProtocol Protocol => (IpProtocol)_bytes[Field.Protocol];
    /// <summary>Header checksum field as stored.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Checksum..]);
    /// <summary>Source address.</summary>
    public Ipv4Address Source => Ipv4Address.Read(_bytes[Field.Source..]);
    /// <summary>Destination address.</summary>
    public Ipv4Address Destination => Ipv4Address.Read(_bytes[Field.Destination..]);
    /// <summary>Option bytes between the fixed header and the payload.</summary>
    public ReadOnlySpan<byte> Options => _bytes[Field.Options..HeaderLength];
    /// <summary>The header, options included.</summary>
    public ReadOnlySpan<byte> Header => _bytes[..HeaderLength];
    /// <summary>The payload, Total Length minus the header.</summary>
    public ReadOnlySpan<byte> Payload => _bytes[HeaderLength..];
    /// <summary>True when the header checksum verifies.</summary>
    public bool IsChecksumValid => InternetChecksum.IsValid(Header);
}
