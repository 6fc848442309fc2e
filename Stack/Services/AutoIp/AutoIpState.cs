namespace TcpIpSharp.Services.AutoIp;

/// <summary>Where an <see cref="AutoIpClient"/> is.</summary>
public enum AutoIpState
{
    /// <summary>Not started, or stopped.</summary>
    Stopped,
    /// <summary>With DHCP: a lease is held, or DHCP has not failed for long enough yet.</summary>
    WaitingForDhcp,
    /// <summary>Probing a candidate address (RFC 3927 2.2.1), or waiting to (the first wait, or the rate limit after many conflicts).</summary>
    Probing,
    /// <summary>The address is configured and being announced (2.4).</summary>
    Announcing,
    /// <summary>The address is in use and defended (2.5).</summary>
    Bound,
}
