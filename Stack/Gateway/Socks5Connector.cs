using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace TcpIpSharp.Gateway;

/// <summary>
/// A SOCKS5 client (RFC 1928 CONNECT, with no authentication or RFC 1929 username/password): connects to the proxy,
/// asks it for the flow's original destination, and returns the socket to splice once the proxy says it is connected.
/// </summary>
internal static class Socks5Connector
{
    private const byte Version = 5, NoAuth = 0, UserPassword = 2, NoAcceptable = 0xFF, Connect = 1, AtypIpv4 = 1, AtypDomain = 3, AtypIpv6 = 4;

    public static async ValueTask<Socket?> ConnectAsync(GatewayOptions options, GatewayFlow flow, CancellationToken token)
    {
        var proxy = options.Socks5Proxy ?? throw new InvalidOperationException("no SOCKS5 proxy is configured");
        var socket = await HostSockets.ConnectAsync(options.HostNamespace, proxy, token).ConfigureAwait(false);
        try
        {
            await HandshakeAsync(socket, options, flow, token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task HandshakeAsync(Socket socket, GatewayOptions options, GatewayFlow flow, CancellationToken token)
    {
        var buffer = new byte[600];
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
        // RFC 1928 4: CONNECT to the original destination, by address.
        n = 0;
        buffer[n++] = Version;
        buffer[n++] = Connect;
        buffer[n++] = 0;
        buffer[n++] = flow.Destination.IsIpv4 ? AtypIpv4 : AtypIpv6;
        n += flow.Destination.WriteTo(buffer.AsSpan(n));
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(n), flow.DestinationPort);
        n += 2;
        await SendAsync(socket, buffer, n, token).ConfigureAwait(false);
        // RFC 1928 6: version, reply, reserved, address type, bound address, bound port.
        await ReceiveExactlyAsync(socket, buffer, 5, token).ConfigureAwait(false);
        if (buffer[0] != Version) throw new IOException("a malformed SOCKS5 reply");
        if (buffer[1] != 0) throw new IOException($"the SOCKS5 proxy answered CONNECT with reply {buffer[1]}");
        int rest = buffer[3] switch { AtypIpv4 => 4 - 1, AtypIpv6 => 16 - 1, AtypDomain => buffer[4], _ => throw new IOException("a malformed SOCKS5 reply") } + 2;
        await ReceiveExactlyAsync(socket, buffer.AsMemory(5), rest, token).ConfigureAwait(false);
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
