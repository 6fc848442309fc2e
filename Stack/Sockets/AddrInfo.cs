using System.Globalization;

namespace TcpIpSharp.Sockets;

/// <summary>
/// One entry of <c>getaddrinfo</c>'s list: <c>(af, type, proto, canonname, sockaddr)</c>. The Pico uses only the
/// last element: <c>addr = ai[0][-1]</c> is <c>ai[0].SockAddr</c> (or <c>ai[0][^1]</c>).
/// </summary>
/// <param name="Af">Address family (AF_INET).</param>
/// <param name="Type">Socket type (SOCK_STREAM unless asked otherwise).</param>
/// <param name="Proto">Protocol (0 unless asked).</param>
/// <param name="CanonName">Canonical name ('' unless AI_CANONNAME).</param>
/// <param name="SockAddr">The (ip, port) to connect or send to.</param>
public readonly record struct AddrInfo(int Af, int Type, int Proto, string CanonName, SockAddr SockAddr)
{
    /// <summary>Python's indexing of the tuple: 0..4, or <c>^1</c> for the last (the sockaddr).</summary>
    public object this[Index index] => index.GetOffset(5) switch
    {
        0 => Af, 1 => Type, 2 => Proto, 3 => CanonName, 4 => SockAddr,
        _ => throw new IndexOutOfRangeException("tuple index out of range"),
    };

    /// <summary>Python's notation: <c>(2, 1, 0, '', ('192.0.2.1', 80))</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({Af}, {Type}, {Proto}, '{CanonName}', {SockAddr})");
}
