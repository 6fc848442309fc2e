// A server in the Pico's style: bind, listen, an accept loop, echo each client until it closes.
//
//   s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
//   s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
//   s.bind(('', 8080))
//   s.listen(5)
//   while True:
//       cl, addr = s.accept()
//       print('client connected from', addr)
//       while True:
//           data = cl.recv(1024)
//           if not data: break
//           cl.sendall(data)
//       cl.close()
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Examples;

/// <summary>An echo server on <see cref="Sockets.SocketStack.Default"/> that serves <paramref name="clients"/> clients one after another.</summary>
public static class EchoServer
{
    /// <summary>Serves <paramref name="clients"/> clients on <paramref name="port"/>, then closes; <paramref name="listening"/> runs once it listens.</summary>
    public static void Run(Action<object> print, int port, int clients, Action? listening = null)
    {
        var s = Socket(AF_INET, SOCK_STREAM);
        s.SetSockOpt(SOL_SOCKET, SO_REUSEADDR, 1);
        s.Bind(("", port));
        s.Listen(5);
        listening?.Invoke();
        for (int i = 0; i < clients; i++)
        {
            var (cl, addr) = s.Accept();
            print($"client connected from {addr}");
            while (true)
            {
                var data = cl.Recv(1024);
                if (data.Length == 0) break;
                cl.SendAll(data);
            }
            cl.Close();
        }
        s.Close();
    }
}
