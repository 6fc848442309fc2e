namespace TcpIpSharp.Wire;

/// <summary>A list of IPv4 addresses from a DHCP option (routers, DNS servers), read in place.</summary>
public readonly ref struct DhcpAddressList
{
    private readonly ReadOnlySpan<byte> _data;

    internal DhcpAddressList(ReadOnlySpan<byte> data) => _data = data;

    /// <summary>Number of addresses (0 when the option is absent).</summary>
    public int Count => _data.Length / Ipv4Address.Size;

    /// <summary>The address at <paramref name="index"/>, in the server's order of preference.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Index not below <see cref="Count"/>.</exception>
    public Ipv4Address this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) ThrowIndex(index);
            return Ipv4Address.Read(_data[(index * Ipv4Address.Size)..]);
        }
    }

    private static void ThrowIndex(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, "no such address");
}
