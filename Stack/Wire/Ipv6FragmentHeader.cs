using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>The IPv6 Fragment header (RFC 8200 4.5).</summary>
/// <param name="NextHeader">The header that follows in the reassembled packet (in a first fragment, the one that follows here).</param>
/// <param name="Offset">Fragment offset in bytes (a multiple of 8, below 65,536).</param>
/// <param name="MoreFragments">M flag: more fragments follow.</param>
/// <param name="Identification">Identification shared by the fragments of one packet.</param>
public readonly record struct Ipv6FragmentHeader(IpProtocol NextHeader, int Offset, bool MoreFragments, uint Identification)
{
    internal static class Field
    {
        public const int NextHeader = 0;
        public const int Reserved = 1;
        public const int OffsetFlags = 2;       // 2..4: offset 13 bits, 2 reserved bits, M
        public const int Identification = 4;    // 4..8
    }

    /// <summary>Size of the header.</summary>
    public const int Size = 8;

    /// <summary>An atomic fragment (RFC 6946): offset 0 and M clear, to be processed as a whole packet.</summary>
    public bool IsAtomic => Offset == 0 && !MoreFragments;

    /// <summary>Reads the eight bytes of a Fragment header; <see cref="WireError.Truncated"/> when fewer are present.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out Ipv6FragmentHeader header)
    {
        header = default;
        if (bytes.Length < Size) return WireError.Truncated;
        ushort offsetFlags = BinaryPrimitives.ReadUInt16BigEndian(bytes[Field.OffsetFlags..]);
        header = new Ipv6FragmentHeader((IpProtocol)bytes[Field.NextHeader], offsetFlags & 0xFFF8, (offsetFlags & 1) != 0,
            BinaryPrimitives.ReadUInt32BigEndian(bytes[Field.Identification..]));
        return WireError.None;
    }

    /// <summary>Writes the header; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        destination[Field.NextHeader] = (byte)NextHeader;
        destination[Field.Reserved] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[Field.OffsetFlags..], (ushort)(Offset & 0xFFF8 | (MoreFragments ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(destination[Field.Identification..], Identification);
        return Size;
    }
}
