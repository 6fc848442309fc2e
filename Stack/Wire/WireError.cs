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
    /// <summary>An IP version other than 4.</summary>
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
}
