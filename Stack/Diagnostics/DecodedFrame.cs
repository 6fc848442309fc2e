using TcpIpSharp.Wire;

namespace TcpIpSharp.Diagnostics;

/// <summary>
/// What <see cref="FrameDecoder"/> read from one frame, layer by layer: a layer is null when the frame does not carry it
/// or parsing stopped before it. Diagnostic only (it allocates); the packet path never builds one.
/// </summary>
internal sealed class DecodedFrame
{
    /// <summary>Frame number, from 1.</summary>
    public long Number { get; init; }
    /// <summary>Length of the frame on the wire.</summary>
    public int Length { get; init; }
    /// <summary>Bytes captured (less than <see cref="Length"/> when a capture's snap length cut the frame).</summary>
    public int CapturedLength { get; init; }

    public EthernetLayer? Ethernet { get; set; }
    public ArpLayer? Arp { get; set; }
    public Ipv4Layer? Ipv4 { get; set; }
    public IcmpLayer? Icmp { get; set; }
    public IgmpLayer? Igmp { get; set; }
    public UdpLayer? Udp { get; set; }
    public TcpLayer? Tcp { get; set; }
    public DnsLayer? Dns { get; set; }
    public DhcpLayer? Dhcp { get; set; }
    public Ipv6Layer? Ipv6 { get; set; }
    public Icmpv6Layer? Icmpv6 { get; set; }

    /// <summary>The layer that was malformed ("eth", "arp", "ipv4", "icmp", "udp", ...), or null.</summary>
    public string? ErrorLayer { get; private set; }
    /// <summary>Why it was malformed.</summary>
    public WireError Error { get; private set; }
    /// <summary>Extra words about the error (which field, which values), or null.</summary>
    public string? ErrorDetail { get; private set; }

    /// <summary>True when the capture holds fewer bytes than the frame had.</summary>
    public bool IsSnapped => CapturedLength < Length;

    /// <summary>"layer: Reason (detail)".</summary>
    public string? ErrorText => ErrorLayer is null ? null : ErrorDetail is null ? $"{ErrorLayer}: {Error}" : $"{ErrorLayer}: {Error} ({ErrorDetail})";

    /// <summary>The layers ("ipv4", "tcp", "dns", ...) decoded from bytes a snap length cut short: their fields are those
    /// the captured bytes hold, and what was not captured is left out.</summary>
    public HashSet<string> TruncatedLayers { get; } = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="layer"/> was decoded from a header or message that was not wholly captured.</summary>
    public bool IsTruncated(string layer) => TruncatedLayers.Contains(layer);

    public void Fail(string layer, WireError error, string? detail = null)
    {
        ErrorLayer = layer;
        Error = error;
        ErrorDetail = detail;
    }

    /// <summary>Ethernet II: <see cref="Type"/> is the EtherType after every VLAN tag, <see cref="Vlan"/> the outer tag's VLAN
    /// ID and <see cref="Vlans"/> every tag's, outer first (802.1ad/QinQ stacks them).</summary>
    internal sealed record EthernetLayer(MacAddress Source, MacAddress Destination, ushort Type, ushort? Vlan, ushort TagProtocol, IReadOnlyList<ushort> Vlans);

    /// <summary>ARP (RFC 826) with any hardware and protocol: addresses as text (MAC and dotted forms for Ethernet and
    /// IPv4 of the usual sizes, hex otherwise), or null when the packet ends before them.</summary>
    internal sealed record ArpLayer(ushort HardwareType, ushort ProtocolType, byte HardwareLength, byte ProtocolLength, ushort Operation,
        string? SenderHardware, string? SenderProtocol, string? TargetHardware, string? TargetProtocol)
    {
        /// <summary>Ethernet hardware with 6-byte addresses and IPv4 with 4-byte ones: the only kind the stack speaks.</summary>
        public bool IsEthernetIpv4 => HardwareType == ArpHeader.HardwareTypeEthernet && ProtocolType == (ushort)EtherType.Ipv4
            && HardwareLength == MacAddress.Size && ProtocolLength == Ipv4Address.Size;
    }

    /// <summary>IPv4 header fields; <see cref="Offset"/> in bytes; <see cref="ChecksumOk"/> null when options were not captured.</summary>
    internal sealed record Ipv4Layer(Ipv4Address Source, Ipv4Address Destination, byte TimeToLive, byte Protocol, ushort Identification,
        bool DontFragment, bool MoreFragments, int Offset, ushort TotalLength, int HeaderLength, bool? ChecksumOk)
    {
        public bool IsFragment => MoreFragments || Offset != 0;
    }

