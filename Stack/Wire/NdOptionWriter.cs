using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>Writes Neighbour Discovery options (RFC 4861 4.6, RFC 8106 5) after a message's fixed fields; each method returns the bytes written.</summary>
public static class NdOptionWriter
{
    /// <summary>Size of a link-layer address option for Ethernet.</summary>
    public const int LinkLayerAddressSize = 8;
    /// <summary>Size of an MTU option.</summary>
    public const int MtuSize = 8;

    /// <summary>A source or target link-layer address option for an Ethernet address (RFC 4861 4.6.1).</summary>
    public static int WriteLinkLayerAddress(Span<byte> destination, NdOptionType type, MacAddress address)
    {
        destination = destination[..LinkLayerAddressSize];
        destination[NdOption.Field.Type] = (byte)type;
        destination[NdOption.Field.Length] = 1;
        address.WriteTo(destination[NdOption.Field.Data..]);
        return LinkLayerAddressSize;
    }

    /// <summary>An MTU option (RFC 4861 4.6.4).</summary>
    public static int WriteMtu(Span<byte> destination, uint mtu)
    {
        destination = destination[..MtuSize];
        destination[NdOption.Field.Type] = (byte)NdOptionType.Mtu;
        destination[NdOption.Field.Length] = 1;
        BinaryPrimitives.WriteUInt16BigEndian(destination[NdOption.Field.Reserved..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[NdOption.Field.Mtu..], mtu);
        return MtuSize;
    }

    /// <summary>A Recursive DNS Server option (RFC 8106 5.1) with one or more servers.</summary>
    public static int WriteRecursiveDnsServers(Span<byte> destination, uint lifetime, ReadOnlySpan<Ipv6Address> servers)
    {
        int size = NdOption.Field.Servers + servers.Length * Ipv6Address.Size;
        destination = destination[..size];
        destination[NdOption.Field.Type] = (byte)NdOptionType.RecursiveDnsServer;
        destination[NdOption.Field.Length] = (byte)(size / 8);
        BinaryPrimitives.WriteUInt16BigEndian(destination[NdOption.Field.Reserved..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[NdOption.Field.Lifetime..], lifetime);
        for (int i = 0; i < servers.Length; i++) servers[i].WriteTo(destination[(NdOption.Field.Servers + i * Ipv6Address.Size)..]);
        return size;
    }

    /// <summary>A DNS Search List option (RFC 8106 5.2): the names uncompressed, zero-padded to a multiple of 8 bytes.</summary>
    public static WireError TryWriteDnsSearchList(Span<byte> destination, uint lifetime, ReadOnlySpan<string> names, out int bytesWritten)
    {
        bytesWritten = 0;
        int p = NdOption.Field.Names;
        foreach (string name in names)
        {
            var error = DnsName.TryEncode(name, destination.Length > p ? destination[p..] : default, out int n);
            if (error != WireError.None) return error;
            p += n;
        }
        int size = (p + 7) / 8 * 8;
        if (size > destination.Length) return WireError.BufferTooSmall;
        if (size / 8 > byte.MaxValue) return WireError.BadLength;
        destination[p..size].Clear();
        destination[NdOption.Field.Type] = (byte)NdOptionType.DnsSearchList;
        destination[NdOption.Field.Length] = (byte)(size / 8);
        BinaryPrimitives.WriteUInt16BigEndian(destination[NdOption.Field.Reserved..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[NdOption.Field.Lifetime..], lifetime);
        bytesWritten = size;
        return WireError.None;
    }
}
