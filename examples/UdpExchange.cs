// A UDP exchange:
//
//   s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
//   s.settimeout(2)
//   s.sendto(b'hello', addr)
//   data, server = s.recvfrom(512)
//   print(data, server)
//   s.close()
using TcpIpSharp.Sockets;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Examples;

/// <summary>Sends datagrams to an echo server and prints what comes back.</summary>
public static class UdpExchange
{
    /// <summary>Sends <paramref name="count"/> datagrams to <paramref name="addr"/> and returns the replies.</summary>
    public static List<string> Run(Action<object> print, SockAddr addr, int count = 3)
    {
        var replies = new List<string>();
        var s = Socket(AF_INET, SOCK_DGRAM);
        s.SetTimeout(2);
        for (int i = 0; i < count; i++)
        {
            s.SendTo(System.Text.Encoding.ASCII.GetBytes($"hello {i}"), addr);
            var (data, server) = s.RecvFrom(512);
            var text = System.Text.Encoding.ASCII.GetString(data);
            print($"{text} from {server}");
            replies.Add(text);
        }
        s.Close();
        return replies;
    }
}
