using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A view over an ARP packet for Ethernet and IPv4 (RFC 826); any other hardware or protocol is <see cref="WireError.Unsupported"/>.</summary>
public readonly ref struct ArpPacket
{
    internal static class Field
    {
        public const int HardwareType = 0;     // 0..2
        public const int ProtocolType = 2;     // 2..4
        public const int HardwareLength = 4;
        public const int ProtocolLength = 5;
        public const int Operation = 6;        // 6..8
        public const int SenderHardware = 8;   // 8..14
        public const int SenderProtocol = 14;  // 14..18
        public const int TargetHardware = 18;  // 18..24
        public const int TargetProtocol = 24;  // 24..28
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private ArpPacket(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks the fixed fields: Ethernet hardware, IPv4 protocol, lengths 6 and 4.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out ArpPacket packet)
    {
        packet = default;
        if (bytes.Length < 8) return WireError.Truncated;
        if (BinaryPrimitives.ReadUInt16BigEndian(bytes[Field.HardwareType..]) != ArpHeader.HardwareTypeEthernet
            || BinaryPrimitives.ReadUInt16BigEndian(bytes[Field.ProtocolType..]) != (ushort)EtherType.Ipv4
            || bytes[Field.HardwareLength] != MacAddress.Size || bytes[Field.ProtocolLength] != Ipv4Address.Size)
            return WireError.Unsupported;
        if (bytes.Length < ArpHeader.Size) return WireError.Truncated;
        packet = new ArpPacket(bytes[..ArpHeader.Size]);
        return WireError.None;
    }

    /// <summary>The operation (1 request, 2 reply).</summary>
    public ArpOperation Operation => (ArpOperation)BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Operation..]);
    /// <summary>Sender hardware address.</summary>
    public MacAddress SenderHardwareAddress => MacAddress.Read(_bytes[Field.SenderHardware..]);
    /// <summary>Sender protocol address.</summary>
    public Ipv4Address SenderProtocolAddress => Ipv4Address.Read(_bytes[Field.SenderProtocol..]);
    /// <summary>Target hardware address.</summary>
    public MacAddress TargetHardwareAddress => MacAddress.Read(_bytes[Field.TargetHardware..]);
    /// <summary>Target protocol address.</summary>
    public Ipv4Address TargetProtocolAddress => Ipv4Address.Read(_bytes[Field.TargetProtocol..]);
}

/// <summary>ARP operation codes.</summary>
public enum ArpOperation : ushort
{
    /// <summary>Who has the target protocol address?</summary>
    Request = 1,
    /// <summary>The sender has the sender protocol address.</summary>
    Reply = 2,
}
