namespace TcpIpSharp.Wire;

/// <summary>
/// A Hop-by-Hop Options header holding one Router Alert option (RFC 2711) and a PadN to 8 bytes, as MLD messages carry it
/// (RFC 3810 5, RFC 2710 3).
/// </summary>
/// <param name="NextHeader">The header after this one (ICMPv6 for MLD).</param>
/// <param name="Value">Router Alert value: 0 for MLD.</param>
public readonly record struct Ipv6RouterAlertHeader(IpProtocol NextHeader, ushort Value = 0)
{
    /// <summary>Size of the header.</summary>
    public const int Size = 8;

    /// <summary>Writes the header; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        destination[0] = (byte)NextHeader;
        destination[1] = 0;                              // Hdr Ext Len: 0 more 8-byte units
        destination[2] = Ipv6HeaderChain.RouterAlertOption;
        destination[3] = 2;
        destination[4] = (byte)(Value >> 8);
        destination[5] = (byte)Value;
        destination[6] = Ipv6HeaderChain.PadNOption;     // PadN of 2 bytes: type and a zero length
        destination[7] = 0;
        return Size;
    }
}
