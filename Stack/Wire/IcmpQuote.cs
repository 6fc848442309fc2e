using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>The datagram quoted in an ICMP error: its IPv4 header and at least the first 8 bytes of its payload (RFC 792).</summary>
public readonly ref struct IcmpQuote
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly int _headerLength;

    private IcmpQuote(ReadOnlySpan<byte> bytes, int headerLength)
    {
        _bytes = bytes;
        _headerLength = headerLength;
    }

    /// <summary>The transport bytes RFC 792 has an error quote after the IPv4 header ("the first 64 bits of the datagram's data").</summary>
    public const int QuotedTransportSize = 8;

    /// <summary>
    /// Checks that a whole IPv4 header is present and after it the first 8 bytes of the datagram's data, or all of it
    /// when the datagram held fewer (a quoted Total Length of 20 needs none); Total Length may exceed what was quoted.
    /// </summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out IcmpQuote quote)
    {
        quote = default;
        if (bytes.Length < Ipv4Header.MinimumSize) return WireError.Truncated;
        if (bytes[0] >> 4 != 4) return WireError.BadVersion;
        int headerLength = (bytes[0] & 0xF) * 4;
        if (headerLength < Ipv4Header.MinimumSize) return WireError.BadHeaderLength;
        if (bytes.Length < headerLength) return WireError.Truncated;
        int datagramData = Math.Max(0, BinaryPrimitives.ReadUInt16BigEndian(bytes[Ipv4Packet.Field.TotalLength..]) - headerLength);
        if (bytes.Length < headerLength + Math.Min(QuotedTransportSize, datagramData)) return WireError.Truncated;
        quote = new IcmpQuote(bytes, headerLength);
        return WireError.None;
    }

    /// <summary>Source of the quoted datagram (this host, for errors about what it sent).</summary>
    public Ipv4Address Source => Ipv4Address.Read(_bytes[Ipv4Packet.Field.Source..]);
    /// <summary>Destination of the quoted datagram.</summary>
    public Ipv4Address Destination => Ipv4Address.Read(_bytes[Ipv4Packet.Field.Destination..]);
    /// <summary>Protocol of the quoted datagram.</summary>
    public IpProtocol Protocol => (IpProtocol)_bytes[Ipv4Packet.Field.Protocol];
    /// <summary>The quoted transport bytes (8 or more, unless the datagram held fewer).</summary>
    public ReadOnlySpan<byte> Transport => _bytes[_headerLength..];
    /// <summary>True when the first 8 transport bytes were quoted (ports and a TCP sequence number can be read).</summary>
    public bool HasTransportHeader => Transport.Length >= QuotedTransportSize;
    /// <summary>UDP/TCP source port of the quoted datagram (only when <see cref="HasTransportHeader"/>).</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(Transport);
    /// <summary>UDP/TCP destination port of the quoted datagram (only when <see cref="HasTransportHeader"/>).</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(Transport[2..]);
    /// <summary>TCP sequence number of the quoted segment (only when <see cref="HasTransportHeader"/>).</summary>
    public uint TcpSequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(Transport[4..]);
}
