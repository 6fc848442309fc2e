using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using TcpIpSharp.Links;
using TcpIpSharp.Tap.Native;

namespace TcpIpSharp.Tap.Links;

/// <summary>
/// A Linux TAP device (<c>/dev/net/tun</c> with <c>IFF_TAP | IFF_NO_PI</c>): each <c>read</c> is one Ethernet frame
/// the kernel sends to the device, each <c>write</c> one frame the kernel receives from it.
/// </summary>
/// <remarks>
/// <para>The descriptor is non-blocking: <see cref="TryReceive"/> and <see cref="TrySend"/> never wait, and
/// <see cref="WaitReadable"/> waits in <c>poll()</c> on the TAP and on an <c>eventfd</c> that <see cref="Interrupt"/>
/// writes (a blocking <c>read</c> is not woken by <c>close</c> from another thread). Receive, send and wait allocate
/// nothing.</para>
/// <para>One thread (the stack's) calls <see cref="TryReceive"/>, <see cref="TrySend"/>, <see cref="WaitReadable"/> and
/// <see cref="Dispose"/>; any thread may call <see cref="Interrupt"/>. Stop the stack's thread before disposing.</para>
/// </remarks>
public sealed class TapLink : ILink
{
    private readonly SafeFileHandle _tapHandle;
    private readonly SafeFileHandle _wakeHandle;
    private readonly int _tap;
    private readonly int _wake;
    private readonly Lock _wakeLock = new();
    private bool _disposed;

    private long _framesReceived, _bytesReceived, _framesSent, _bytesSent;
    private long _receiveErrors, _sendErrors, _sendWouldBlock, _oversizeDropped;

    private TapLink(int tap, int wake, string name, int mtu)
    {
        _tap = tap;
        _wake = wake;
        _tapHandle = new SafeFileHandle(tap, ownsHandle: true);
        _wakeHandle = new SafeFileHandle(wake, ownsHandle: true);
        Name = name;
        Capabilities = new LinkCapabilities(mtu, mtu + EthernetHeaderSize, ChecksumOffload: false);
    }

    private const int EthernetHeaderSize = 14;

    /// <summary>The device's name (as the kernel reports it after attaching).</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public LinkCapabilities Capabilities { get; }

    /// <summary>Frames read from the device.</summary>
    public long FramesReceived => Volatile.Read(ref _framesReceived);
    /// <summary>Bytes of the frames read from the device.</summary>
    public long BytesReceived => Volatile.Read(ref _bytesReceived);
    /// <summary>Frames written to the device.</summary>
    public long FramesSent => Volatile.Read(ref _framesSent);
    /// <summary>Bytes of the frames written to the device.</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);
    /// <summary>Failed reads and waits other than "nothing to read" (see <see cref="LastErrno"/>).</summary>
    public long ReceiveErrors => Volatile.Read(ref _receiveErrors);
    /// <summary>Writes the kernel refused or cut short (see <see cref="LastErrno"/>); e.g. EIO while the device is down.</summary>
    public long SendErrors => Volatile.Read(ref _sendErrors);
    /// <summary>Writes that found the device's queue full (EAGAIN).</summary>
    public long SendWouldBlock => Volatile.Read(ref _sendWouldBlock);
    /// <summary>Received frames longer than the buffer given to <see cref="TryReceive"/>, dropped.</summary>
    public long OversizeDropped => Volatile.Read(ref _oversizeDropped);
    /// <summary>The errno of the last failed call, 0 when none failed.</summary>
    public int LastErrno { get; private set; }

    /// <summary>
    /// Attaches to the TAP device <paramref name="name"/>, or creates it (owned by this process, gone when disposed) when
    /// it does not exist.
    /// </summary>
    /// <param name="name">Interface name, at most 15 bytes.</param>
    /// <param name="netnsPath">A network namespace to find or create the device in (<c>/var/run/netns/NAME</c>, see
    /// <see cref="NetworkNamespace"/>); null for this thread's namespace.</param>
    /// <exception cref="IOException">The device cannot be opened; the message names the reason (root, busy, not a TAP).</exception>
    public static TapLink Open(string name, string? netnsPath = null)
        => netnsPath is null ? OpenHere(name) : NetworkNamespace.Run(netnsPath, () => OpenHere(name));

    /// <summary>The MTU of interface <paramref name="name"/>, read with SIOCGIFMTU in this thread's namespace or in <paramref name="netnsPath"/>.</summary>
    public static int ReadMtu(string name, string? netnsPath = null)
        => netnsPath is null ? InterfaceQuery.GetMtu(name) : NetworkNamespace.Run(netnsPath, () => InterfaceQuery.GetMtu(name));

