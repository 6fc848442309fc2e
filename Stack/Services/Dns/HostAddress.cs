using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Dns;

/// <summary>An address a name resolved to: IPv4 (an A record) or IPv6 (an AAAA record).</summary>
public readonly record struct HostAddress
{
    /// <summary>An IPv4 address.</summary>
    public HostAddress(Ipv4Address address)
    {
        Family = HostAddressFamily.Ipv4;
        Ipv4 = address;
    }

    /// <summary>An IPv6 address.</summary>
    public HostAddress(Ipv6Address address)
    {
        Family = HostAddressFamily.Ipv6;
        Ipv6 = address;
    }

    /// <summary>Which of the two it is.</summary>
    public HostAddressFamily Family { get; }
    /// <summary>The IPv4 address (0.0.0.0 for an IPv6 one).</summary>
    public Ipv4Address Ipv4 { get; }
    /// <summary>The IPv6 address (:: for an IPv4 one).</summary>
    public Ipv6Address Ipv6 { get; }

    /// <summary>Dotted-quad or RFC 5952 text.</summary>
    public override string ToString() => Family == HostAddressFamily.Ipv4 ? Ipv4.ToString() : Ipv6.ToString();
}
