using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// One Neighbour Discovery option (RFC 4861 4.6), as <see cref="NdOptionReader"/> returns it: its type, its bytes and
/// typed readers for the options a host uses. A typed reader checks the length its type needs.
/// </summary>
public readonly ref struct NdOption
{
    internal static class Field
    {
        public const int Type = 0;
        public const int Length = 1;               // in units of 8 bytes, type and length included
        public const int Data = 2;
        public const int Reserved = 2;             // 2..4 (MTU, RDNSS, DNSSL)
        public const int Mtu = 4;                  // 4..8
        public const int Lifetime = 4;             // 4..8 (RDNSS, DNSSL)
        public const int Servers = 8;              // RDNSS addresses
        public const int Names = 8;                // DNSSL names
    }

    private readonly ReadOnlySpan<byte> _bytes;

    internal NdOption(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Option type (may be a value with no name in <see cref="NdOptionType"/>).</summary>
    public NdOptionType Type => (NdOptionType)_bytes[Field.Type];
    /// <summary>The whole option, type and length included (a multiple of 8 bytes).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>The bytes after type and length.</summary>
    public ReadOnlySpan<byte> Data => _bytes[Field.Data..];

    /// <summary>The Ethernet address of a source or target link-layer address option (RFC 4861 4.6.1: length 1 on Ethernet).</summary>
    public WireError TryGetLinkLayerAddress(out MacAddress address)
    {
        address = default;
        if (Type is not (NdOptionType.SourceLinkLayerAddress or NdOptionType.TargetLinkLayerAddress) || _bytes.Length != 8) return WireError.BadOption;
        address = MacAddress.Read(_bytes[Field.Data..]);
        return WireError.None;
    }

    /// <summary>The fields of a Prefix Information option (RFC 4861 4.6.2: length 4).</summary>
    public WireError TryGetPrefixInformation(out NdPrefixInformation prefix)
    {
        prefix = default;
        return Type == NdOptionType.PrefixInformation ? NdPrefixInformation.TryParse(_bytes, out prefix) : WireError.BadOption;
    }

    /// <summary>The link MTU of an MTU option (RFC 4861 4.6.4: length 1).</summary>
    public WireError TryGetMtu(out uint mtu)
    {
        mtu = 0;
        if (Type != NdOptionType.Mtu || _bytes.Length != 8) return WireError.BadOption;
        mtu = BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.Mtu..]);
        return WireError.None;
    }

    /// <summary>Lifetime and servers of a Recursive DNS Server option (RFC 8106 5.1: length 3 or more, odd).</summary>
    public WireError TryGetRecursiveDnsServers(out uint lifetime, out Ipv6AddressList servers)
    {
        lifetime = 0;
        servers = default;
        if (Type != NdOptionType.RecursiveDnsServer || _bytes.Length < 24 || (_bytes.Length / 8) % 2 == 0) return WireError.BadOption;
        lifetime = BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.Lifetime..]);
        servers = new Ipv6AddressList(_bytes[Field.Servers..]);
        return WireError.None;
    }

    /// <summary>Lifetime and domain names of a DNS Search List option (RFC 8106 5.2: length 2 or more).</summary>
    public WireError TryGetDnsSearchList(out uint lifetime, out NdDomainNameReader names)
    {
        lifetime = 0;
        names = default;
        if (Type != NdOptionType.DnsSearchList || _bytes.Length < 16) return WireError.BadOption;
        lifetime = BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.Lifetime..]);
        names = new NdDomainNameReader(_bytes[Field.Names..]);
        return WireError.None;
    }
}
