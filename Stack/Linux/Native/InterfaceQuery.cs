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
    public static int GetMtu(string name)
    {
        Span<byte> ifreq = stackalloc byte[Libc.IfReqSize];
        ifreq.Clear();
        WriteName(ifreq, name);
        int socket = Libc.Socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (socket < 0) throw Libc.Error("socket(AF_INET, SOCK_DGRAM)", Marshal.GetLastPInvokeError());
        try
        {
            if (Libc.Ioctl(socket, Libc.SIOCGIFMTU, ref ifreq[0]) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw Libc.Error($"SIOCGIFMTU {name}", errno, errno == Libc.ENODEV ? "no such interface in this network namespace" : null);
            }
            return MemoryMarshal.Read<int>(ifreq[Libc.IfReqDataOffset..]);
        }
        finally
        {
            Libc.Close(socket);
        }
    }
}
