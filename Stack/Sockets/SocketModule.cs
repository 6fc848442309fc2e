using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Sockets;

/// <summary>
/// MicroPython's <c>socket</c> module, C#-cased: with <c>using static TcpIpSharp.Sockets.SocketModule;</c> Pico code
/// reads the same (<c>GetAddrInfo(host, 80)</c>, <c>Socket(AF_INET, SOCK_STREAM)</c>, <c>AF_INET</c>). Functions that
/// need a stack use <see cref="SocketStack.Default"/>. Constants have the Pico W's values (MicroPython's
/// <c>extmod/modlwip.c</c> over lwIP); those the Pico's module lacks (<c>SO_KEEPALIVE</c>, <c>IPPROTO_UDP</c>,
/// <c>IPPROTO_ICMP</c>, <c>MSG_PEEK</c>, <c>MSG_DONTWAIT</c>) take lwIP's own values, as MicroPython's lwIP-socket
/// ports (ESP32) publish them.
/// </summary>
[SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores", Justification = "MicroPython's constant names, so Pico code ports line by line")]
public static class SocketModule
{
    /// <summary>IPv4 (2).</summary>
    public const int AF_INET = 2;
    /// <summary>IPv6 (10); accepted by <see cref="InetNtop"/>/<see cref="InetPton"/>, not by sockets (the Pico W is IPv4-only too).</summary>
    public const int AF_INET6 = 10;
    /// <summary>TCP stream socket (1).</summary>
    public const int SOCK_STREAM = 1;
    /// <summary>UDP datagram socket (2).</summary>
    public const int SOCK_DGRAM = 2;
    /// <summary>Raw socket (3): ICMP only (for a ping).</summary>
    public const int SOCK_RAW = 3;
    /// <summary>Protocol level IP (0).</summary>
    public const int IPPROTO_IP = 0;
    /// <summary>ICMP (1), for <c>Socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)</c>.</summary>
    public const int IPPROTO_ICMP = 1;
    /// <summary>ICMPv6 (58), for <c>Socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)</c>.</summary>
    public const int IPPROTO_ICMPV6 = 58;
    /// <summary>TCP (6); also the level of TCP_NODELAY.</summary>
    public const int IPPROTO_TCP = 6;
    /// <summary>UDP (17).</summary>
    public const int IPPROTO_UDP = 17;
    /// <summary>Socket level for <c>setsockopt</c> (1, as the Pico's module).</summary>
    public const int SOL_SOCKET = 1;
    /// <summary>Allow bind to a port whose old connections are in TIME-WAIT (lwIP's SOF_REUSEADDR, 0x04).</summary>
    public const int SO_REUSEADDR = 0x04;
    /// <summary>Send TCP keepalives (lwIP's SOF_KEEPALIVE, 0x08).</summary>
    public const int SO_KEEPALIVE = 0x08;
    /// <summary>Allow sending UDP to a broadcast address (lwIP's SOF_BROADCAST, 0x20).</summary>
    public const int SO_BROADCAST = 0x20;
    /// <summary>Disable Nagle's algorithm, level IPPROTO_TCP (lwIP's TF_NODELAY, 0x40).</summary>
    public const int TCP_NODELAY = 0x40;
    /// <summary>Join a multicast group, level IPPROTO_IP, value the 8-byte <c>ip_mreq</c>: group, then interface address (0x400, modlwip's own value).</summary>
    public const int IP_ADD_MEMBERSHIP = 0x400;
    /// <summary>Leave a multicast group (0x401, modlwip's own value).</summary>
    public const int IP_DROP_MEMBERSHIP = 0x401;
    /// <summary>TTL of multicast datagrams sent, level IPPROTO_IP, 0-255, default 1 (lwIP's <c>sockets.h</c> value 5; not in the Pico's modlwip).</summary>
    public const int IP_MULTICAST_TTL = 5;
    /// <summary>Deliver our own multicast datagrams to our sockets in the group, level IPPROTO_IP, default 1 (lwIP's value 7; not in the Pico's modlwip).</summary>
    public const int IP_MULTICAST_LOOP = 7;
    /// <summary>Protocol level IPv6 (41).</summary>
    public const int IPPROTO_IPV6 = 41;
    /// <summary>Join an IPv6 multicast group, level IPPROTO_IPV6, value the 20-byte <c>ipv6_mreq</c>: group (16), interface index (4) (lwIP's value 12).</summary>
    public const int IPV6_JOIN_GROUP = 12;
    /// <summary>Leave an IPv6 multicast group (lwIP's value 13).</summary>
    public const int IPV6_LEAVE_GROUP = 13;
    /// <summary>Receive flag: look at the data without taking it (lwIP's 0x01).</summary>
    public const int MSG_PEEK = 0x01;
    /// <summary>Receive flag: do not block for this call (lwIP's 0x08).</summary>
    public const int MSG_DONTWAIT = 0x08;

    private static SocketStack DefaultStack => SocketStack.Default ?? throw new InvalidOperationException("no stack: set SocketStack.Default, or call stack.Socket(...)");

    /// <summary><c>socket.socket(af, type, proto)</c> on <see cref="SocketStack.Default"/>.</summary>
    public static Socket Socket(int af = AF_INET, int type = SOCK_STREAM, int proto = 0) => DefaultStack.Socket(af, type, proto);

    /// <summary><c>socket.getaddrinfo(host, port, af, type, proto, flags)</c> on <see cref="SocketStack.Default"/>.</summary>
    public static IReadOnlyList<AddrInfo> GetAddrInfo(string host, int port, int af = 0, int type = 0, int proto = 0, int flags = 0)
        => DefaultStack.GetAddrInfo(host, port, af, type, proto, flags);

    /// <summary><c>socket.inet_ntop(af, bytes)</c>: 4 bytes to dotted text (AF_INET) or 16 to IPv6 text (AF_INET6).</summary>
    public static string InetNtop(int af, ReadOnlySpan<byte> address)
    {
        switch (af)
        {
            case AF_INET when address.Length == 4:
                return Ipv4Address.Read(address).ToString();
            case AF_INET6 when address.Length == 16:
                return new System.Net.IPAddress(address).ToString();
            default:
                throw new OSError(Errno.EINVAL, string.Create(CultureInfo.InvariantCulture, $"{address.Length} bytes for family {af}"));
        }
    }

    /// <summary><c>socket.inet_pton(af, text)</c>: dotted text to 4 bytes (AF_INET), IPv6 text to 16 (AF_INET6).</summary>
    public static byte[] InetPton(int af, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (af == AF_INET)
        {
            if (!Ipv4Address.TryParse(text, out var a)) throw new OSError(Errno.EINVAL, $"'{text}' is not an IPv4 address");
            var bytes = new byte[4];
            a.WriteTo(bytes);
            return bytes;
        }
        if (af == AF_INET6 && System.Net.IPAddress.TryParse(text, out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            return v6.GetAddressBytes();
        throw new OSError(Errno.EINVAL, $"'{text}' is not an address of family {af}");
    }
}
