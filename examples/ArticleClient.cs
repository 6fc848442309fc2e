// The article's client ("The Pico In MicroPython: Sockets"), ported line by line. The MicroPython original:
//
//   import socket
//   ai = socket.getaddrinfo("www.example.com", 80, socket.AF_INET)
//   addr = ai[0][-1]
//   s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
//   s.connect(addr)
//   request = b"GET / HTTP/1.1\r\nHost:example.org\r\nConnection: close\r\n\r\n"
//   s.send(request)
//   while True:
//       data = s.recv(512)
//       if not data:
//           break
//       print(data)
//   s.close()
using TcpIpSharp.Sockets;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Examples;

/// <summary>The article's HTTP client on <see cref="SocketStack.Default"/>.</summary>
public static class ArticleClient
{
    /// <summary>Fetches / from <paramref name="host"/>:<paramref name="port"/> and prints what arrives, 512 bytes at a time.</summary>
    public static void Run(Action<object> print, string host = "www.example.com", int port = 80)
    {
        var ai = GetAddrInfo(host, port, AF_INET);
        var addr = ai[0][^1];
        var s = Socket(AF_INET, SOCK_STREAM);
        s.Connect((SockAddr)addr);
        var request = "GET / HTTP/1.1\r\nHost:example.org\r\nConnection: close\r\n\r\n"u8;
        s.Send(request);
        while (true)
        {
            var data = s.Recv(512);
            if (data.Length == 0)
                break;
            print(data);
        }
        s.Close();
    }
}
