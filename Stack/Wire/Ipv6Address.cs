using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TcpIpSharp.Wire;

/// <summary>
/// An IPv6 address held as a 128-bit value (first octet in the high byte), as the IPv6 wire views read it and the DNS
/// resolver returns AAAA answers.
/// </summary>
public readonly record struct Ipv6Address(UInt128 Value)
{
    /// <summary>Size of an address on the wire.</summary>
    public const int Size = 16;
    /// <summary>::1</summary>
    public static Ipv6Address Loopback => new(UInt128.One);

    /// <summary>The unspecified address :: (RFC 4291 2.5.2), the source of a DAD probe.</summary>
    public static Ipv6Address Unspecified => default;

    /// <summary>True for ff00::/8 (RFC 4291 2.7).</summary>
    public bool IsMulticast => (byte)(Value >> 120) == 0xFF;

    /// <summary>True for ::.</summary>
    public bool IsUnspecified => Value == UInt128.Zero;

    /// <summary>Reads an address from the first 16 bytes of <paramref name="bytes"/>.</summary>
    public static Ipv6Address Read(ReadOnlySpan<byte> bytes) => new(BinaryPrimitives.ReadUInt128BigEndian(bytes));

    /// <summary>Writes the address to the first 16 bytes of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination) => BinaryPrimitives.WriteUInt128BigEndian(destination, Value);

    /// <summary>Parses IPv6 text (RFC 4291 2.2 forms); false for IPv4 text or anything else.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Ipv6Address address)
    {
        address = default;
        if (!IPAddress.TryParse(text, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6 || ip.ScopeId != 0) return false;
        Span<byte> bytes = stackalloc byte[Size];
        ip.TryWriteBytes(bytes, out _);
        address = Read(bytes);
        return true;
    }

    /// <summary>Parses IPv6 text; throws <see cref="FormatException"/> for anything else (for tests and configuration, not wire input).</summary>
    public static Ipv6Address Parse(string text)
        => TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not an IPv6 address");

    /// <summary>The RFC 5952 text form (allocates: for output and logs).</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return new IPAddress(bytes).ToString();
    }
}
