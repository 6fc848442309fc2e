using System.Runtime.InteropServices;

namespace TcpIpSharp.Linux.Native;

/// <summary>struct pollfd of poll(2).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short ReturnedEvents;

    public PollFd(int fd, short events)
    {
        Fd = fd;
        Events = events;
        ReturnedEvents = 0;
    }
}
