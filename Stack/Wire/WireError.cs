namespace TcpIpSharp.Wire;

/// <summary>Why a byte sequence is not a well-formed instance of a wire format. Malformed input is a value, never an exception.</summary>
public enum WireError
{
    /// <summary>The bytes are well formed.</summary>
    None = 0,
    /// <summary>Fewer bytes than the fixed header needs.</summary>
    Truncated,
    /// <summary>A length field is smaller than the header or larger than the bytes present.</summary>
    BadLength,
    /// <summary>An IP version other than 4.</summary>
    BadVersion,
    /// <summary>A header-length field below the minimum or past the end of the packet.</summary>
    BadHeaderLength,
    /// <summary>An option whose length is 0, 1 (where 2 is the minimum) or runs past the options area.</summary>
    BadOption,
    /// <summary>A hardware or protocol type or size this format does not carry (ARP other than Ethernet/IPv4).</summary>
    Unsupported,
    /// <summary>A DNS name pointer that points forward, out of the message, or loops past the hop limit.</summary>
    BadPointer,
    /// <summary>A DNS label longer than 63 bytes or a reserved label type.</summary>
    BadLabel,
    /// <summary>A DNS name longer than 255 bytes.</summary>
    NameTooLong,
    /// <summary>A DHCP message without the magic cookie 99.130.83.99.</summary>
    BadMagicCookie,
    /// <summary>A destination buffer too small to write into.</summary>
    BufferTooSmall,
}
