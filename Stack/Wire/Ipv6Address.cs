using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TcpIpSharp.Wire;

/// <summary>
/// An IPv6 address held as a 128-bit value (first octet in the high byte). The stack does not speak IPv6; the DNS
/// resolver returns AAAA answers in this form.
/// </summary>
public readonly record struct Ipv6Address(UInt128 Value)
{
    /// <summary>Size of an address on the wire.</summary>
    public const int Size = 16;
    /// <summary>::1</summary>
    public static Ipv6Address Loopback => new(UInt128.One);

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

    /// <summary>The RFC 5952 text form (allocates: for output and logs).</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return new IPAddress(bytes).ToString();
    }
}
