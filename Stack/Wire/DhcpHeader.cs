using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>The fixed part of a DHCP message for Ethernet (RFC 2131 2): BOOTP fields and the magic cookie, with sname and file left empty.</summary>
/// <param name="Operation">op.</param>
/// <param name="TransactionId">xid.</param>
/// <param name="ClientHardwareAddress">chaddr (htype 1, hlen 6).</param>
/// <param name="Seconds">secs.</param>
/// <param name="IsBroadcast">The broadcast flag.</param>
/// <param name="ClientAddress">ciaddr.</param>
/// <param name="YourAddress">yiaddr.</param>
/// <param name="ServerAddress">siaddr.</param>
/// <param name="RelayAgentAddress">giaddr.</param>
/// <param name="Hops">hops.</param>
public readonly record struct DhcpHeader(DhcpOperation Operation, uint TransactionId, MacAddress ClientHardwareAddress, ushort Seconds = 0,
    bool IsBroadcast = false, Ipv4Address ClientAddress = default, Ipv4Address YourAddress = default, Ipv4Address ServerAddress = default,
    Ipv4Address RelayAgentAddress = default, byte Hops = 0)
{
    /// <summary>Bytes written: the BOOTP fields and the cookie; options follow.</summary>
    public const int Size = DhcpMessage.Field.Options;
    /// <summary>htype for Ethernet.</summary>
    public const byte HardwareTypeEthernet = 1;

    /// <summary>Reads the fields of a parsed message (chaddr's first six bytes, whatever hlen says; sname, file and reserved flag bits are dropped).</summary>
    public static DhcpHeader From(DhcpMessage message) => new(message.Operation, message.TransactionId,
        MacAddress.Read(message.Bytes[DhcpMessage.Field.ClientHardware..]), message.Seconds, message.IsBroadcast, message.ClientAddress,
        message.YourAddress, message.ServerAddress, message.RelayAgentAddress, message.Hops);

    /// <summary>Writes the 240 fixed bytes (sname and file zeroed); returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        destination.Clear();
        destination[DhcpMessage.Field.Operation] = (byte)Operation;
        destination[DhcpMessage.Field.HardwareType] = HardwareTypeEthernet;
        destination[DhcpMessage.Field.HardwareLength] = MacAddress.Size;
        destination[DhcpMessage.Field.Hops] = Hops;
        BinaryPrimitives.WriteUInt32BigEndian(destination[DhcpMessage.Field.TransactionId..], TransactionId);
        BinaryPrimitives.WriteUInt16BigEndian(destination[DhcpMessage.Field.Seconds..], Seconds);
        BinaryPrimitives.WriteUInt16BigEndian(destination[DhcpMessage.Field.Flags..], IsBroadcast ? DhcpMessage.BroadcastFlag : (ushort)0);
        ClientAddress.WriteTo(destination[DhcpMessage.Field.ClientAddress..]);
        YourAddress.WriteTo(destination[DhcpMessage.Field.YourAddress..]);
        ServerAddress.WriteTo(destination[DhcpMessage.Field.ServerAddress..]);
        RelayAgentAddress.WriteTo(destination[DhcpMessage.Field.RelayAgentAddress..]);
        ClientHardwareAddress.WriteTo(destination[DhcpMessage.Field.ClientHardware..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[DhcpMessage.Field.MagicCookie..], DhcpMessage.MagicCookie);
        return Size;
    }
}
