// A ping over a raw ICMP socket, as MicroPython's uping does it:
//
//   s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)
//   s.settimeout(1)
//   s.sendto(packet, (host, 1))
//   resp = s.recv(64)                     # the IPv4 header, then the ICMP echo reply
using TcpIpSharp.Sockets;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Examples;

/// <summary>Sends echo requests through a raw ICMP socket and counts the replies.</summary>
public static class Ping
{
    /// <summary>Pings <paramref name="host"/> <paramref name="count"/> times; returns the replies received.</summary>
    public static int Run(Action<object> print, string host, int count = 3)
    {
        var s = Socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
        s.SetTimeout(1);
        int received = 0;
        for (ushort seq = 1; seq <= count; seq++)
        {
            var packet = new byte[16];
            packet[0] = 8;                                    // echo request
            packet[4] = 0x12; packet[5] = 0x34;               // identifier
            packet[6] = (byte)(seq >> 8); packet[7] = (byte)seq;
            "pico-png"u8.CopyTo(packet.AsSpan(8));
            uint sum = 0;
            for (int i = 0; i < packet.Length; i += 2) sum += (uint)(packet[i] << 8 | packet[i + 1]);
            while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
            packet[2] = (byte)(~sum >> 8); packet[3] = (byte)~sum;
            s.SendTo(packet, (host, 1));
            var resp = s.Recv(64);
            int ihl = (resp[0] & 0x0F) * 4;
            if (resp[ihl] == 0 && resp[ihl + 6] == (byte)(seq >> 8) && resp[ihl + 7] == (byte)seq)
            {
                received++;
                print($"{resp.Length - ihl} bytes from {host}: icmp_seq={seq} ttl={resp[8]}");
            }
        }
        s.Close();
        return received;
    }
}
