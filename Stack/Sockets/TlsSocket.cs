using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace TcpIpSharp.Sockets;

/// <summary>
/// What MicroPython's <c>ssl.wrap_socket(sock, server_hostname=...)</c> / <c>SSLContext.wrap_socket</c> returns: a TLS
/// session over a connected socket (.NET's <see cref="SslStream"/> over <see cref="Socket.GetStream"/>), with the
/// Pico's stream methods <c>read</c>, <c>readinto</c>, <c>readline</c>, <c>write</c>, <c>send</c>, <c>recv</c>, <c>close</c>.
/// </summary>
public sealed class TlsSocket : IDisposable
{
    private readonly SslStream _ssl;

    private TlsSocket(Socket socket, SslStream ssl)
    {
        Socket = socket;
        _ssl = ssl;
    }

    /// <summary>The TCP socket underneath.</summary>
    public Socket Socket { get; }
    /// <summary>The TLS stream (for .NET code that wants a <see cref="Stream"/>).</summary>
    public SslStream Stream => _ssl;
    /// <summary>The protocol negotiated.</summary>
    public System.Security.Authentication.SslProtocols Protocol => _ssl.SslProtocol;
    /// <summary>The server's certificate.</summary>
    public X509Certificate? RemoteCertificate => _ssl.RemoteCertificate;

    internal static TlsSocket Client(Socket socket, string? serverHostname, RemoteCertificateValidationCallback? validation)
    {
        var ssl = new SslStream(socket.GetStream(), leaveInnerStreamOpen: false, validation);
        try
        {
            ssl.AuthenticateAsClient(ClientOptions(socket, serverHostname));
        }
        catch
        {
            ssl.Dispose();
            throw;
        }
        return new TlsSocket(socket, ssl);
    }

    internal static async ValueTask<TlsSocket> ClientAsync(Socket socket, string? serverHostname, RemoteCertificateValidationCallback? validation, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(socket.GetStream(), leaveInnerStreamOpen: false, validation);
        try
        {
            await ssl.AuthenticateAsClientAsync(ClientOptions(socket, serverHostname), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new TlsSocket(socket, ssl);
    }

    // Once the stack's wall clock was set (SNTP's SetTime, SetWallClock), certificates are checked against it rather
    // than the system's clock, as the Pico's TLS checks them against the time ntptime set.
    private static SslClientAuthenticationOptions ClientOptions(Socket socket, string? serverHostname)
    {
        var options = new SslClientAuthenticationOptions { TargetHost = serverHostname ?? "" };
        if (socket.Stack.WallClockOffset() != TimeSpan.Zero)
            // A chain policy replaces the options' revocation mode (NoCheck) with its own (Online by default): keep NoCheck,
            // so that setting the clock does not start CRL/OCSP fetches over the host's network, outside the stack.
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                VerificationTime = socket.Stack.UtcNow().ToLocalTime(), RevocationMode = X509RevocationMode.NoCheck,
            };
        return options;
    }

    internal static TlsSocket Server(Socket socket, X509Certificate2 certificate)
    {
        var ssl = new SslStream(socket.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            ssl.AuthenticateAsServer(new SslServerAuthenticationOptions { ServerCertificate = certificate });
        }
        catch
        {
            ssl.Dispose();
            throw;
        }
        return new TlsSocket(socket, ssl);
    }

    /// <summary><c>write(buf)</c>: encrypts and sends all of it.</summary>
    public int Write(ReadOnlySpan<byte> buffer)
    {
        _ssl.Write(buffer);
        return buffer.Length;
    }

    /// <summary><c>send(buf)</c>: as <see cref="Write"/>.</summary>
    public int Send(ReadOnlySpan<byte> buffer) => Write(buffer);

    /// <summary><c>recv(n)</c> / <c>readinto</c>: up to the buffer's length of decrypted bytes; 0 at end of stream.</summary>
    public int Recv(Span<byte> buffer) => _ssl.Read(buffer);

    /// <summary><c>read([size])</c>: up to <paramref name="size"/> bytes (everything to end of stream without one).</summary>
    public byte[] Read(int size = -1)
    {
        using var collected = new MemoryStream();
        var chunk = new byte[16384];
        while (size < 0 || collected.Length < size)
        {
            int want = size < 0 ? chunk.Length : (int)Math.Min(chunk.Length, size - collected.Length);
            int n = _ssl.Read(chunk, 0, want);
            if (n == 0) break;
            collected.Write(chunk, 0, n);
        }
        return collected.ToArray();
    }

    /// <summary><c>readline()</c>: bytes up to and including the next newline.</summary>
    public byte[] ReadLine()
    {
        using var line = new MemoryStream();
        while (true)
        {
            int b = _ssl.ReadByte();
            if (b < 0) break;
            line.WriteByte((byte)b);
            if (b == '\n') break;
        }
        return line.ToArray();
    }

    /// <summary><c>close()</c>: sends close_notify and closes the socket.</summary>
    public void Close()
    {
        try { _ssl.ShutdownAsync().Wait(TimeSpan.FromSeconds(2)); }
        catch (AggregateException) { }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
        _ssl.Dispose();
    }

    /// <summary>Same as <see cref="Close"/>.</summary>
    public void Dispose() => Close();
}
