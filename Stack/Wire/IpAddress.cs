using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace TcpIpSharp.Wire;

/// <summary>
/// An address of either family, as one 128-bit value: an IPv6 address as it is, an IPv4 address in its IPv4-mapped
/// form (<c>::ffff:a.b.c.d</c>, RFC 4291 2.5.5.2). Transport keys, control blocks and sockets hold this type, so one
/// TCP and one UDP serve both families; what differs by family is decided by <see cref="IsIpv4"/>.
/// </summary>
/// <remarks>
/// <c>default</c> is the IPv6 unspecified address <c>::</c>, which a bind takes as "any address of either family"
/// (lwIP's IPADDR_TYPE_ANY); <see cref="IsAny"/> is true for it and for 0.0.0.0.
/// </remarks>
public readonly record struct IpAddress : ISpanFormattable
{
    private const ulong MappedPrefix = 0x0000_FFFF;   // bits 32..63 of a mapped address; bits 64..127 are zero

    /// <summary>The 128 bits, first octet in the high byte (IPv4 addresses mapped).</summary>
    public UInt128 Value { get; }

    private IpAddress(UInt128 value) => Value = value;

    /// <summary>An address from its 128 bits (as <see cref="Value"/> gives them).</summary>
    public static IpAddress FromValue(UInt128 value) => new(value);

    /// <summary>An IPv4 address.</summary>
    public IpAddress(Ipv4Address address) : this(new UInt128(0, MappedPrefix << 32 | address.Value)) { }

    /// <summary>An IPv6 address (an IPv4-mapped one reads as the IPv4 address it maps).</summary>
    public IpAddress(Ipv6Address address) : this(address.Value) { }

    /// <summary>The unspecified address of either family (<c>::</c>).</summary>
    public static IpAddress Any => default;
    /// <summary>0.0.0.0 as an IPv4 address.</summary>
    public static IpAddress AnyIpv4 => new(Ipv4Address.Any);

    /// <summary>True for an IPv4 address (held mapped).</summary>
    public bool IsIpv4 => (ulong)(Value >> 64) == 0 && (ulong)Value >> 32 == MappedPrefix;
    /// <summary>True for an IPv6 address (including <c>::</c>).</summary>
    public bool IsIpv6 => !IsIpv4;
    /// <summary>The address family.</summary>
    public AddressFamily Family => IsIpv4 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
    /// <summary>True for <c>::</c> and 0.0.0.0.</summary>
    public bool IsAny => Value == UInt128.Zero || Value == new UInt128(0, MappedPrefix << 32);
    /// <summary>True for 224.0.0.0/4 and ff00::/8.</summary>
    public bool IsMulticast => IsIpv4 ? AsIpv4.IsMulticast : (byte)(Value >> 120) == 0xFF;

    /// <summary>The IPv4 address (meaningful only when <see cref="IsIpv4"/>).</summary>
    public Ipv4Address AsIpv4 => new((uint)Value);
    /// <summary>The IPv6 address; an IPv4 address gives its mapped form.</summary>
    public Ipv6Address AsIpv6 => new(Value);

    /// <summary>An IPv4 address as a dual-family one.</summary>
    public static implicit operator IpAddress(Ipv4Address address) => new(address);
    /// <summary>An IPv6 address as a dual-family one.</summary>
    public static implicit operator IpAddress(Ipv6Address address) => new(address);

    /// <summary>Bytes on the wire: 4 for IPv4, 16 for IPv6.</summary>
    public int WireSize => IsIpv4 ? Ipv4Address.Size : Ipv6Address.Size;

    /// <summary>Writes the address as it goes on the wire (4 or 16 bytes) and returns the length.</summary>
    public int WriteTo(Span<byte> destination)
    {
        if (IsIpv4) { BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)Value); return Ipv4Address.Size; }
        BinaryPrimitives.WriteUInt128BigEndian(destination, Value);
        return Ipv6Address.Size;
    }

    /// <summary>Parses IPv4 dotted-quad or IPv6 text (without a zone).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out IpAddress address)
    {
        if (Ipv4Address.TryParse(text, out var v4)) { address = v4; return true; }
        if (Ipv6Address.TryParse(text, out var v6)) { address = v6; return true; }
        address = default;
        return false;
    }

    /// <summary>Parses either family's text or throws <see cref="FormatException"/>.</summary>
    public static IpAddress Parse(string text)
        => TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not an IP address");

    /// <summary>As a .NET <see cref="IPAddress"/> (allocates).</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[Ipv6Address.Size];
        int n = WriteTo(bytes);
        return new IPAddress(bytes[..n]);
    }

    /// <summary>From a .NET <see cref="IPAddress"/> (an IPv4-mapped IPv6 one becomes IPv4).</summary>
    public static IpAddress From(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[Ipv6Address.Size];
        address.TryWriteBytes(bytes, out int n);
        return n == Ipv4Address.Size ? Ipv4Address.Read(bytes) : Ipv6Address.Read(bytes);
    }

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format = default, IFormatProvider? provider = null)
    {
        if (IsIpv4) return AsIpv4.TryFormat(destination, out charsWritten, format, provider);
        var text = AsIpv6.ToString();
        charsWritten = 0;
        if (!text.AsSpan().TryCopyTo(destination)) return false;
        charsWritten = text.Length;
        return true;
    }

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>Dotted-quad text for IPv4, RFC 5952 text for IPv6.</summary>
    public override string ToString() => IsIpv4 ? AsIpv4.ToString() : AsIpv6.ToString();
}
