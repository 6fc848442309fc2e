namespace TcpIpSharp.Services.Dhcp;

/// <summary>
/// The link status the Pico W's <c>WLAN.status()</c> reports, with the same numbers (the cyw43 driver's
/// <c>CYW43_LINK_*</c>): a wired link has no association phase, so only these three occur.
/// </summary>
public enum DhcpStatus
{
    /// <summary>The client is not running (<c>network.STAT_IDLE</c>, 0).</summary>
    Idle = 0,
    /// <summary>The link is up but DHCP has not configured an address yet (<c>CYW43_LINK_NOIP</c>, 2).</summary>
    NoIp = 2,
    /// <summary>An address is configured (<c>network.STAT_GOT_IP</c>, 3).</summary>
    GotIp = 3,
}
