using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// The invoking packet quoted by an ICMPv6 error (RFC 4443 2.4 c): its IPv6 header and as much after it as fitted, with
/// the header chain walked to the upper-layer header when the quote holds it.
/// </summary>
public readonly ref struct Icmpv6Quote
{
    private readonly ReadOnlySpan<byte> _bytes;
    private readonly Ipv6HeaderChain _chain;
    private readonly bool _walked;

    private Icmpv6Quote(ReadOnlySpan<byte> bytes, Ipv6HeaderChain chain, bool walked)
    {
        _bytes = bytes;
        _chain = chain;
        _walked = walked;
    }

    /// <summary>Checks that a whole IPv6 header is quoted; Payload Length may exceed what was quoted.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out Icmpv6Quote quote)
    {
        quote = default;
        if (bytes.Length < Ipv6Header.Size) return WireError.Truncated;
        if (bytes[Ipv6Packet.Field.VersionClassFlow] >> 4 != 6) return WireError.BadVersion;
        bool walked = Ipv6HeaderChain.TryWalkQuoted(bytes, out var chain) == WireError.None && !chain.IsLaterFragment;
        quote = new Icmpv6Quote(bytes, chain, walked);
        return WireError.None;
    }

    /// <summary>The quoted bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Source of the quoted packet (this host, for errors about what it sent).</summary>
    public Ipv6Address Source => Ipv6Address.Read(_bytes[Ipv6Packet.Field.Source..]);
    /// <summary>Destination of the quoted packet.</summary>
    public Ipv6Address Destination => Ipv6Address.Read(_bytes[Ipv6Packet.Field.Destination..]);
    /// <summary>Next Header of the quoted packet's fixed header.</summary>
    public IpProtocol NextHeader => (IpProtocol)_bytes[Ipv6Packet.Field.NextHeader];
    /// <summary>True when the header chain was walked to an upper-layer header inside the quote.</summary>
    public bool HasUpperLayer => _walked;
    /// <summary>The quoted packet's upper-layer protocol (its Next Header when the chain could not be walked).</summary>
    public IpProtocol Protocol => _walked ? _chain.UpperLayerProtocol : NextHeader;
    /// <summary>The quoted upper-layer bytes (empty when the chain could not be walked).</summary>
    public ReadOnlySpan<byte> Transport => _walked ? _bytes[_chain.UpperLayerOffset..] : default;
    /// <summary>True when a UDP or TCP header's ports are quoted.</summary>
    public bool HasPorts => Protocol is IpProtocol.Udp or IpProtocol.Tcp && Transport.Length >= 4;
    /// <summary>UDP/TCP source port of the quoted packet (0 unless <see cref="HasPorts"/>).</summary>
    public ushort SourcePort => HasPorts ? BinaryPrimitives.ReadUInt16BigEndian(Transport) : (ushort)0;
    /// <summary>UDP/TCP destination port of the quoted packet (0 unless <see cref="HasPorts"/>).</summary>
    public ushort DestinationPort => HasPorts ? BinaryPrimitives.ReadUInt16BigEndian(Transport[2..]) : (ushort)0;
    /// <summary>TCP sequence number of the quoted segment (0 when fewer than 8 TCP bytes are quoted).</summary>
    public uint TcpSequenceNumber => Protocol == IpProtocol.Tcp && Transport.Length >= 8 ? BinaryPrimitives.ReadUInt32BigEndian(Transport[4..]) : 0;
}
