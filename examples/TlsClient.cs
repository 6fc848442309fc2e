// A TLS client, as MicroPython's ssl module does it:
//
//   s = socket.socket()
//   s.connect(addr)
//   ss = ssl.wrap_socket(s, server_hostname='server.test')
//   ss.write(b'GET / HTTP/1.0\r\n\r\n')
//   print(ss.read())
//   ss.close()
using System.Net.Security;
using TcpIpSharp.Sockets;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Examples;

/// <summary>An HTTPS GET over the stack with <see cref="Socket.WrapTls"/>.</summary>
public static class TlsClient
{
    /// <summary>Connects, wraps in TLS (certificate checked by <paramref name="validation"/>), sends a GET, returns the response.</summary>
    public static byte[] Run(Action<object> print, SockAddr addr, string serverHostname, RemoteCertificateValidationCallback validation)
    {
        var s = Socket(AF_INET, SOCK_STREAM);
        s.Connect(addr);
        var ss = s.WrapTls(serverHostname, validation);
        print($"TLS: {ss.Protocol}");
        ss.Write("GET / HTTP/1.0\r\n\r\n"u8);
        var response = ss.Read();
        print($"received {response.Length} bytes");
        ss.Close();
        return response;
    }
}
