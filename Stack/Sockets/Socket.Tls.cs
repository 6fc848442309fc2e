using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TcpIpSharp.Sockets;

public sealed partial class Socket
{
    /// <summary>
    /// <c>ssl.wrap_socket(sock, server_hostname=...)</c>: a TLS client session over this connected socket, through
    /// <see cref="SslStream"/>. <paramref name="validation"/> decides on the server's certificate (.NET's default chain
    /// and name check when null; the Pico verifies nothing unless asked with <c>cert_reqs</c>).
    /// </summary>
    public TlsSocket WrapTls(string? serverHostname = null, RemoteCertificateValidationCallback? validation = null)
        => TlsSocket.Client(this, serverHostname, validation);

    /// <summary>As <see cref="WrapTls"/>, handshaking without blocking a thread.</summary>
    public ValueTask<TlsSocket> WrapTlsAsync(string? serverHostname = null, RemoteCertificateValidationCallback? validation = null, CancellationToken cancellationToken = default)
        => TlsSocket.ClientAsync(this, serverHostname, validation, cancellationToken);

    /// <summary><c>ssl.wrap_socket(sock, server_side=True, cert=...)</c>: a TLS server session over an accepted socket.</summary>
    public TlsSocket WrapTlsServer(X509Certificate2 certificate) => TlsSocket.Server(this, certificate);
}
