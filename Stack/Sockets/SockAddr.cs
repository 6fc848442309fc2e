using System.Globalization;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Sockets;

/// <summary>
/// A socket address, Python's <c>(ip, port)</c> tuple, for either family: an IPv6 address is a 2-tuple too, as the
/// Pico's modlwip gives it. Converts from a C# tuple, so Pico code reads the same: <c>s.Connect(("192.0.2.1", 80))</c>,
/// <c>s.Connect(("2001:db8::1", 80))</c>, and deconstructs: <c>var (ip, port) = addr;</c>. An empty IP means any
/// address of either family (<c>bind(('', 80))</c>: lwIP's IPADDR_TYPE_ANY).
/// </summary>
public readonly record struct SockAddr
{
    /// <summary>An address of either family and a port.</summary>
    public SockAddr(IpAddress address, int port)
    {
        Address = address;
        Port = port;
    }

    /// <summary>An IPv4 address and a port.</summary>
    public SockAddr(Ipv4Address address, int port) : this((IpAddress)address, port) { }

    /// <summary>The address (IPv4 held mapped; <see cref="IpAddress.IsIpv4"/> tells the family).</summary>
    public IpAddress Address { get; init; }
    /// <summary>The port.</summary>
    public int Port { get; init; }

    /// <summary>The address as text (<c>addr[0]</c>): dotted IPv4 or RFC 5952 IPv6.</summary>
    public string Ip => Address.ToString();

    /// <summary>
    /// Parses <c>(ip, port)</c>: dotted IPv4, IPv6 text (a <c>%zone</c> is accepted and ignored: the stack has one
    /// interface), or '' for any address; raises <see cref="OSError"/> EINVAL for anything else.
    /// </summary>
    public static SockAddr From(string ip, int port)
    {
        ArgumentNullException.ThrowIfNull(ip);
        if (port is < 0 or > 65535) throw new OSError(Errno.EINVAL, $"port {port} out of range");
        if (ip.Length == 0) return new SockAddr(IpAddress.Any, port);
        var text = ip.AsSpan();
        int zone = text.IndexOf('%');
        if (zone > 0 && text.Contains(':')) text = text[..zone];
        if (!IpAddress.TryParse(text, out var address)) throw new OSError(Errno.EINVAL, $"'{ip}' is not an IP address");
        return new SockAddr(address, port);
    }

    /// <summary>Python's <c>('192.0.2.1', 80)</c> as a tuple literal converts implicitly.</summary>
    public static implicit operator SockAddr((string Ip, int Port) tuple) => From(tuple.Ip, tuple.Port);

    /// <summary>Same as the implicit conversion.</summary>
    public static SockAddr FromValueTuple((string Ip, int Port) tuple) => From(tuple.Ip, tuple.Port);

    /// <summary>
    /// What Python code passes where an address goes: a <see cref="SockAddr"/> (also boxed, as <c>ai[0][-1]</c> gives it)
    /// or an <c>(ip, port)</c> tuple; anything else is Python's TypeError, an <see cref="ArgumentException"/> here.
    /// </summary>
    public static SockAddr FromObject(object address) => address switch
    {
        SockAddr a => a,
        ValueTuple<string, int> t => From(t.Item1, t.Item2),
        null => throw new ArgumentNullException(nameof(address)),
        _ => throw new ArgumentException($"an address must be an (ip, port) tuple, not {address.GetType().Name}", nameof(address)),
    };

    /// <summary>Deconstructs into <c>(ip, port)</c>.</summary>
    public void Deconstruct(out string ip, out int port)
    {
        ip = Ip;
        port = Port;
    }

    /// <summary>Python's notation: <c>('192.0.2.1', 80)</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"('{Address}', {Port})");
}
