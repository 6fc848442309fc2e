namespace TcpIpSharp.Net.Ipv6;

/// <summary>Where an IPv6 address came from.</summary>
public enum Ipv6AddressOrigin
{
    /// <summary>The link-local address formed from the interface identifier (RFC 4862 5.3).</summary>
    LinkLocal,
    /// <summary>Formed from a router advertisement's prefix (SLAAC, RFC 4862 5.5.3).</summary>
    Autoconfigured,
    /// <summary>Configured by hand.</summary>
    Static,
}
