using System.Buffers.Binary;
using System.Globalization;

namespace TcpIpSharp.Wire;

/// <summary>A 48-bit Ethernet MAC address held in the low 48 bits of a value (first octet highest).</summary>
public readonly record struct MacAddress(ulong Value) : ISpanFormattable
{
    /// <summary>Size of an address on the wire.</summary>
    public const int Size = 6;
    /// <summary>ff:ff:ff:ff:ff:ff</summary>
    public static MacAddress Broadcast => new(0xFFFF_FFFF_FFFFUL);
    /// <summary>00:00:00:00:00:00</summary>
    public static MacAddress Zero => default;

    /// <summary>Reads an address from the first six bytes of <paramref name="bytes"/>.</summary>
    public static MacAddress Read(ReadOnlySpan<byte> bytes)
    {
        bytes = bytes[..Size];
        return new MacAddress((ulong)BinaryPrimitives.ReadUInt32BigEndian(bytes) << 16 | BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]));
    }

    /// <summary>Writes the address to the first six bytes of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        for (int i = 0; i < Size; i++) destination[i] = (byte)(Value >> (40 - 8 * i));
    }

    /// <summary>True when the group bit (least significant bit of the first octet) is set.</summary>
    public bool IsMulticast => (Value >> 40 & 1) != 0;
    /// <summary>True for ff:ff:ff:ff:ff:ff.</summary>
    public bool IsBroadcast => Value == 0xFFFF_FFFF_FFFFUL;

    /// <summary>The Ethernet multicast address for an IPv4 multicast group (RFC 1112 6.4).</summary>
    public static MacAddress ForIpv4Multicast(Ipv4Address group) => new(0x0100_5E00_0000UL | (group.Value & 0x7F_FFFF));

    /// <summary>Parses six hexadecimal octets separated by ':' or '-'.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out MacAddress address)
    {
        address = default;
        if (text.Length != 17) return false;
        ulong v = 0;
        for (int i = 0; i < 6; i++)
        {
            if (i > 0 && text[i * 3 - 1] is not (':' or '-')) return false;
            if (!byte.TryParse(text.Slice(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b)) return false;
            v = v << 8 | b;
        }
        address = new MacAddress(v);
        return true;
    }

    /// <summary>Parses a MAC address or throws <see cref="FormatException"/>.</summary>
    public static MacAddress Parse(string text)
        => TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not a MAC address");

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format = default, IFormatProvider? provider = null)
    {
        charsWritten = 0;
        if (destination.Length < 17) return false;
        const string hex = "0123456789abcdef";
        for (int i = 0; i < 6; i++)
        {
            byte b = (byte)(Value >> (40 - 8 * i));
            if (i > 0) destination[charsWritten++] = ':';
            destination[charsWritten++] = hex[b >> 4];
            destination[charsWritten++] = hex[b & 0xF];
        }
        return true;
    }

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>Lowercase colon-separated text.</summary>
    public override string ToString()
    {
        Span<char> buffer = stackalloc char[17];
        TryFormat(buffer, out _);
        return new string(buffer);
    }
}
