namespace TcpIpSharp.Wire;

/// <summary>Why a byte sequence is not a well-formed instance of a wire format. Malformed input is a value, never an exception.</summary>
public enum WireError
{
    /// <summary>The bytes are well formed.</summary>
    None = 0,
    /// <summary>Fewer bytes than the fixed header needs.</summary>
    Truncated,
    /// <summary>A length field is smaller than the header or larger than the bytes present, or DNS record data whose size does not fit its type.</summary>
    BadLength,
    /// <summary>An IP version other than the format's (4 for IPv4, 6 for IPv6).</summary>
    BadVersion,
    /// <summary>A header-length field below the minimum or past the end of the packet.</summary>
    BadHeaderLength,
    /// <summary>An option whose length is missing, 0, 1 (where 2 is the minimum), runs past the options area, or differs from its kind's fixed length.</summary>
    BadOption,
    /// <summary>A hardware or protocol type or size this format does not carry (ARP other than Ethernet/IPv4).</summary>
    Unsupported,
    /// <summary>A DNS name pointer out of the message, or more pointers in one name than the hop limit (a loop).</summary>
    BadPointer,
    /// <summary>A DNS label longer than 63 bytes (a length octet starting 01 or 10, RFC 1035 4.1.4), or an empty label or non-Latin-1 char in a name to write.</summary>
    BadLabel,
    /// <summary>A DNS name longer than 255 bytes.</summary>
    NameTooLong,
    /// <summary>A DHCP message without the magic cookie 99.130.83.99.</summary>
    BadMagicCookie,
    /// <summary>A destination buffer too small to write into.</summary>
    BufferTooSmall,
    /// <summary>An IPv6 Payload Length of 0 with a Hop-by-Hop header: a jumbogram (RFC 2675), which the stack does not support.</summary>
    JumboPayload,
    /// <summary>More IPv6 extension headers than <see cref="Ipv6HeaderChain.MaximumExtensionHeaders"/>: dropped cheaply rather than walked.</summary>
    HeaderChainTooLong,
    /// <summary>A first IPv6 fragment that does not hold the whole header chain through the upper-layer header (RFC 7112 5).</summary>
    IncompleteHeaderChain,
    /// <summary>An IPv6 option this stack does not know whose action bits say discard (RFC 8200 4.2).</summary>
    UnrecognizedOption,
    /// <summary>An IPv6 Routing header of a type this stack does not process, with Segments Left above 0 (RFC 8200 4.4).</summary>
    UnrecognizedRoutingType,
    /// <summary>An IPv6 Routing header of type 0, refused (RFC 5095 3).</summary>
    RoutingHeaderType0,
    /// <summary>An IPv6 Hop-by-Hop Options header anywhere but directly after the IPv6 header (RFC 8200 4.1).</summary>
    MisplacedHopByHop,
    /// <summary>A second IPv6 Fragment header in one header chain.</summary>
    DuplicateFragmentHeader,
    /// <summary>An IPv6 fragment with M set whose fragmentable part is not a multiple of 8 bytes (RFC 8200 4.5).</summary>
    BadFragmentLength,
    /// <summary>A Neighbour Discovery, MLD or ICMPv6 message whose type, code or fixed length is not the one expected (RFC 4861 6.1, 7.1).</summary>
    BadMessage,
}
