using System.Buffers.Binary;

namespace TcpIpSharp.Linux;

/// <summary>
/// The virtio-net header (<c>struct virtio_net_hdr_mrg_rxbuf</c>, little-endian, 12 bytes) that prefixes every frame on a
/// TAP opened with <c>IFF_VNET_HDR</c> and <c>TUNSETVNETHDRSZ</c> 12: how checksum and segmentation offloads cross the
/// TAP (include/uapi/linux/virtio_net.h).
/// </summary>
/// <param name="Flags"><see cref="NeedsChecksum"/>, <see cref="DataValid"/>.</param>
/// <param name="GsoType"><see cref="GsoNone"/>, <see cref="GsoTcpV4"/> or <see cref="GsoTcpV6"/>.</param>
/// <param name="HeaderLength">Bytes of headers (Ethernet, IP, TCP) before the payload: a hint.</param>
/// <param name="GsoSize">Payload bytes per segment when <paramref name="GsoType"/> is not none.</param>
/// <param name="ChecksumStart">Where the checksummed bytes start (the transport header) with <see cref="NeedsChecksum"/>.</param>
/// <param name="ChecksumOffset">Where the checksum field is, from <paramref name="ChecksumStart"/> (16 for TCP).</param>
internal readonly record struct VirtioNetHeader(byte Flags, byte GsoType, ushort HeaderLength, ushort GsoSize, ushort ChecksumStart, ushort ChecksumOffset)
{
    /// <summary>Bytes of the header as configured (with the num_buffers field, which the kernel writes 0 and ignores).</summary>
    public const int Size = 12;
    /// <summary>VIRTIO_NET_HDR_F_NEEDS_CSUM: the transport checksum is partial (the pseudo-header sum); complete it from ChecksumStart.</summary>
    public const byte NeedsChecksum = 1;
    /// <summary>VIRTIO_NET_HDR_F_DATA_VALID: the checksum was verified already.</summary>
    public const byte DataValid = 2;
    /// <summary>VIRTIO_NET_HDR_GSO_NONE.</summary>
    public const byte GsoNone = 0;
    /// <summary>VIRTIO_NET_HDR_GSO_TCPV4: a TCP/IPv4 frame to be cut into GsoSize segments.</summary>
    public const byte GsoTcpV4 = 1;
    /// <summary>VIRTIO_NET_HDR_GSO_TCPV6: a TCP/IPv6 frame to be cut into GsoSize segments.</summary>
    public const byte GsoTcpV6 = 4;
    /// <summary>VIRTIO_NET_HDR_GSO_ECN, or'ed into the GSO type: the frame's TCP header has CWR, which the first segment keeps (RFC 3168 6.1.2).</summary>
    public const byte GsoEcn = 0x80;

    /// <summary>Byte offsets.</summary>
    internal static class Field
    {
        public const int Flags = 0;
        public const int GsoType = 1;
        public const int HeaderLength = 2;     // 2..4
        public const int GsoSize = 4;          // 4..6
        public const int ChecksumStart = 6;    // 6..8
        public const int ChecksumOffset = 8;   // 8..10
        public const int NumBuffers = 10;      // 10..12
    }

    /// <summary>True when the kernel vouches for the frame's transport checksum (partial, or verified).</summary>
    public bool ChecksumTrusted => (Flags & (NeedsChecksum | DataValid)) != 0;

    /// <summary>Reads a header from the first <see cref="Size"/> bytes of <paramref name="bytes"/>.</summary>
    public static VirtioNetHeader Read(ReadOnlySpan<byte> bytes) => new(
        bytes[Field.Flags], bytes[Field.GsoType],
        BinaryPrimitives.ReadUInt16LittleEndian(bytes[Field.HeaderLength..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[Field.GsoSize..]),
        BinaryPrimitives.ReadUInt16LittleEndian(bytes[Field.ChecksumStart..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[Field.ChecksumOffset..]));

    /// <summary>Writes the header (num_buffers 0) and returns <see cref="Size"/>.</summary>
    public int WriteTo(Span<byte> bytes)
    {
        bytes[Field.Flags] = Flags;
        bytes[Field.GsoType] = GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[Field.HeaderLength..], HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[Field.GsoSize..], GsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[Field.ChecksumStart..], ChecksumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[Field.ChecksumOffset..], ChecksumOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[Field.NumBuffers..], 0);
        return Size;
    }
}
