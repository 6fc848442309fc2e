using System.Globalization;

namespace TcpIpSharp.Services.Dns;

/// <summary>
/// One entry of what <c>socket.getaddrinfo(host, port, af, type, proto, flags)</c> returns on the Pico:
/// <c>(family, type, proto, canonname, (ip, port))</c>. Built at the core level from a completed <see cref="DnsLookup"/>;
/// the socket layer turns the list into Python's.
/// </summary>
/// <param name="Family">AF_INET (2) or AF_INET6 (10).</param>
/// <param name="SocketType">SOCK_STREAM (1), SOCK_DGRAM (2) or SOCK_RAW (3).</param>
/// <param name="Protocol">The protocol number asked for (0 unless given, as the Pico returns).</param>
/// <param name="CanonicalName">The canonical name with AI_CANONNAME in the flags, otherwise empty (as the Pico returns).</param>
/// <param name="Address">The address.</param>
/// <param name="Port">The port.</param>
public readonly record struct AddressInfo(int Family, int SocketType, int Protocol, string CanonicalName, HostAddress Address, int Port)
{
    /// <summary><c>socket.SOCK_STREAM</c>.</summary>
    public const int SockStream = 1;
    /// <summary><c>socket.SOCK_DGRAM</c>.</summary>
    public const int SockDgram = 2;
    /// <summary><c>AI_CANONNAME</c> (CPython and glibc value): put the canonical name in the first entry.</summary>
    public const int AiCanonName = 2;

    /// <summary>
    /// The list for a completed lookup, one entry per address, in the answer's order. <paramref name="family"/> 0 takes
    /// every address, AF_INET or AF_INET6 only that family; <paramref name="socketType"/> 0 becomes SOCK_STREAM, as the
    /// Pico returns. A failed lookup gives an empty list: its <see cref="DnsLookup.Errno"/> is the error to raise.
    /// </summary>
    public static IReadOnlyList<AddressInfo> FromLookup(DnsLookup lookup, int port, int family = 0, int socketType = 0, int protocol = 0, int flags = 0)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        var list = new List<AddressInfo>(lookup.Addresses.Count);
        if (!lookup.IsCompleted || lookup.Error != Dns.DnsError.None) return list;
        foreach (var address in lookup.Addresses)
        {
            if (family != 0 && (int)address.Family != family) continue;
            // getaddrinfo(3): with AI_CANONNAME, the first entry carries the canonical name.
            string canonical = (flags & AiCanonName) != 0 && list.Count == 0 ? lookup.CanonicalName : "";
            list.Add(new AddressInfo((int)address.Family, socketType == 0 ? SockStream : socketType, protocol, canonical, address, port));
        }
        return list;
    }

    /// <summary>Python's notation: <c>(2, 1, 0, '', ('192.0.2.1', 80))</c>.</summary>
    /// <remarks>An IPv6 socket address is Python's 4-tuple <c>(ip, port, flowinfo, scope_id)</c>.</remarks>
    public override string ToString() => Address.Family == HostAddressFamily.Ipv4
        ? string.Create(CultureInfo.InvariantCulture, $"({Family}, {SocketType}, {Protocol}, '{CanonicalName}', ('{Address}', {Port}))")
        : string.Create(CultureInfo.InvariantCulture, $"({Family}, {SocketType}, {Protocol}, '{CanonicalName}', ('{Address}', {Port}, 0, 0))");
}
