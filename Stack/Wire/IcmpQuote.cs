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

    /// <summary>Checks that a whole IPv4 header and 8 transport bytes are present; Total Length may exceed what was quoted.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out IcmpQuote quote)
    {
        quote = default;
        if (bytes.Length < Ipv4Header.MinimumSize) return WireError.Truncated;
        if (bytes[0] >> 4 != 4) return WireError.BadVersion;
        int headerLength = (bytes[0] & 0xF) * 4;
        if (headerLength < Ipv4Header.MinimumSize) return WireError.BadHeaderLength;
        if (bytes.Length < headerLength + 8) return WireError.Truncated;
        quote = new IcmpQuote(bytes, headerLength);
        return WireError.None;
    }

    /// <summary>Source of the quoted datagram (this host, for errors about what it sent).</summary>
    public Ipv4Address Source => Ipv4Address.Read(_bytes[Ipv4Packet.Field.Source..]);
    /// <summary>Destination of the quoted datagram.</summary>
    public Ipv4Address Destination => Ipv4Address.Read(_bytes[Ipv4Packet.Field.Destination..]);
    /// <summary>Protocol of the quoted datagram.</summary>
    public IpProtocol Protocol => (IpProtocol)_bytes[Ipv4Packet.Field.Protocol];
    /// <summary>The quoted transport bytes (at least 8).</summary>
    public ReadOnlySpan<byte> Transport => _bytes[_headerLength..];
    /// <summary>UDP/TCP source port of the quoted datagram.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(Transport);
    /// <summary>UDP/TCP destination port of the quoted datagram.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(Transport[2..]);
    /// <summary>TCP sequence number of the quoted segment.</summary>
    public uint TcpSequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(Transport[4..]);
}
