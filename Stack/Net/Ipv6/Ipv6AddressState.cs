namespace TcpIpSharp.Net.Ipv6;

/// <summary>An IPv6 address's state (RFC 4862 2), as the Pico's <c>ipconfig('addr6')</c> reports it.</summary>
public enum Ipv6AddressState
{
    /// <summary>Being checked by duplicate address detection: not used yet.</summary>
    Tentative,
    /// <summary>In use for new and existing communication.</summary>
    Preferred,
    /// <summary>Its preferred lifetime ran out: kept for existing communication, not chosen for new.</summary>
    Deprecated,
    /// <summary>Duplicate address detection found another node with it: never used.</summary>
    Duplicate,
}
