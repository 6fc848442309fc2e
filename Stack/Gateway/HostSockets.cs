using System.Net;
using System.Net.Sockets;

namespace TcpIpSharp.Gateway;

/// <summary>Host sockets in the process's namespace or in <see cref="GatewayOptions.HostNamespace"/>, and the direct connector.</summary>
internal static class HostSockets
{
    public static Socket Create(string? netns, AddressFamily family, SocketType type, ProtocolType protocol)
        => netns is null ? new Socket(family, type, protocol)
            : OperatingSystem.IsLinux() ? Linux.NetworkNamespace.Run(netns, () => new Socket(family, type, protocol))
            : throw new PlatformNotSupportedException("network namespaces are Linux's");

    /// <summary>A TCP connection from the host to <paramref name="target"/>.</summary>
    public static async ValueTask<Socket> ConnectAsync(string? netns, EndPoint target, CancellationToken token)
    {
        var family = target.AddressFamily == AddressFamily.Unspecified ? AddressFamily.InterNetwork : target.AddressFamily;
        var socket = Create(netns, family, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(target, token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The first <c>nameserver</c> of the host's <c>/etc/resolv.conf</c>, port 53; null when there is none.</summary>
    public static IPEndPoint? HostResolver()
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/resolv.conf"))
            {
                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && parts[0] == "nameserver" && IPAddress.TryParse(parts[1], out var address)) return new IPEndPoint(address, 53);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
