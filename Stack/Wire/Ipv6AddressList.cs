namespace TcpIpSharp.Wire;

/// <summary>A list of IPv6 addresses inside an option (the servers of an RDNSS option, the sources of an MLD record), read in place.</summary>
public readonly ref struct Ipv6AddressList
{
    private readonly ReadOnlySpan<byte> _data;

    internal Ipv6AddressList(ReadOnlySpan<byte> data) => _data = data;

    /// <summary>Number of addresses.</summary>
    public int Count => _data.Length / Ipv6Address.Size;

    /// <summary>The address at <paramref name="index"/>, in the sender's order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Index not below <see cref="Count"/>.</exception>
    public Ipv6Address this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count) ThrowIndex(index);
            return Ipv6Address.Read(_data[(index * Ipv6Address.Size)..]);
        }
    }

    private static void ThrowIndex(int index) => throw new ArgumentOutOfRangeException(nameof(index), index, "no such address");
}
