using System.Runtime.InteropServices;

namespace TcpIpSharp.Linux.Native;

/// <summary>poll(2) with a TimeSpan, and the eventfd used to wake it; nothing here allocates.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class PollWait
{
    /// <summary>Polls until an event, the timeout, or an error; retries on EINTR. False with errno on failure.</summary>
    public static bool Wait(Span<PollFd> fds, TimeSpan timeout, out int errno)
    {
        errno = 0;
        int milliseconds = ToMilliseconds(timeout);
        while (true)
        {
            int ready = Libc.Poll(ref fds[0], (nuint)fds.Length, milliseconds);
            if (ready >= 0) return true;
            errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EINTR) return false;
        }
    }

    /// <summary>poll's timeout: -1 (forever) for a negative or infinite span, otherwise whole milliseconds rounded up.</summary>
    public static int ToMilliseconds(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero) return -1;
        double ms = Math.Ceiling(timeout.TotalMilliseconds);
        return ms >= int.MaxValue ? -1 : (int)ms;
    }

    /// <summary>Adds one to an eventfd's counter, making it readable.</summary>
    public static void SignalEventFd(int eventFd)
    {
        Span<byte> one = stackalloc byte[sizeof(ulong)];
        MemoryMarshal.Write(one, 1UL);
        Libc.Write(eventFd, ref one[0], (nuint)one.Length);  // EAGAIN only when the counter is near 2^64: already signalled
    }

    /// <summary>Resets a non-blocking eventfd's counter to zero.</summary>
    public static void DrainEventFd(int eventFd)
    {
        Span<byte> value = stackalloc byte[sizeof(ulong)];
        Libc.Read(eventFd, ref value[0], (nuint)value.Length);
    }
}
