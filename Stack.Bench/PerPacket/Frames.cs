using System.Buffers.Binary;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>Offsets in an untagged Ethernet frame carrying IPv4 without options, and an RFC 1624 checksum patch.</summary>
internal static class Frames
{
    public const int EtherType = 12;
    public const int Ip = 14;
    public const int IpProtocol = Ip + 9;
    public const int TcpHeader = Ip + 20;
    public const int TcpSequence = TcpHeader + 4;
    public const int TcpAcknowledgment = TcpHeader + 8;
    public const int TcpFlags = TcpHeader + 13;
    public const int TcpChecksum = TcpHeader + 16;

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
