using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A view over a UDP datagram (RFC 768): header and payload up to the Length field.</summary>
public readonly ref struct UdpDatagram
{
    internal static class Field
    {
        public const int SourcePort = 0;       // 0..2
        public const int DestinationPort = 2;  // 2..4
        public const int Length = 4;           // 4..6
        public const int Checksum = 6;         // 6..8
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private UdpDatagram(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks the header and that Length lies between 8 and the bytes present.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out UdpDatagram datagram)
    {
        datagram = Parse(bytes, out var error);
        return error;
    }

    /// <summary><see cref="TryParse"/> for the receive path, the view returned rather than written through an <c>out</c> (see <see cref="Ipv4Packet.Parse"/>).</summary>
    internal static UdpDatagram Parse(ReadOnlySpan<byte> bytes, out WireError error)
    {
        error = WireError.Truncated;
        if (bytes.Length < UdpHeader.Size) return default;
        int length = BinaryPrimitives.ReadUInt16BigEndian(bytes[Field.Length..]);
        error = length < UdpHeader.Size || length > bytes.Length ? WireError.BadLength : WireError.None;
        return error == WireError.None ? new UdpDatagram(bytes[..length]) : default;
    }

    /// <summary>Header and payload, Length bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Source port.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.SourcePort..]);
    /// <summary>Destination port.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.DestinationPort..]);
    /// <summary>Length field.</summary>
    public ushort Length => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Length..]);
    /// <summary>Checksum field as stored (0 means none was computed).</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Checksum..]);
    /// <summary>The payload.</summary>
    public ReadOnlySpan<byte> Payload => _bytes[UdpHeader.Size..];

    /// <summary>True when the checksum verifies with the pseudo-header, or is absent (0) over IPv4 (RFC 8200 8.1: over IPv6 it is mandatory).</summary>
    public bool IsChecksumValid(IpAddress source, IpAddress destination)
        => Checksum == 0 ? source.IsIpv4 : InternetChecksum.ComputeTransport(source, destination, IpProtocol.Udp, _bytes) == 0;
}
