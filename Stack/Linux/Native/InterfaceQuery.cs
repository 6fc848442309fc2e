using System.Runtime.InteropServices;
using System.Text;

namespace TcpIpSharp.Linux.Native;

/// <summary>Questions about a network interface, answered in the calling thread's network namespace.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class InterfaceQuery
{
    /// <summary>Writes a NUL-terminated interface name into the first 16 bytes of an ifreq; throws when it does not fit.</summary>
    public static void WriteName(Span<byte> ifreq, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ifreq[..Libc.IfNameSize].Clear();
        if (Encoding.UTF8.GetByteCount(name) >= Libc.IfNameSize)
            throw new ArgumentException($"interface name '{name}' is longer than {Libc.IfNameSize - 1} bytes", nameof(name));
        Encoding.UTF8.GetBytes(name, ifreq);
    }

    /// <summary>Reads the NUL-terminated name back from an ifreq.</summary>
    public static string ReadName(ReadOnlySpan<byte> ifreq)
    {
        var name = ifreq[..Libc.IfNameSize];
        int end = name.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
    }

    /// <summary>The MTU of <paramref name="name"/> (SIOCGIFMTU on a datagram socket). Works inside any namespace, unlike /sys/class/net, which shows the namespace that mounted /sys.</summary>
    public static int GetMtu(string name) => Query(name, Libc.SIOCGIFMTU, "SIOCGIFMTU", 0);

    /// <summary>The transmit queue length (txqueuelen) of <paramref name="name"/>: the frames the kernel holds for a TAP's reader.</summary>
    public static int GetTransmitQueueLength(string name) => Query(name, Libc.SIOCGIFTXQLEN, "SIOCGIFTXQLEN", 0);

    /// <summary>Sets the transmit queue length of <paramref name="name"/> (SIOCSIFTXQLEN, needs CAP_NET_ADMIN); returns the length read back.</summary>
    public static int SetTransmitQueueLength(string name, int frames)
    {
        Query(name, Libc.SIOCSIFTXQLEN, "SIOCSIFTXQLEN", frames);
        return GetTransmitQueueLength(name);
    }

    /// <summary>True when an interface of that name exists in this thread's namespace (SIOCGIFINDEX).</summary>
    public static bool Exists(string name)
    {
        int value = 0;
        int errno = TryIoctl(name, Libc.SIOCGIFINDEX, ref value);
        if (errno is 0 or Libc.ENODEV) return errno == 0;
        throw Libc.Error($"SIOCGIFINDEX {name}", errno);
    }

    // One SIOC*IF* ioctl with the ifreq's int field (ifr_mtu, ifr_qlen) set to `value`; returns that field afterwards.
    private static int Query(string name, uint request, string what, int value)
    {
        int errno = TryIoctl(name, request, ref value);
        if (errno != 0)
            throw Libc.Error($"{what} {name}", errno, errno switch
            {
                Libc.ENODEV => "no such interface in this network namespace",
                Libc.EPERM => "changing an interface needs CAP_NET_ADMIN (run as root)",
                _ => null,
            });
        return value;
    }

    // The ioctl on a datagram socket of this thread's namespace; `value` in and out of the ifreq's int field. 0 or errno.
    private static int TryIoctl(string name, uint request, ref int value)
    {
        Span<byte> ifreq = stackalloc byte[Libc.IfReqSize];
        ifreq.Clear();
        WriteName(ifreq, name);
        MemoryMarshal.Write(ifreq[Libc.IfReqDataOffset..], value);
        int socket = Libc.Socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (socket < 0) throw Libc.Error("socket(AF_INET, SOCK_DGRAM)", Marshal.GetLastPInvokeError());
        try
        {
            if (Libc.Ioctl(socket, request, ref ifreq[0]) < 0) return Marshal.GetLastPInvokeError();
            value = MemoryMarshal.Read<int>(ifreq[Libc.IfReqDataOffset..]);
            return 0;
        }
        finally
        {
            Libc.Close(socket);
        }
    }
}
