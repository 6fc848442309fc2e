using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>An ARP packet for Ethernet and IPv4 (RFC 826).</summary>
/// <param name="Operation">Request or reply.</param>
/// <param name="SenderHardwareAddress">Sender MAC.</param>
/// <param name="SenderProtocolAddress">Sender IPv4 address.</param>
/// <param name="TargetHardwareAddress">Target MAC (zero in a request).</param>
/// <param name="TargetProtocolAddress">Target IPv4 address.</param>
public readonly record struct ArpHeader(ArpOperation Operation, MacAddress SenderHardwareAddress, Ipv4Address SenderProtocolAddress,
    MacAddress TargetHardwareAddress, Ipv4Address TargetProtocolAddress)
{
    /// <summary>Size of an Ethernet/IPv4 ARP packet.</summary>
    public const int Size = 28;
    /// <summary>Hardware type 1, Ethernet.</summary>
    public const ushort HardwareTypeEthernet = 1;

    /// <summary>Reads the fields from a parsed packet.</summary>
    public static ArpHeader From(ArpPacket packet) => new(packet.Operation, packet.SenderHardwareAddress,
        packet.SenderProtocolAddress, packet.TargetHardwareAddress, packet.TargetProtocolAddress);

    /// <summary>Writes the packet; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination[ArpPacket.Field.HardwareType..], HardwareTypeEthernet);
        BinaryPrimitives.WriteUInt16BigEndian(destination[ArpPacket.Field.ProtocolType..], (ushort)EtherType.Ipv4);
        destination[ArpPacket.Field.HardwareLength] = MacAddress.Size;
        destination[ArpPacket.Field.ProtocolLength] = Ipv4Address.Size;
        BinaryPrimitives.WriteUInt16BigEndian(destination[ArpPacket.Field.Operation..], (ushort)Operation);
        SenderHardwareAddress.WriteTo(destination[ArpPacket.Field.SenderHardware..]);
        SenderProtocolAddress.WriteTo(destination[ArpPacket.Field.SenderProtocol..]);
        TargetHardwareAddress.WriteTo(destination[ArpPacket.Field.TargetHardware..]);
        TargetProtocolAddress.WriteTo(destination[ArpPacket.Field.TargetProtocol..]);
        return Size;
    }
}
