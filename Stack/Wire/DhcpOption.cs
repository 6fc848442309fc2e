namespace TcpIpSharp.Wire;

/// <summary>DHCP option codes the stack reads or writes (RFC 2132); other codes pass through <see cref="DhcpOptionReader"/> untouched.</summary>
public enum DhcpOption : byte
{
    /// <summary>Padding, one byte, no length (RFC 2132 3.1).</summary>
    Pad = 0,
    /// <summary>Subnet mask, 4 bytes (3.3).</summary>
    SubnetMask = 1,
    /// <summary>Routers, a list of addresses in order of preference (3.5).</summary>
    Router = 3,
    /// <summary>Domain name servers, a list of addresses (3.8).</summary>
    DomainNameServer = 6,
    /// <summary>Client host name, at least 1 byte (3.14).</summary>
    HostName = 12,
    /// <summary>Domain name (3.17).</summary>
    DomainName = 15,
    /// <summary>Network Time Protocol servers, a list of addresses in order of preference (8.3).</summary>
    NtpServers = 42,
    /// <summary>Interface MTU, 2 bytes (5.1).</summary>
    InterfaceMtu = 26,
    /// <summary>Broadcast address, 4 bytes (5.3).</summary>
    BroadcastAddress = 28,
    /// <summary>Requested IP address, 4 bytes (9.1).</summary>
    RequestedIpAddress = 50,
    /// <summary>IP address lease time in seconds, 4 bytes (9.2).</summary>
    IpAddressLeaseTime = 51,
    /// <summary>Option overload, 1 byte: 1 file, 2 sname, 3 both hold options (9.3).</summary>
    OptionOverload = 52,
    /// <summary>DHCP message type, 1 byte (9.6).</summary>
    MessageType = 53,
    /// <summary>Server identifier, 4 bytes (9.7).</summary>
    ServerIdentifier = 54,
    /// <summary>Parameter request list, a list of option codes (9.8).</summary>
    ParameterRequestList = 55,
    /// <summary>Message from the server, text (9.9).</summary>
    Message = 56,
    /// <summary>Maximum DHCP message size, 2 bytes (9.10).</summary>
    MaximumMessageSize = 57,
    /// <summary>Renewal time T1 in seconds, 4 bytes (9.11).</summary>
    RenewalTime = 58,
    /// <summary>Rebinding time T2 in seconds, 4 bytes (9.12).</summary>
    RebindingTime = 59,
    /// <summary>Vendor class identifier (9.13).</summary>
    VendorClassIdentifier = 60,
    /// <summary>Client identifier: a type byte and at least one more (9.14).</summary>
    ClientIdentifier = 61,
    /// <summary>End of the options, one byte, no length (3.2).</summary>
    End = 255,
}
