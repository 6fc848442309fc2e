using TcpIpSharp.Wire;

namespace TcpIpSharp.Net.Ipv6;

/// <summary>One of the interface's IPv6 addresses with its state and remaining lifetimes (null: infinite).</summary>
public sealed record Ipv6AddressInfo(Ipv6Address Address, int PrefixLength, Ipv6AddressState State, Ipv6AddressOrigin Origin,
    TimeSpan? PreferredLifetime, TimeSpan? ValidLifetime);
