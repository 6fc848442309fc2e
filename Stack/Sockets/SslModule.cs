using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TcpIpSharp.Sockets;

/// <summary>
/// MicroPython's <c>ssl</c> module in the shape Pico code calls it: <c>ssl.wrap_socket(sock, server_side=False,
/// cert=None, server_hostname=None)</c>. TLS itself is .NET's <see cref="SslStream"/> (see <see cref="Socket.WrapTls"/>).
/// </summary>
public static class SslModule
{
    /// <summary>
    /// <c>ssl.wrap_socket(sock, server_side, cert, server_hostname)</c>: a client session (certificate checked by
    /// <paramref name="validation"/>, .NET's default checks when null) or, with <paramref name="serverSide"/>, a server
    /// session presenting <paramref name="certificate"/>.
    /// </summary>
    public static TlsSocket WrapSocket(Socket sock, bool serverSide = false, X509Certificate2? certificate = null, string? serverHostname = null,
        RemoteCertificateValidationCallback? validation = null)
    {
        ArgumentNullException.ThrowIfNull(sock);
        if (!serverSide) return sock.WrapTls(serverHostname, validation);
        return sock.WrapTlsServer(certificate ?? throw new ArgumentNullException(nameof(certificate), "a server needs a certificate"));
    }
}