    /// <summary>ICMP header; <see cref="ChecksumOk"/> is null when it could not be checked (a fragment, or bytes not captured).</summary>
    internal sealed record IcmpLayer(byte Type, byte Code, bool? ChecksumOk, int Length, ushort? Identifier, ushort? Sequence, IcmpQuoteLayer? Quote);

    /// <summary>
    /// An IGMP message: its type, a query's version (0 for others) and maximum response time in tenths of a second, the
    /// group (0.0.0.0 in a general query and a v3 report), a v3 report's number of group records.
    /// </summary>
    internal sealed record IgmpLayer(byte Type, int QueryVersion, int MaximumResponseTenths, Ipv4Address Group, int? Records, bool? ChecksumOk, int Length);

    /// <summary>The datagram quoted by an ICMP error; ports for a quoted UDP or TCP header.</summary>
    internal sealed record IcmpQuoteLayer(Ipv4Address Source, Ipv4Address Destination, byte Protocol, ushort? SourcePort, ushort? DestinationPort);

    /// <summary>TCP header and the options decode prints; <see cref="ChecksumOk"/> is null when it could not be checked, <see cref="Options"/> null when malformed.</summary>
    internal sealed record TcpLayer(ushort SourcePort, ushort DestinationPort, uint Sequence, uint Acknowledgment, ushort Flags, ushort Window,
        int HeaderLength, int PayloadLength, bool? ChecksumOk, TcpOptions? Options);

    /// <summary>A DNS message: header fields, the questions and the answer section (names without a trailing dot).</summary>
    internal sealed record DnsLayer(ushort Id, bool IsResponse, byte Opcode, byte ResponseCode,
        IReadOnlyList<DnsQuestionEntry> Questions, IReadOnlyList<DnsAnswerEntry> Answers);

    /// <summary>One question.</summary>
    internal sealed record DnsQuestionEntry(string Name, ushort Type);

    /// <summary>One answer record; <see cref="Data"/> in decode's text form for its type.</summary>
    internal sealed record DnsAnswerEntry(string Name, ushort Type, uint TimeToLive, string Data);

    /// <summary>A DHCP message: fixed fields and the options decode prints (null when absent).</summary>
    internal sealed record DhcpLayer(byte Operation, uint TransactionId, byte? MessageType, Ipv4Address ClientAddress, Ipv4Address YourAddress,
        Ipv4Address ServerAddress, string ClientHardwareAddress, Ipv4Address? SubnetMask, IReadOnlyList<Ipv4Address> Routers,
        IReadOnlyList<Ipv4Address> DomainNameServers, uint? LeaseTime, Ipv4Address? ServerIdentifier, Ipv4Address? RequestedAddress);

    /// <summary>IPv6 fixed header, the upper-layer protocol after the extension headers (null when the chain is malformed), and the Fragment header.</summary>
    internal sealed record Ipv6Layer(Ipv6Address Source, Ipv6Address Destination, byte HopLimit, byte NextHeader, ushort PayloadLength,
        uint FlowLabel, byte TrafficClass, byte? UpperLayerProtocol, Ipv6FragmentHeader? Fragment);

    /// <summary>ICMPv6 message; <see cref="ChecksumOk"/> is null when it could not be checked, <see cref="Target"/> set for NS, NA and redirect.</summary>
    internal sealed record Icmpv6Layer(byte Type, byte Code, bool? ChecksumOk, int Length, ushort? Identifier, ushort? Sequence, uint? Mtu,
        uint? Pointer, Ipv6Address? Target, Icmpv6QuoteLayer? Quote);

    /// <summary>The packet quoted by an ICMPv6 error; ports for a quoted UDP or TCP header.</summary>
    internal sealed record Icmpv6QuoteLayer(Ipv6Address Source, Ipv6Address Destination, byte Protocol, ushort? SourcePort, ushort? DestinationPort);

    /// <summary>UDP header; <see cref="ChecksumOk"/> is null when it could not be checked (a fragment, or bytes not captured).</summary>
    internal sealed record UdpLayer(ushort SourcePort, ushort DestinationPort, ushort Length, bool? ChecksumOk, int PayloadLength);
}
