using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace TcpIpSharp.Wire;

/// <summary>An IPv4 address held as a host-order 32-bit value (first octet in the high byte).</summary>
public readonly record struct Ipv4Address(uint Value) : ISpanFormattable
{
    /// <summary>Size of an address on the wire.</summary>
    public const int Size = 4;
    /// <summary>0.0.0.0</summary>
    public static Ipv4Address Any => default;
    /// <summary>255.255.255.255, the limited broadcast address.</summary>
    public static Ipv4Address Broadcast => new(0xFFFF_FFFF);
    /// <summary>127.0.0.1</summary>
    public static Ipv4Address Loopback => new(0x7F00_0001);

    /// <summary>Builds an address from its four octets.</summary>
    public Ipv4Address(byte a, byte b, byte c, byte d) : this((uint)(a << 24 | b << 16 | c << 8 | d)) { }

    /// <summary>Reads an address from the first four bytes of <paramref name="bytes"/>.</summary>
    public static Ipv4Address Read(ReadOnlySpan<byte> bytes) => new(BinaryPrimitives.ReadUInt32BigEndian(bytes));

    /// <summary>Writes the address to the first four bytes of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Value);

    /// <summary>True for 224.0.0.0/4.</summary>
    public bool IsMulticast => Value >> 28 == 0xE;
    /// <summary>True for 255.255.255.255.</summary>
    public bool IsLimitedBroadcast => Value == 0xFFFF_FFFF;
    /// <summary>True for 0.0.0.0.</summary>
    public bool IsAny => Value == 0;
    /// <summary>True for 127.0.0.0/8.</summary>
    public bool IsLoopback => Value >> 24 == 127;

    /// <summary>The network mask for a prefix length 0..32.</summary>
    public static Ipv4Address MaskFromPrefix(int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return new(prefixLength == 0 ? 0u : uint.MaxValue << (32 - prefixLength));
    }

    /// <summary>Parses dotted-quad text (exactly four decimal octets).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Ipv4Address address)
    {
        address = default;
        uint value = 0;
        int octets = 0;
        int i = 0;
        while (octets < 4)
        {
            int start = i, octet = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]) && i - start < 3)
                octet = octet * 10 + (text[i++] - '0');
            if (i == start || octet > 255) return false;
            value = value << 8 | (uint)octet;
            octets++;
            if (octets < 4)
            {
                if (i >= text.Length || text[i] != '.') return false;
                i++;
            }
        }
        if (i != text.Length) return false;
        address = new Ipv4Address(value);
        return true;
    }

    /// <summary>Parses dotted-quad text or throws <see cref="FormatException"/>.</summary>
    public static Ipv4Address Parse(string text)
        => TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not an IPv4 address");

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format = default, IFormatProvider? provider = null)
    {
        charsWritten = 0;
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            if (!((byte)(Value >> shift)).TryFormat(destination[charsWritten..], out int n, default, CultureInfo.InvariantCulture)) return false;
            charsWritten += n;
            if (shift != 0)
            {
                if (charsWritten >= destination.Length) return false;
                destination[charsWritten++] = '.';
            }
        }
        return true;
    }

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>Dotted-quad text.</summary>
    [SuppressMessage("Design", "CA1065", Justification = "cannot fail for 15 chars")]
    public override string ToString()
    {
        Span<char> buffer = stackalloc char[15];
        TryFormat(buffer, out int n);
        return new string(buffer[..n]);
    }
}
