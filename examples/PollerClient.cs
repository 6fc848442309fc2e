// A non-blocking client driven by select.poll, as on the Pico:
//
//   s = socket.socket()
//   s.setblocking(False)
//   try: s.connect(addr)
//   except OSError as e:
//       if e.errno != errno.EINPROGRESS: raise
//   poller = select.poll()
//   poller.register(s, select.POLLOUT)
//   poller.poll(5000)                       # writable: connected
//   s.send(request)
//   poller.modify(s, select.POLLIN)
//   while True:
//       for sock, ev in poller.poll(5000):
//           data = sock.recv(1024)          # never blocks
//           ...
using TcpIpSharp.Sockets;
using static TcpIpSharp.Sockets.SelectModule;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Examples;

/// <summary>A non-blocking HTTP GET with a <see cref="Poller"/>; returns the whole response.</summary>
public static class PollerClient
{
    /// <summary>Connects without blocking, waits for POLLOUT, sends, then reads on POLLIN until end of stream.</summary>
    public static byte[] Run(Action<object> print, SockAddr addr, string path = "/")
    {
        var s = Socket(AF_INET, SOCK_STREAM);
        s.SetBlocking(false);
        try
        {
            s.Connect(addr);
        }
        catch (OSError e) when (e.Errno == Errno.EINPROGRESS)
        {
            print("connect: EINPROGRESS");
        }
        var poller = SelectModule.Poll();
        poller.Register(s, POLLOUT);
        var ready = poller.Poll(5000);
        print($"writable: {ready.Count == 1 && (ready[0].Events & POLLOUT) != 0}");
        s.Send(System.Text.Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: example\r\n\r\n"));
        poller.Modify(s, POLLIN);
        using var response = new MemoryStream();
        var buffer = new byte[1024];
        bool done = false;
        while (!done)
        {
            var events = poller.Poll(5000);
            if (events.Count == 0) throw new OSError(Errno.ETIMEDOUT);
            foreach (var (sock, ev) in events)
            {
                int n = sock.Recv(buffer);
                if (n == 0) { done = true; break; }
                response.Write(buffer, 0, n);
            }
        }
        s.Close();
        print($"received {response.Length} bytes");
        return response.ToArray();
    }
}
