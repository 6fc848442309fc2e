using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// A view over a DHCP message (RFC 2131 2): the BOOTP fields, the magic cookie and the options. <see cref="TryParse"/> walks
/// every option once (overloaded file and sname fields included), so the typed accessors after it never fail; they return
/// the first instance of their option, or null (an empty span, an empty list) when it is absent.
/// </summary>
public readonly ref struct DhcpMessage
{
    internal static class Field
    {
        public const int Operation = 0;
        public const int HardwareType = 1;
        public const int HardwareLength = 2;
        public const int Hops = 3;
        public const int TransactionId = 4;       // 4..8
        public const int Seconds = 8;             // 8..10
        public const int Flags = 10;              // 10..12
        public const int ClientAddress = 12;      // ciaddr 12..16
        public const int YourAddress = 16;        // yiaddr 16..20
        public const int ServerAddress = 20;      // siaddr 20..24
        public const int RelayAgentAddress = 24;  // giaddr 24..28
        public const int ClientHardware = 28;     // chaddr 28..44
        public const int ServerName = 44;         // sname 44..108
        public const int File = 108;              // file 108..236
        public const int MagicCookie = 236;       // 236..240
        public const int Options = 240;
    }

    /// <summary>UDP port of DHCP servers.</summary>
    public const int ServerPort = 67;
    /// <summary>UDP port of DHCP clients.</summary>
    public const int ClientPort = 68;
    /// <summary>The magic cookie 99.130.83.99 that starts the options (RFC 2131 3).</summary>
    public const uint MagicCookie = 0x6382_5363;
    /// <summary>The BOOTP fields before the cookie.</summary>
    public const int BootpSize = 236;
    /// <summary>Size of chaddr.</summary>
    public const int ClientHardwareLength = 16;
    /// <summary>Size of sname.</summary>
    public const int ServerNameLength = 64;
    /// <summary>Size of file.</summary>
    public const int FileLength = 128;
    /// <summary>The broadcast bit of the flags field (RFC 2131 2).</summary>
    public const ushort BroadcastFlag = 0x8000;

    private readonly ReadOnlySpan<byte> _bytes;
    private DhcpMessage(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks the fixed fields (<see cref="WireError.Truncated"/>), the cookie (<see cref="WireError.BadMagicCookie"/>) and every option (<see cref="WireError.BadOption"/>).</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out DhcpMessage message)
    {
        message = default;
        if (bytes.Length < BootpSize) return WireError.Truncated;
        if (bytes.Length < Field.Options || BinaryPrimitives.ReadUInt32BigEndian(bytes[Field.MagicCookie..]) != MagicCookie)
            return WireError.BadMagicCookie;
        var error = DhcpOptionReader.Validate(bytes);
        if (error != WireError.None) return error;
        message = new DhcpMessage(bytes);
        return WireError.None;
    }

    /// <summary>The whole message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>op: request from a client or reply from a server.</summary>
    public DhcpOperation Operation => (DhcpOperation)_bytes[Field.Operation];
    /// <summary>htype (1 for Ethernet).</summary>
    public byte HardwareType => _bytes[Field.HardwareType];
    /// <summary>hlen (6 for Ethernet).</summary>
    public byte HardwareAddressLength => _bytes[Field.HardwareLength];
    /// <summary>hops, counted by relay agents.</summary>
    public byte Hops => _bytes[Field.Hops];
    /// <summary>xid, chosen by the client.</summary>
    public uint TransactionId => BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.TransactionId..]);
    /// <summary>secs since the client began.</summary>
    public ushort Seconds => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Seconds..]);
    /// <summary>The flags field as stored.</summary>
    public ushort Flags => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Flags..]);
    /// <summary>The broadcast bit: the client cannot receive unicast before it is configured.</summary>
    public bool IsBroadcast => (Flags & BroadcastFlag) != 0;
    /// <summary>ciaddr: the client's address when it already has one.</summary>
    public Ipv4Address ClientAddress => Ipv4Address.Read(_bytes[Field.ClientAddress..]);
    /// <summary>yiaddr: the address offered or assigned to the client.</summary>
    public Ipv4Address YourAddress => Ipv4Address.Read(_bytes[Field.YourAddress..]);
    /// <summary>siaddr: the next server to use in bootstrap.</summary>
    public Ipv4Address ServerAddress => Ipv4Address.Read(_bytes[Field.ServerAddress..]);
    /// <summary>giaddr: the relay agent.</summary>
    public Ipv4Address RelayAgentAddress => Ipv4Address.Read(_bytes[Field.RelayAgentAddress..]);
    /// <summary>chaddr, the first hlen bytes (at most 16).</summary>
    public ReadOnlySpan<byte> ClientHardwareAddress => _bytes.Slice(Field.ClientHardware, Math.Min((int)HardwareAddressLength, ClientHardwareLength));
    /// <summary>chaddr as a MAC address when htype is Ethernet and hlen is 6, otherwise null.</summary>
    public MacAddress? ClientMacAddress => HardwareType == 1 && HardwareAddressLength == MacAddress.Size
        ? MacAddress.Read(_bytes[Field.ClientHardware..]) : null;
    /// <summary>sname up to its first NUL; empty when it holds overloaded options.</summary>
    public ReadOnlySpan<byte> ServerName => (OptionOverload & 2) != 0 ? default : UpToNul(_bytes.Slice(Field.ServerName, ServerNameLength));
    /// <summary>file up to its first NUL; empty when it holds overloaded options.</summary>
    public ReadOnlySpan<byte> BootFileName => (OptionOverload & 1) != 0 ? default : UpToNul(_bytes.Slice(Field.File, FileLength));
    /// <summary>The options field after the cookie.</summary>
    public ReadOnlySpan<byte> Options => _bytes[Field.Options..];

    /// <summary>A reader over every option (options field, then overloaded file and sname).</summary>
    public DhcpOptionReader GetOptionReader() => new(_bytes);

    /// <summary>The data of the first instance of <paramref name="option"/>; false when absent.</summary>
    public bool TryGetOption(DhcpOption option, out ReadOnlySpan<byte> data)
    {
        var reader = new DhcpOptionReader(_bytes);
        while (reader.Read())
        {
            if (reader.Option == option)
            {
                data = reader.Data;
                return true;
            }
        }
        data = default;
        return false;
    }

    /// <summary>Option Overload (52) from the options field (RFC 2131 4.1): 0 none, 1 file, 2 sname, 3 both.</summary>
    public byte OptionOverload
    {
        get
        {
            var reader = new DhcpOptionReader(_bytes);
            while (reader.Read()) { }
            return reader.Overload;
        }
    }

    /// <summary>DHCP Message Type (53), or null for plain BOOTP.</summary>
    public DhcpMessageType? MessageType => TryGetOption(DhcpOption.MessageType, out var d) ? (DhcpMessageType)d[0] : null;
    /// <summary>Subnet Mask (1).</summary>
    public Ipv4Address? SubnetMask => Address(DhcpOption.SubnetMask);
    /// <summary>The first (preferred) Router (3).</summary>
    public Ipv4Address? Router => Address(DhcpOption.Router);
    /// <summary>Every Router (3), in order of preference.</summary>
    public DhcpAddressList Routers => new(TryGetOption(DhcpOption.Router, out var d) ? d : default);
    /// <summary>Domain Name Servers (6), in order of preference.</summary>
    public DhcpAddressList DomainNameServers => new(TryGetOption(DhcpOption.DomainNameServer, out var d) ? d : default);
    /// <summary>Network Time Protocol Servers (42), in order of preference.</summary>
    public DhcpAddressList NtpServers => new(TryGetOption(DhcpOption.NtpServers, out var d) ? d : default);
    /// <summary>IP Address Lease Time (51), seconds (0xFFFFFFFF is infinite).</summary>
    public uint? LeaseTime => UInt32(DhcpOption.IpAddressLeaseTime);
    /// <summary>Server Identifier (54).</summary>
    public Ipv4Address? ServerIdentifier => Address(DhcpOption.ServerIdentifier);
    /// <summary>Requested IP Address (50).</summary>
    public Ipv4Address? RequestedIpAddress => Address(DhcpOption.RequestedIpAddress);
    /// <summary>Renewal Time T1 (58), seconds.</summary>
    public uint? RenewalTime => UInt32(DhcpOption.RenewalTime);
    /// <summary>Rebinding Time T2 (59), seconds.</summary>
    public uint? RebindingTime => UInt32(DhcpOption.RebindingTime);
    /// <summary>Broadcast Address (28).</summary>
    public Ipv4Address? BroadcastAddress => Address(DhcpOption.BroadcastAddress);
    /// <summary>Interface MTU (26).</summary>
    public ushort? InterfaceMtu => TryGetOption(DhcpOption.InterfaceMtu, out var d) ? BinaryPrimitives.ReadUInt16BigEndian(d) : null;
    /// <summary>Host Name (12) bytes, empty when absent.</summary>
    public ReadOnlySpan<byte> HostName => TryGetOption(DhcpOption.HostName, out var d) ? d : default;
    /// <summary>Client Identifier (61) bytes (type, then the identifier), empty when absent.</summary>
    public ReadOnlySpan<byte> ClientIdentifier => TryGetOption(DhcpOption.ClientIdentifier, out var d) ? d : default;

    private Ipv4Address? Address(DhcpOption option) => TryGetOption(option, out var d) ? Ipv4Address.Read(d) : null;
    private uint? UInt32(DhcpOption option) => TryGetOption(option, out var d) ? BinaryPrimitives.ReadUInt32BigEndian(d) : null;

    private static ReadOnlySpan<byte> UpToNul(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return nul < 0 ? field : field[..nul];
    }
}
