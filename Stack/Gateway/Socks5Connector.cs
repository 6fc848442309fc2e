using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Gateway;

/// <summary>
/// A SOCKS5 client (RFC 1928, with no authentication or RFC 1929 username/password): CONNECT asks the proxy for a TCP
/// flow's original destination and returns the socket to splice once the proxy says it is connected; UDP ASSOCIATE
/// (section 7) asks it for a UDP relay and returns the control connection (the association lives as long as it) and the
/// relay's address; <see cref="WriteUdpHeader"/> and <see cref="TryReadUdpHeader"/> frame the datagrams.
/// </summary>
internal static class Socks5Connector
{
    private const byte Version = 5, NoAuth = 0, UserPassword = 2, NoAcceptable = 0xFF, Connect = 1, UdpAssociate = 3, AtypIpv4 = 1, AtypDomain = 3, AtypIpv6 = 4;
    /// <summary>The longest UDP request header this client writes (IPv6: RSV 2, FRAG 1, ATYP 1, 16, port 2).</summary>
    public const int MaximumUdpHeader = 22;

    public static async ValueTask<Socket?> ConnectAsync(GatewayOptions options, GatewayFlow flow, CancellationToken token)
    {
        var proxy = options.Socks5Proxy ?? throw new InvalidOperationException("no SOCKS5 proxy is configured");
        var socket = await HostSockets.ConnectAsync(options.HostNamespace, proxy, token).ConfigureAwait(false);
        try
        {
            var buffer = new byte[600];
            await AuthenticateAsync(socket, options, buffer, token).ConfigureAwait(false);
            await RequestAsync(socket, Connect, flow.Destination, flow.DestinationPort, buffer, token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// RFC 1928 7: a UDP ASSOCIATE on a new control connection; the client's address is given as all zeros (not known
    /// yet, as 7 allows). Returns the control connection and the relay's address (the proxy's own when it answers zeros).
    /// </summary>
    public static async ValueTask<(Socket Control, IPEndPoint Relay)> AssociateAsync(GatewayOptions options, CancellationToken token)
    {
        var proxy = options.Socks5Proxy ?? throw new InvalidOperationException("no SOCKS5 proxy is configured");
        var socket = await HostSockets.ConnectAsync(options.HostNamespace, proxy, token).ConfigureAwait(false);
        try
        {
            var buffer = new byte[600];
            await AuthenticateAsync(socket, options, buffer, token).ConfigureAwait(false);
            var any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IpAddress(Ipv6Address.Unspecified) : IpAddress.AnyIpv4;
            var relay = await RequestAsync(socket, UdpAssociate, any, 0, buffer, token).ConfigureAwait(false);
            if (relay.Address.Equals(IPAddress.Any) || relay.Address.Equals(IPAddress.IPv6Any)) relay.Address = ((IPEndPoint)socket.RemoteEndPoint!).Address;
            return (socket, relay);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>RFC 1928 7: writes the UDP request header (RSV, FRAG 0, the destination by address) at the start of <paramref name="destination"/>; returns its length (10 or 22).</summary>
    public static int WriteUdpHeader(Span<byte> destination, IpAddress address, ushort port)
    {
        destination[0] = 0;
        destination[1] = 0;
        destination[2] = 0;
        destination[3] = address.IsIpv4 ? AtypIpv4 : AtypIpv6;
        int n = 4 + address.WriteTo(destination[4..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[n..], port);
        return n + 2;
    }

    /// <summary>Reads a UDP reply header; false for a fragment (FRAG not 0: dropped, as 7 allows), a name, or a truncated one.</summary>
    public static bool TryReadUdpHeader(ReadOnlySpan<byte> datagram, out IpAddress address, out ushort port, out int headerLength)
    {
        address = default;
        port = 0;
        headerLength = 0;
        if (datagram.Length < 10 || datagram[2] != 0) return false;
        int size = datagram[3] switch { AtypIpv4 => 4, AtypIpv6 => 16, _ => -1 };
        if (size < 0 || datagram.Length < 4 + size + 2) return false;
        address = size == 4 ? new IpAddress(Ipv4Address.Read(datagram[4..])) : new IpAddress(Ipv6Address.Read(datagram[4..]));
        port = BinaryPrimitives.ReadUInt16BigEndian(datagram[(4 + size)..]);
        headerLength = 4 + size + 2;
        return true;
    }

    private static async Task AuthenticateAsync(Socket socket, GatewayOptions options, byte[] buffer, CancellationToken token)
    {
        bool credentials = options.Socks5User is not null;
        // RFC 1928 3: version, methods offered.
        int n = 0;
        buffer[n++] = Version;
        buffer[n++] = credentials ? (byte)2 : (byte)1;
        buffer[n++] = NoAuth;
        if (credentials) buffer[n++] = UserPassword;
        await SendAsync(socket, buffer, n, token).ConfigureAwait(false);
        await ReceiveExactlyAsync(socket, buffer, 2, token).ConfigureAwait(false);
        if (buffer[0] != Version) throw new IOException("not a SOCKS5 proxy");
        if (buffer[1] == NoAcceptable) throw new IOException("the SOCKS5 proxy accepted no authentication method offered");
        if (buffer[1] == UserPassword)
        {
            if (!credentials) throw new IOException("the SOCKS5 proxy wants a user name and password");
            // RFC 1929 2: version 1, user, password (each at most 255 bytes).
            var user = Encoding.UTF8.GetBytes(options.Socks5User!);
            var password = Encoding.UTF8.GetBytes(options.Socks5Password ?? "");
            if (user.Length > 255 || password.Length > 255) throw new IOException("SOCKS5 user name or password longer than 255 bytes");
            n = 0;
            buffer[n++] = 1;
            buffer[n++] = (byte)user.Length;
            user.CopyTo(buffer, n);
            n += user.Length;
            buffer[n++] = (byte)password.Length;
            password.CopyTo(buffer, n);
            n += password.Length;
            await SendAsync(socket, buffer, n, token).ConfigureAwait(false);
            await ReceiveExactlyAsync(socket, buffer, 2, token).ConfigureAwait(false);
            if (buffer[1] != 0) throw new IOException("the SOCKS5 proxy refused the user name and password");
        }
        else if (buffer[1] != NoAuth) throw new IOException($"the SOCKS5 proxy chose method {buffer[1]}, not offered");
    }

    // RFC 1928 4: a request (CONNECT, UDP ASSOCIATE) for an address; returns the reply's bound address and port (6).
    private static async Task<IPEndPoint> RequestAsync(Socket socket, byte command, IpAddress address, ushort port, byte[] buffer, CancellationToken token)
    {
        int n = 0;
        buffer[n++] = Version;
        buffer[n++] = command;
        buffer[n++] = 0;
        buffer[n++] = address.IsIpv4 ? AtypIpv4 : AtypIpv6;
        n += address.WriteTo(buffer.AsSpan(n));
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(n), port);
        n += 2;
        await SendAsync(socket, buffer, n, token).ConfigureAwait(false);
        // RFC 1928 6: version, reply, reserved, address type, bound address, bound port.
        await ReceiveExactlyAsync(socket, buffer, 5, token).ConfigureAwait(false);
        if (buffer[0] != Version) throw new IOException("a malformed SOCKS5 reply");
        if (buffer[1] != 0) throw new Socks5ReplyException(command, buffer[1]);
        var type = buffer[3];
        int rest = type switch { AtypIpv4 => 4 - 1, AtypIpv6 => 16 - 1, AtypDomain => buffer[4], _ => throw new IOException("a malformed SOCKS5 reply") } + 2;
        await ReceiveExactlyAsync(socket, buffer.AsMemory(5), rest, token).ConfigureAwait(false);
        var bound = type switch
        {
            AtypIpv4 => new IPAddress(buffer.AsSpan(4, 4)),
            AtypIpv6 => new IPAddress(buffer.AsSpan(4, 16)),
            _ => IPAddress.Any,   // a name: the proxy's own address is used
        };
        int portAt = type == AtypDomain ? 5 + buffer[4] : 4 + (type == AtypIpv4 ? 4 : 16);
        return new IPEndPoint(bound, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(portAt)));
    }

    private static async Task SendAsync(Socket socket, byte[] buffer, int count, CancellationToken token)
    {
        for (int sent = 0; sent < count;)
            sent += await socket.SendAsync(buffer.AsMemory(sent, count - sent), SocketFlags.None, token).ConfigureAwait(false);
    }

    private static Task ReceiveExactlyAsync(Socket socket, byte[] buffer, int count, CancellationToken token) => ReceiveExactlyAsync(socket, buffer.AsMemory(), count, token);

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, int count, CancellationToken token)
    {
        for (int got = 0; got < count;)
        {
            int n = await socket.ReceiveAsync(buffer.Slice(got, count - got), SocketFlags.None, token).ConfigureAwait(false);
            if (n == 0) throw new IOException("the SOCKS5 proxy closed the connection");
            got += n;
        }
    }
}

/// <summary>A SOCKS5 proxy refused a request: its RFC 1928 6 reply code (1 general failure ... 8 address type not supported).</summary>
internal sealed class Socks5ReplyException(byte command, byte reply) : IOException($"the SOCKS5 proxy answered command {command} with reply {reply}")
{
    /// <summary>REP of the proxy's reply.</summary>
    public byte Reply { get; } = reply;

    /// <summary>
    /// What a guest whose connection the proxy could not open is told, as the path the proxy stands for would tell it:
    /// 2 "not allowed by ruleset" administratively prohibited, 3 network and 4 host unreachable, 6 "TTL expired" time
    /// exceeded (each from the gateway's address, the router); null (a reset) for 5 "connection refused" (what the
    /// destination's own reset says), 1 general failure and the rest.
    /// </summary>
    public Net.UnreachableReason? Reason => Reply switch
    {
        2 => Net.UnreachableReason.Prohibited,
        3 => Net.UnreachableReason.Network,
        4 => Net.UnreachableReason.Host,
        6 => Net.UnreachableReason.HopLimit,
        _ => null,
    };
}
