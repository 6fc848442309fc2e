namespace TcpIpSharp.Services.Dhcp;

/// <summary>The states of the DHCP client (RFC 2131 4.4, figure 5), plus <see cref="Stopped"/> and the ARP check.</summary>
public enum DhcpState
{
    /// <summary>Not started, or stopped (after a RELEASE when it held a lease).</summary>
    Stopped,
    /// <summary>Waiting to begin (after a DECLINE or repeated NAKs); DISCOVER goes out when the wait ends.</summary>
    Init,
    /// <summary>DISCOVER sent; waiting for an OFFER.</summary>
    Selecting,
    /// <summary>REQUEST sent for an offer; waiting for ACK or NAK.</summary>
    Requesting,
    /// <summary>INIT-REBOOT: REQUEST sent for a remembered address; waiting for ACK or NAK.</summary>
    Rebooting,
    /// <summary>ACK received; probing the address with ARP before using it (RFC 2131 4.4.1, RFC 5227).</summary>
    Checking,
    /// <summary>The address is configured; nothing to do until T1.</summary>
    Bound,
    /// <summary>Past T1: REQUEST sent unicast to the leasing server.</summary>
    Renewing,
    /// <summary>Past T2: REQUEST broadcast to any server.</summary>
    Rebinding,
}
