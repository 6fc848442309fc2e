using System.Buffers.Binary;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>
/// Offsets in an untagged Ethernet frame carrying IPv4 without options (<see cref="V4"/>) or IPv6 without extension
/// headers (<see cref="V6"/>), and an RFC 1624 checksum patch (the TCP checksum covers the same fields in both
/// families; IPv6 has no header checksum).
/// </summary>
internal sealed class Frames
{
    public const int EtherType = 12;
    public const int Ip = 14;

    public static readonly Frames V4 = new(ipHeader: 20, protocolField: 9);
    public static readonly Frames V6 = new(ipHeader: 40, protocolField: 6);

    private Frames(int ipHeader, int protocolField)
    {
        IpHeader = ipHeader;
        IpProtocol = Ip + protocolField;
        TcpHeader = Ip + ipHeader;
    }

    public static Frames For(IpFamily family) => family == IpFamily.IPv6 ? V6 : V4;

    /// <summary>The IP header's length: 20 (IPv4 without options) or 40 (IPv6, no extension headers).</summary>
    public int IpHeader { get; }
    /// <summary>The protocol (IPv4) or next header (IPv6) field.</summary>
    public int IpProtocol { get; }
    public int TcpHeader { get; }
    public int TcpSequence => TcpHeader + 4;
    public int TcpAcknowledgment => TcpHeader + 8;
    public int TcpFlags => TcpHeader + 13;
    public int TcpChecksum => TcpHeader + 16;
    /// <summary>The ICMP (IPv4) or ICMPv6 protocol number.</summary>
    public byte Icmp => IpHeader == 40 ? (byte)58 : (byte)1;

    /// <summary>The IP payload's length (IPv4 total length minus its header; IPv6 payload length).</summary>
    public int IpPayloadLength(ReadOnlySpan<byte> frame) => IpHeader == 40
        ? BinaryPrimitives.ReadUInt16BigEndian(frame[(Ip + 4)..])
        : BinaryPrimitives.ReadUInt16BigEndian(frame[(Ip + 2)..]) - 20;

    /// <summary>True when the frame's EtherType is this family's.</summary>
    public bool IsFamily(ReadOnlySpan<byte> frame) =>
        frame.Length > TcpHeader && BinaryPrimitives.ReadUInt16BigEndian(frame[EtherType..]) == (IpHeader == 40 ? 0x86DD : 0x0800);

    /// <summary>Writes a 32-bit field and updates the checksum incrementally (RFC 1624 eqn. 3): a few ns, not a pass over the payload.</summary>
    public static void Patch32(Span<byte> frame, int field, uint value, int checksum)
    {
        uint old = BinaryPrimitives.ReadUInt32BigEndian(frame[field..]);
        BinaryPrimitives.WriteUInt32BigEndian(frame[field..], value);
        uint sum = (ushort)~BinaryPrimitives.ReadUInt16BigEndian(frame[checksum..]);
        sum += (uint)(ushort)~(old >> 16) + (ushort)~old + (value >> 16) + (value & 0xFFFF);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(frame[checksum..], (ushort)~sum);
    }
}

/// <summary>The address family a per-packet suite runs over.</summary>
public enum IpFamily
{
    IPv4,
    IPv6,
}
