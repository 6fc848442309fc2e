using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A Prefix Information option (RFC 4861 4.6.2), as a router advertises it for on-link determination and SLAAC.</summary>
/// <param name="PrefixLength">Prefix length in bits (0..128).</param>
/// <param name="OnLink">L flag: the prefix is on-link.</param>
/// <param name="Autonomous">A flag: the prefix may be used for stateless address autoconfiguration (RFC 4862 5.5.3).</param>
/// <param name="ValidLifetime">Valid lifetime in seconds (0xFFFFFFFF is infinity).</param>
/// <param name="PreferredLifetime">Preferred lifetime in seconds (0xFFFFFFFF is infinity).</param>
/// <param name="Prefix">The prefix; bits after the prefix length are ignored by the receiver.</param>
public readonly record struct NdPrefixInformation(byte PrefixLength, bool OnLink, bool Autonomous, uint ValidLifetime, uint PreferredLifetime, Ipv6Address Prefix)
{
    internal static class Field
    {
        public const int Type = 0;
        public const int Length = 1;
        public const int PrefixLength = 2;
        public const int Flags = 3;               // L 0x80, A 0x40
        public const int ValidLifetime = 4;       // 4..8
        public const int PreferredLifetime = 8;   // 8..12
        public const int Reserved2 = 12;          // 12..16
        public const int Prefix = 16;             // 16..32
    }

    /// <summary>Size of the option, type and length included.</summary>
    public const int Size = 32;

    /// <summary>Reads a whole Prefix Information option (type, length 4, fields); <see cref="WireError.BadOption"/> for another length.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> option, out NdPrefixInformation prefix)
    {
        prefix = default;
        if (option.Length != Size || option[Field.Length] != Size / 8) return WireError.BadOption;
        byte flags = option[Field.Flags];
        prefix = new NdPrefixInformation(option[Field.PrefixLength], (flags & 0x80) != 0, (flags & 0x40) != 0,
            BinaryPrimitives.ReadUInt32BigEndian(option[Field.ValidLifetime..]), BinaryPrimitives.ReadUInt32BigEndian(option[Field.PreferredLifetime..]),
            Ipv6Address.Read(option[Field.Prefix..]));
        return WireError.None;
    }

    /// <summary>Writes the whole option; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        destination[Field.Type] = (byte)NdOptionType.PrefixInformation;
        destination[Field.Length] = Size / 8;
        destination[Field.PrefixLength] = PrefixLength;
        destination[Field.Flags] = (byte)((OnLink ? 0x80 : 0) | (Autonomous ? 0x40 : 0));
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.ValidLifetime..], ValidLifetime);
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.PreferredLifetime..], PreferredLifetime);
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.Reserved2..], 0);
        Prefix.WriteTo(destination[Field.Prefix..]);
        return Size;
    }
}