    private static TapLink OpenHere(string name)
    {
        Span<byte> ifreq = stackalloc byte[Libc.IfReqSize];
        ifreq.Clear();
        InterfaceQuery.WriteName(ifreq, name);
        MemoryMarshal.Write(ifreq[Libc.IfReqDataOffset..], (short)(Libc.IFF_TAP | Libc.IFF_NO_PI));  // ifr_flags, host order

        int tap = Libc.Open("/dev/net/tun", Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (tap < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw Libc.Error("open /dev/net/tun", errno, errno switch
            {
                Libc.ENOENT or Libc.ENODEV => "the tun driver is missing (modprobe tun)",
                Libc.EACCES or Libc.EPERM => "a TAP needs CAP_NET_ADMIN (run as root)",
                _ => null,
            });
        }
        int wake = -1;
        try
        {
            if (Libc.Ioctl(tap, Libc.TUNSETIFF, ref ifreq[0]) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw Libc.Error($"TUNSETIFF {name}", errno, errno switch
                {
                    Libc.EPERM => "creating or attaching to a TAP needs CAP_NET_ADMIN (run as root)",
                    Libc.EBUSY => "another process is attached to this TAP",
                    Libc.EINVAL => "an interface of that name exists and is not a single-queue TAP",
                    _ => null,
                });
            }
            string actualName = InterfaceQuery.ReadName(ifreq);
            int mtu = InterfaceQuery.GetMtu(actualName);
            wake = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
            if (wake < 0) throw Libc.Error("eventfd", Marshal.GetLastPInvokeError());
            return new TapLink(tap, wake, actualName, mtu);
        }
        catch
        {
            Libc.Close(tap);
            if (wake >= 0) Libc.Close(wake);
            throw;
        }
    }

    /// <inheritdoc/>
    public int TryReceive(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Bounded: the TAP's queue is finite, and this stops after a run of oversize frames all the same.
        for (int attempt = 0; attempt < 64; attempt++)
        {
            nint n = ReadFrame(buffer);
            if (n > 0)
            {
                if (n > buffer.Length)
                {
                    _oversizeDropped++;
                    continue;
                }
                _framesReceived++;
                _bytesReceived += n;
                return (int)n;
            }
            if (n == 0) return 0;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EINTR) continue;
            if (errno == Libc.EAGAIN) return 0;
            LastErrno = errno;
            _receiveErrors++;
            return 0;
        }
        return 0;
    }

    // One frame per read. A plain read() of a longer frame returns the truncated length, indistinguishable from a
    // frame that fits exactly; readv() into the buffer and one spill byte returns buffer.Length + 1 instead.
    // The only unsafe code in the links: the buffer's address for the iovec (no allocation, pinned for the call).
    private unsafe nint ReadFrame(Span<byte> buffer)
    {
        byte spill = 0;
        fixed (byte* start = buffer)
        {
            Span<IoVec> vectors = [new IoVec((nint)start, (nuint)buffer.Length), new IoVec((nint)(&spill), 1)];
            return Libc.ReadVector(_tap, ref vectors[0], vectors.Length);
        }
    }

    /// <inheritdoc/>
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (frame.IsEmpty) return false;
        while (true)
        {
            nint n = Libc.Write(_tap, ref MemoryMarshal.GetReference(frame), (nuint)frame.Length);
            if (n == frame.Length)
            {
                _framesSent++;
                _bytesSent += n;
                return true;
            }
            if (n >= 0)
            {
                _sendErrors++;
                return false;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EINTR) continue;
            if (errno == Libc.EAGAIN)
            {
                _sendWouldBlock++;
                return false;
            }
            LastErrno = errno;
            _sendErrors++;
            return false;
        }
    }

    /// <inheritdoc/>
    public bool WaitReadable(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Span<PollFd> fds = [new PollFd(_tap, Libc.POLLIN), new PollFd(_wake, Libc.POLLIN)];
        if (!PollWait.Wait(fds, timeout, out int errno))
        {
            LastErrno = errno;
            _receiveErrors++;
            return false;
        }
        if ((fds[1].ReturnedEvents & Libc.POLLIN) != 0) PollWait.DrainEventFd(_wake);
        // An error or hang-up (device deleted) also reports readable, so the caller's TryReceive sees and counts it.
        return (fds[0].ReturnedEvents & (Libc.POLLIN | Libc.POLLERR | Libc.POLLHUP)) != 0;
    }

    /// <inheritdoc/>
    public void Interrupt()
    {
        lock (_wakeLock)
        {
            if (_disposed) return;
            PollWait.SignalEventFd(_wake);
        }
    }

    /// <summary>Closes the device (a TAP this link created disappears) and the wake-up descriptor.</summary>
    public void Dispose()
    {
        lock (_wakeLock)
        {
            if (_disposed) return;
            _disposed = true;
            _wakeHandle.Dispose();
        }
        _tapHandle.Dispose();
    }
}
