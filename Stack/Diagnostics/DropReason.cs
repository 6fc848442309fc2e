namespace TcpIpSharp.Diagnostics;

/// <summary>Why the stack dropped a frame or packet. Every drop is counted under one reason.</summary>
public enum DropReason
{
    /// <summary>A frame too short for an Ethernet header, or a bad VLAN tag.</summary>
    EthernetMalformed,
    /// <summary>An Ethernet destination that is not ours, broadcast, or a joined multicast group.</summary>
    EthernetNotForUs,
    /// <summary>An EtherType the stack does not handle (IPv6 among them).</summary>
    EthernetUnsupportedType,
    /// <summary>A frame from ourselves (a looped-back copy).</summary>
    EthernetFromSelf,
    /// <summary>An ARP packet too short or for another hardware/protocol type.</summary>
    ArpMalformed,
    /// <summary>An ARP packet about other hosts, not addressed to us.</summary>
    ArpNotForUs,
    /// <summary>Frames queued for an address whose ARP resolution failed.</summary>
    ArpResolutionFailed,
    /// <summary>A frame that could not be queued while its next hop was being resolved (queue bound reached).</summary>
    ArpQueueFull,
    /// <summary>No room in the ARP cache for a new entry.</summary>
    ArpCacheFull,
    /// <summary>An ARP reply for us from a neighbour we did not ask about: no cache entry is made for it.</summary>
    ArpUnsolicitedReply,
    /// <summary>An unsolicited ARP packet giving a resolved neighbour a different MAC (spoofing): ignored until we ask again.</summary>
    ArpAddressChangeIgnored,
    /// <summary>An IPv4 header with a bad version, header length or total length.</summary>
    Ipv4Malformed,
    /// <summary>An IPv4 header checksum that does not verify.</summary>
    Ipv4BadChecksum,
    /// <summary>An IPv4 destination that is not one of ours (the stack is a host, not a router).</summary>
    Ipv4NotForUs,
    /// <summary>A source address that no host may use (broadcast, multicast, or our own from another MAC).</summary>
    Ipv4BadSource,
    /// <summary>A fragment whose data overlaps data already received: the whole datagram is dropped.</summary>
    ReassemblyOverlap,
    /// <summary>A fragment that would make the datagram longer than 65,535 bytes.</summary>
    ReassemblyTooLarge,
    /// <summary>A datagram not completed before the reassembly timeout.</summary>
    ReassemblyTimeout,
    /// <summary>A fragment of a datagram that alone would exceed the reassembly byte budget.</summary>
    ReassemblyNoResources,
    /// <summary>A datagram with more holes than the reassembler tracks.</summary>
    ReassemblyTooManyHoles,
    /// <summary>A datagram for a protocol the stack does not serve (protocol unreachable sent).</summary>
    Ipv4UnknownProtocol,
    /// <summary>A datagram to send with no route: off-link and no gateway.</summary>
    Ipv4NoRoute,
    /// <summary>A datagram to send larger than 65,535 bytes, or with Don't Fragment set and larger than the MTU.</summary>
    Ipv4TooLarge,
    /// <summary>An ICMP message shorter than its header or with a bad quote.</summary>
    IcmpMalformed,
    /// <summary>An ICMP checksum that does not verify.</summary>
    IcmpBadChecksum,
    /// <summary>An ICMP type the stack does not act on.</summary>
    IcmpUnhandledType,
    /// <summary>An ICMP error the stack did not send because of the rate limit.</summary>
    IcmpRateLimited,
    /// <summary>An echo reply for no open echo client.</summary>
    IcmpNoEchoClient,
    /// <summary>A UDP header with a bad length.</summary>
    UdpMalformed,
    /// <summary>A UDP checksum that does not verify.</summary>
    UdpBadChecksum,
    /// <summary>A datagram to a port with no endpoint (port unreachable sent, unless broadcast).</summary>
    UdpNoEndpoint,
    /// <summary>A datagram for an endpoint whose receive queue is full.</summary>
    UdpQueueFull,
    /// <summary>A TCP header with a bad data offset.</summary>
    TcpMalformed,
    /// <summary>A TCP checksum that does not verify.</summary>
    TcpBadChecksum,
    /// <summary>A TCP segment to a broadcast or multicast address.</summary>
    TcpBroadcast,
    /// <summary>A frame the link refused to transmit.</summary>
    LinkTransmitFailed,
    /// <summary>A frame larger than the link's largest frame.</summary>
    LinkFrameTooLarge,
    /// <summary>A datagram in reassembly evicted, oldest first, to make room for a new one (every slot or the byte budget taken).</summary>
    ReassemblyEvicted,
    /// <summary>An IPv6 header, extension-header chain or option that does not parse, or a chain an option's action bits tell us to discard.</summary>
    Ipv6Malformed,
    /// <summary>An IPv6 destination that is not one of our addresses or joined groups (or a packet to a tentative address).</summary>
    Ipv6NotForUs,
    /// <summary>An IPv6 source that no host may use (multicast, or one of our addresses from another MAC).</summary>
    Ipv6BadSource,
    /// <summary>An IPv6 next header the stack does not serve (parameter problem sent).</summary>
    Ipv6UnknownProtocol,
    /// <summary>An IPv6 packet to send with no route: off-link and no default router, or no source address yet.</summary>
    Ipv6NoRoute,
    /// <summary>An IPv6 packet to send larger than 65,535 bytes of payload.</summary>
    Ipv6TooLarge,
    /// <summary>An ICMPv6 message too short for its type, or with a bad quote.</summary>
    Icmpv6Malformed,
    /// <summary>An ICMPv6 checksum that does not verify.</summary>
    Icmpv6BadChecksum,
    /// <summary>An ICMPv6 type the stack does not act on.</summary>
    Icmpv6UnhandledType,
    /// <summary>A Neighbour Discovery message failing RFC 4861's validity checks (hop limit 255, code 0, options, source).</summary>
    NdInvalid,
    /// <summary>A frame waiting for Neighbour Discovery dropped: the entry's or the table's queue was full.</summary>
    NdQueueFull,
    /// <summary>Neighbour Discovery gave up on an address (no advertisement after the solicitations): its queued frames dropped.</summary>
    NdResolutionFailed,
    /// <summary>No room in the neighbour table for an IPv6 neighbour (every entry still resolving).</summary>
    NdCacheFull,
    /// <summary>A router advertisement's prefix, router or address beyond the table's documented bound.</summary>
    NdTableFull,
    /// <summary>A redirect that fails RFC 4861 8.1's checks (not from our first-hop router, bad target).</summary>
    NdRedirectRejected,
    /// <summary>An MLD message that does not parse or fails RFC 3810's checks (hop limit 1, link-local source).</summary>
    MldInvalid,
    /// <summary>Fragments of one datagram with ECN fields that cannot be combined: Not-ECT beside ECT or CE (RFC 3168 5.3, as Linux's ip_frag_ecn_table).</summary>
    ReassemblyEcnMismatch,
}
