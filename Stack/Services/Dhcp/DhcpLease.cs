using System.Globalization;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Dhcp;

/// <summary>What an ACK gave the client (RFC 2131, RFC 2132): the address and the parameters applied with it.</summary>
/// <param name="Address">yiaddr.</param>
/// <param name="SubnetMask">Option 1 (the address class's mask when absent).</param>
/// <param name="Router">The first router of option 3, or 0.0.0.0.</param>
/// <param name="DnsServers">Option 6, in order.</param>
/// <param name="ServerIdentifier">Option 54: the server that leased it.</param>
/// <param name="LeaseTime">Option 51 (<see cref="TimeSpan.MaxValue"/> for an infinite lease).</param>
/// <param name="RenewalTime">T1: option 58, or half the lease.</param>
/// <param name="RebindingTime">T2: option 59, or seven eighths of the lease.</param>
/// <param name="BroadcastAddress">Option 28, if given.</param>
/// <param name="Mtu">Option 26, if given.</param>
/// <param name="DomainName">Option 15, if given.</param>
/// <param name="Acquired">When the REQUEST that this ACK answers was first sent: the lease's times count from there (RFC 2131 4.4.1).</param>
public sealed record DhcpLease(
    Ipv4Address Address, Ipv4Address SubnetMask, Ipv4Address Router, IReadOnlyList<Ipv4Address> DnsServers,
    Ipv4Address ServerIdentifier, TimeSpan LeaseTime, TimeSpan RenewalTime, TimeSpan RebindingTime,
    Ipv4Address? BroadcastAddress, int? Mtu, string? DomainName, TimeSpan Acquired)
{
    /// <summary>Option 42 (NTP servers, RFC 2132 8.3), in order; empty when the server gave none. The client asks for it, as lwIP's <c>LWIP_DHCP_GET_NTP_SRV</c> does.</summary>
    public IReadOnlyList<Ipv4Address> NtpServers { get; init; } = [];

    /// <summary>The prefix length of <see cref="SubnetMask"/> (its leading one bits).</summary>
    public int PrefixLength => System.Numerics.BitOperations.LeadingZeroCount(~SubnetMask.Value);

    /// <summary>True for a lease that never expires.</summary>
    public bool IsInfinite => LeaseTime == TimeSpan.MaxValue;

    /// <summary>When T1 falls (renewing starts).</summary>
    public TimeSpan RenewAt => IsInfinite ? TimeSpan.MaxValue : Acquired + RenewalTime;
    /// <summary>When T2 falls (rebinding starts).</summary>
    public TimeSpan RebindAt => IsInfinite ? TimeSpan.MaxValue : Acquired + RebindingTime;
    /// <summary>When the lease expires.</summary>
    public TimeSpan ExpiresAt => IsInfinite ? TimeSpan.MaxValue : Acquired + LeaseTime;

    /// <summary>(address, netmask, gateway, DNS) as the Pico's <c>WLAN.ifconfig()</c> returns them, in Python's notation.</summary>
    public string ToIfconfigString() => IfconfigString(Address, SubnetMask, Router, DnsServers.Count > 0 ? DnsServers[0] : Ipv4Address.Any);

    /// <summary>Formats the Pico's <c>ifconfig()</c> tuple.</summary>
    public static string IfconfigString(Ipv4Address address, Ipv4Address mask, Ipv4Address gateway, Ipv4Address dns)
        => string.Create(CultureInfo.InvariantCulture, $"('{address}', '{mask}', '{gateway}', '{dns}')");
}
