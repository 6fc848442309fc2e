using System.Globalization;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Sockets;

/// <summary>
/// A socket address, Python's <c>(ip, port)</c> tuple. Converts from a C# tuple, so Pico code reads the same:
/// <c>s.Connect(("192.0.2.1", 80))</c>. An empty IP means any address (0.0.0.0), as in <c>bind(('', 80))</c>.
/// </summary>
/// <param name="Address">The IPv4 address.</param>
/// <param name="Port">The port.</param>
public readonly record struct SockAddr(Ipv4Address Address, int Port)
{
    /// <summary>The address as dotted text (<c>addr[0]</c>).</summary>
    public string Ip => Address.ToString();

    /// <summary>Parses <c>(ip, port)</c>; raises <see cref="OSError"/> EINVAL for an address that is not dotted IPv4.</summary>
    public static SockAddr From(string ip, int port)
    {
        ArgumentNullException.ThrowIfNull(ip);
        if (ip.Length == 0) return new SockAddr(Ipv4Address.Any, port);
        if (!Ipv4Address.TryParse(ip, out var address)) throw new OSError(Errno.EINVAL, $"'{ip}' is not an IPv4 address");
        if (port is < 0 or > 65535) throw new OSError(Errno.EINVAL, $"port {port} out of range");
        return new SockAddr(address, port);
    }

    /// <summary>Python's <c>('192.0.2.1', 80)</c> as a tuple literal converts implicitly.</summary>
    public static implicit operator SockAddr((string Ip, int Port) tuple) => From(tuple.Ip, tuple.Port);

    /// <summary>Same as the implicit conversion.</summary>
    public static SockAddr FromValueTuple((string Ip, int Port) tuple) => From(tuple.Ip, tuple.Port);

    /// <summary>Deconstructs into <c>(ip, port)</c>.</summary>
    public void Deconstruct(out string ip, out int port)
    {
        ip = Ip;
        port = Port;
    }

    /// <summary>Python's notation: <c>('192.0.2.1', 80)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"('{Address}', {Port})");
}
