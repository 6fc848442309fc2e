using System.Runtime.InteropServices;

namespace TcpIpSharp.Linux.Native;

/// <summary>
/// The few libc calls the links need (Linux, x86-64 and arm64 values). Buffers go in as <c>ref byte</c> to the first
/// element: the generated stub pins them and passes a pointer, so a call allocates nothing.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static partial class Libc
{
    private const string Library = "libc";

    public const int O_RDONLY = 0x0;
    public const int O_RDWR = 0x2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int EINVAL = 22;

    public const short POLLIN = 0x1;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    public const int CLONE_NEWNET = 0x40000000;

    public const int AF_INET = 2;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_CLOEXEC = 0x80000;

    /// <summary>_IOW('T', 202, int): attach to or create a TUN/TAP device (include/uapi/linux/if_tun.h).</summary>
    public const uint TUNSETIFF = 0x400454ca;
    /// <summary>Read an interface's MTU into ifr_mtu (include/uapi/linux/sockios.h).</summary>
    public const uint SIOCGIFMTU = 0x8921;
    /// <summary>Read an interface's index into ifr_ifindex; ENODEV when no interface has that name (include/uapi/linux/sockios.h).</summary>
    public const uint SIOCGIFINDEX = 0x8933;
    /// <summary>Read an interface's transmit queue length (txqueuelen, frames) into ifr_qlen.</summary>
    public const uint SIOCGIFTXQLEN = 0x8942;
    /// <summary>Set an interface's transmit queue length from ifr_qlen; needs CAP_NET_ADMIN.</summary>
    public const uint SIOCSIFTXQLEN = 0x8943;
    public const short IFF_TUN = 0x0001;
    public const short IFF_TAP = 0x0002;
    public const short IFF_NO_PI = 0x1000;
    /// <summary>Every frame read or written carries a virtio-net header first (include/uapi/linux/if_tun.h).</summary>
    public const short IFF_VNET_HDR = 0x4000;
    /// <summary>_IOW('T', 216, int): the virtio-net header's size (10, or 12 with num_buffers); takes a pointer to an int.</summary>
    public const uint TUNSETVNETHDRSZ = 0x400454d8;
    /// <summary>_IOW('T', 208, unsigned int): the offloads this reader handles; takes the flags by value, not a pointer.</summary>
    public const uint TUNSETOFFLOAD = 0x400454d0;
    /// <summary>TUNSETOFFLOAD: the reader takes partial checksums.</summary>
    public const uint TUN_F_CSUM = 0x01;
    /// <summary>TUNSETOFFLOAD: the reader takes TCP/IPv4 segments up to 64 KB (TSO4).</summary>
    public const uint TUN_F_TSO4 = 0x02;
    /// <summary>TSO for TCP over IPv6 (needs TUN_F_CSUM).</summary>
    public const uint TUN_F_TSO6 = 0x04;
    /// <summary>TUNSETOFFLOAD: TSO frames may carry CWR (VIRTIO_NET_HDR_GSO_ECN; the kernel puts CWR on the first segment only).</summary>
    public const uint TUN_F_TSO_ECN = 0x08;

    /// <summary>sizeof(struct ifreq) on 64-bit Linux.</summary>
    public const int IfReqSize = 40;
    /// <summary>IFNAMSIZ: interface names are at most 15 bytes and a NUL.</summary>
    public const int IfNameSize = 16;
    /// <summary>Offset of the union after ifr_name (ifr_flags, ifr_mtu).</summary>
    public const int IfReqDataOffset = 16;

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, ref byte buffer, nuint count);

    /// <summary>readv(2): the TAP's receive path reads into the caller's buffer plus one spill byte, so a frame longer than the buffer shows up as a longer count (a plain read returns the truncated length).</summary>
    [LibraryImport(Library, EntryPoint = "readv", SetLastError = true)]
    public static partial nint ReadVector(int fd, ref IoVec vectors, int count);

    /// <summary>writev(2): a virtio-net header and a frame in one write.</summary>
    [LibraryImport(Library, EntryPoint = "writev", SetLastError = true)]
    public static partial nint WriteVector(int fd, ref IoVec vectors, int count);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, ref byte buffer, nuint count);

    // ioctl is variadic; every caller here passes one pointer, which the x86-64 and arm64 ABIs pass as a plain argument.
    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, ref byte argument);

    /// <summary>ioctl(2) with an integer argument passed by value (TUNSETOFFLOAD).</summary>
    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int IoctlValue(int fd, nuint request, nuint value);

    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(ref PollFd fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(Library, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport(Library, EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int namespaceType);

    [LibraryImport(Library, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Library, EntryPoint = "memcpy")]
    public static partial nint MemoryCopy(ref byte destination, nint source, nuint count);

    /// <summary>An exception naming the call and errno, with its text.</summary>
    public static IOException Error(string what, int errno, string? hint = null)
        => new($"{what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}){(hint is null ? "" : "; " + hint)}");
}
