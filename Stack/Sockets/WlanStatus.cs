namespace TcpIpSharp.Sockets;

/// <summary>
/// The link status with the Pico W's <c>WLAN.status()</c> numbers (<c>network.STAT_*</c> and the cyw43 driver's
/// <c>CYW43_LINK_*</c>). A wired TAP has no association, so "connecting" is the time between starting the stack and
/// the link being driven, and "no IP" the time DHCP works on a lease.
/// </summary>
public enum WlanStatus
{
    /// <summary>Failed: the stack thread stopped with an error (<c>STAT_CONNECT_FAIL</c>, -1).</summary>
    ConnectFail = -1,
    /// <summary>Not started, or stopped (<c>STAT_IDLE</c>, 0).</summary>
    Idle = 0,
    /// <summary>Started, the link not driven yet (<c>STAT_CONNECTING</c>, 1).</summary>
    Connecting = 1,
    /// <summary>The link is up and DHCP has not configured an address yet (<c>CYW43_LINK_NOIP</c>, 2).</summary>
    NoIp = 2,
    /// <summary>An address is configured, by DHCP or by hand (<c>STAT_GOT_IP</c>, 3).</summary>
    GotIp = 3,
}
