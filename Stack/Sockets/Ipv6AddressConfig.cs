using System.Globalization;
using TcpIpSharp.Net.Ipv6;

namespace TcpIpSharp.Sockets;

/// <summary>
/// One entry of the Pico's <c>ipconfig('addr6')</c>: <c>(address, state, preferred_lifetime, valid_lifetime)</c>, with
/// lwIP's numbers: state 0x08 tentative, 0x30 preferred, 0x10 deprecated, 0x40 duplicated; a lifetime in seconds, 0 for
/// an address with none (lwIP's IP6_ADDR_LIFE_STATIC: link-local and static ones).
/// </summary>
/// <param name="Address">The address as text.</param>
/// <param name="State">lwIP's address state.</param>
/// <param name="PreferredLifetime">Seconds left preferred, 0 for static.</param>
/// <param name="ValidLifetime">Seconds left valid, 0 for static.</param>
public readonly record struct Ipv6AddressConfig(string Address, int State, uint PreferredLifetime, uint ValidLifetime)
{
    /// <summary>lwIP's IP6_ADDR_TENTATIVE.</summary>
    public const int Tentative = 0x08;
    /// <summary>lwIP's IP6_ADDR_PREFERRED.</summary>
    public const int Preferred = 0x30;
    /// <summary>lwIP's IP6_ADDR_DEPRECATED.</summary>
    public const int Deprecated = 0x10;
    /// <summary>lwIP's IP6_ADDR_DUPLICATED.</summary>
    public const int Duplicated = 0x40;

    /// <summary>From the core's view of an address.</summary>
    public static Ipv6AddressConfig From(Ipv6AddressInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        int state = info.State switch
        {
            Ipv6AddressState.Tentative => Tentative,
            Ipv6AddressState.Preferred => Preferred,
            Ipv6AddressState.Deprecated => Deprecated,
            _ => Duplicated,
        };
        return new Ipv6AddressConfig(info.Address.ToString(), state, Seconds(info.PreferredLifetime), Seconds(info.ValidLifetime));
    }

    private static uint Seconds(TimeSpan? t) => t is TimeSpan v ? (uint)Math.Min(uint.MaxValue - 1, Math.Ceiling(v.TotalSeconds)) : 0;

    /// <summary>Python's notation: <c>('2001:db8::2', 48, 0, 0)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"('{Address}', {State}, {PreferredLifetime}, {ValidLifetime})");
}
