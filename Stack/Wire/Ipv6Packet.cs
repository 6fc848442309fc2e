using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// A view over an IPv6 packet (RFC 8200 3): the 40-byte fixed header and the payload up to Payload Length (link padding
/// excluded). Extension headers are part of the payload: walk them with <see cref="TryWalkHeaders"/>.
/// </summary>
public readonly ref struct Ipv6Packet
{
    internal static class Field
    {
        public const int VersionClassFlow = 0;   // 0..4: version 4 bits, traffic class 8 bits, flow label 20 bits
        public const int PayloadLength = 4;      // 4..6
        public const int NextHeader = 6;
        public const int HopLimit = 7;
        public const int Source = 8;             // 8..24
        public const int Destination = 24;       // 24..40
        public const int Payload = 40;
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private Ipv6Packet(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>
    /// Checks the version and Payload Length against the bytes present. A Payload Length of 0 with a Hop-by-Hop header is a
    /// jumbogram (RFC 2675), <see cref="WireError.JumboPayload"/>: the stack does not support them.
    /// </summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out Ipv6Packet packet)
    {
        packet = Parse(bytes, out var error);
        return error;
    }

    /// <summary><see cref="TryParse"/> for the receive path, the view returned rather than written through an <c>out</c> (see <see cref="Ipv4Packet.Parse"/>).</summary>
    internal static Ipv6Packet Parse(ReadOnlySpan<byte> bytes, out WireError error)
    {
        error = WireError.Truncated;
        if (bytes.Length < Ipv6Header.Size) return default;
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(bytes[Field.PayloadLength..]);
        error = bytes[Field.VersionClassFlow] >> 4 != 6 ? WireError.BadVersion
            // RFC 2675 3: a jumbogram says 0 here and carries its length in a Hop-by-Hop option.
            : payloadLength == 0 && bytes[Field.NextHeader] == (byte)IpProtocol.HopByHopOptions ? WireError.JumboPayload
            : payloadLength > bytes.Length - Ipv6Header.Size ? WireError.BadLength
            : WireError.None;
        return error == WireError.None ? new Ipv6Packet(bytes[..(Ipv6Header.Size + payloadLength)]) : default;
    }

    /// <summary>Header and payload, 40 + Payload Length bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Version field (always 6 once parsed).</summary>
    public int Version => _bytes[Field.VersionClassFlow] >> 4;
    /// <summary>Traffic class: DSCP and ECN (RFC 8200 7).</summary>
    public byte TrafficClass => (byte)(BinaryPrimitives.ReadUInt32BigEndian(_bytes) >> 20);
    /// <summary>Flow label, 20 bits (RFC 6437).</summary>
    public uint FlowLabel => BinaryPrimitives.ReadUInt32BigEndian(_bytes) & 0xF_FFFF;
    /// <summary>Payload Length field: the bytes after the fixed header, extension headers included.</summary>
    public ushort PayloadLength => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.PayloadLength..]);
    /// <summary>Next Header: the first extension header or the upper-layer protocol.</summary>
    public IpProtocol NextHeader => (IpProtocol)_bytes[Field.NextHeader];
    /// <summary>Hop limit.</summary>
    public byte HopLimit => _bytes[Field.HopLimit];
    /// <summary>Source address.</summary>
    public Ipv6Address Source => Ipv6Address.Read(_bytes[Field.Source..]);
    /// <summary>Destination address.</summary>
    public Ipv6Address Destination => Ipv6Address.Read(_bytes[Field.Destination..]);
    /// <summary>The 40-byte fixed header.</summary>
    public ReadOnlySpan<byte> Header => _bytes[..Field.Payload];
    /// <summary>The payload: extension headers, then the upper-layer header and data.</summary>
    public ReadOnlySpan<byte> Payload => _bytes[Field.Payload..];

    /// <summary>Walks the extension headers to the upper-layer protocol (see <see cref="Ipv6HeaderChain.TryWalk"/>).</summary>
    public WireError TryWalkHeaders(out Ipv6HeaderChain chain) => Ipv6HeaderChain.TryWalk(_bytes, out chain);
}
