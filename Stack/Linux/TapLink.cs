using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using TcpIpSharp.Links;
using TcpIpSharp.Linux.Native;

namespace TcpIpSharp.Linux;

/// <summary>
/// A Linux TAP device (<c>/dev/net/tun</c> with <c>IFF_TAP | IFF_NO_PI</c>): each <c>read</c> is one Ethernet frame
/// the kernel sends to the device, each <c>write</c> one frame the kernel receives from it.
/// </summary>
/// <remarks>
/// <para>With offloads (<see cref="Open(string, string?, bool)"/>, <c>offloads: true</c>) the device is opened with
/// <c>IFF_VNET_HDR</c>, a 12-byte virtio-net header (<see cref="VirtioNetHeader"/>) before every frame, and
/// <c>TUNSETOFFLOAD</c> with checksum and TSO4: the kernel then hands up TCP frames of up to 64 KB it coalesced, with
/// partial checksums, and takes 64 KB TCP frames (<see cref="TrySendTcpSegments"/>) that it cuts into MSS-sized segments
/// itself. Received checksums the kernel vouches for (partial or verified, as it trusts them itself) are not checked;
/// the others are checked here, so <see cref="LinkCapabilities.ChecksumOffload"/> holds. When the kernel refuses the
/// offloads, the link opens the device plainly instead (<see cref="OffloadsEnabled"/> false, <see cref="OffloadsRefused"/> says why).</para>
/// <para>The descriptor is non-blocking: <see cref="TryReceive"/> and <see cref="TrySend"/> never wait, and
/// <see cref="WaitReadable"/> waits in <c>poll()</c> on the TAP and on an <c>eventfd</c> that <see cref="Interrupt"/>
/// writes (a blocking <c>read</c> is not woken by <c>close</c> from another thread). Receive, send and wait allocate
/// nothing.</para>
/// <para>One thread (the stack's) calls <see cref="TryReceive"/>, <see cref="TrySend"/>, <see cref="WaitReadable"/> and
/// <see cref="Dispose"/>; any thread may call <see cref="Interrupt"/>. Stop the stack's thread before disposing.</para>
/// <para>Receiving in place (<see cref="Lend"/>): without io_uring each <c>read</c> goes straight into one of a few
/// link-owned slots (16 frames without offloads, 4 of up to 64 KB with them), and the frames are lent from there; with
/// io_uring the ring's own receive slots are lent, their reads re-armed when the batch returns (at most half of them
/// are lent at once, so reads stay in flight). The virtio-net header is checked in the slot, before the frame is lent.
/// <see cref="TryReceive"/> still copies, for callers that want their own buffer.</para>
/// <para>Without offloads the link can write its frames from a thread of its own (<see cref="Open(string, string?, bool, bool)"/>
/// with <c>transmitThread</c>, see <see cref="TapTransmitter"/>): <see cref="TrySend"/> then copies the frame into a
/// preallocated ring and returns, and waits only while the ring is full; the send counters are kept by that thread.</para>
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TapLink : ILink, IExtraWait
{
    private readonly SafeFileHandle _tapHandle;
    private readonly SafeFileHandle _wakeHandle;
    private readonly int _tap;
    private readonly int _wake;
    private int _extra = -1;   // a descriptor WaitReadable also wakes on (IExtraWait), or -1
    private readonly Lock _wakeLock = new();
    private readonly bool _offloads;
    private readonly bool _tun;          // IFF_TUN: frames are bare IP packets (TunLink)
    private readonly int _linkHeader;    // 14 on a TAP, 0 on a TUN
    private readonly byte[] _receiveHeader = new byte[VirtioNetHeader.Size];
    private readonly byte[] _sendHeader = new byte[VirtioNetHeader.Size];
    private bool _disposed;
    private TapTransmitter? _transmitter;
    private UringFrameIo? _uring;
    private LendLedger _lent;
    private byte[]? _lendMemory;         // per-frame lending: slots of [virtio-net header][frame][spill byte], made at the first lend

    private long _framesReceived, _bytesReceived, _framesSent, _bytesSent;
    private long _receiveErrors, _sendErrors, _sendWouldBlock, _oversizeDropped, _checksumErrors, _largeFramesReceived, _largeFramesSent;

    private TapLink(int tap, int wake, string name, int mtu, bool offloads, bool tun)
    {
        _tun = tun;
        _linkHeader = tun ? 0 : EthernetHeaderSize;
        _tap = tap;
        _wake = wake;
        _tapHandle = new SafeFileHandle(tap, ownsHandle: true);
        _wakeHandle = new SafeFileHandle(wake, ownsHandle: true);
        Name = name;
        _offloads = offloads;
        Capabilities = offloads
            ? new LinkCapabilities(mtu, _linkHeader + MaximumIpPacket, ChecksumOffload: true, TcpSegmentationOffload: true, CarriesEthernet: !tun)
            : new LinkCapabilities(mtu, mtu + _linkHeader, ChecksumOffload: false, CarriesEthernet: !tun);
    }

    private const int EthernetHeaderSize = 14;
    // The largest packet a frame may carry: an IPv6 header and 65,535 bytes of payload (an IPv4 packet is at most 65,535).
    private const int MaximumIpPacket = 40 + 65535;

    /// <summary>True when the device was opened with the virtio-net header and the kernel took the checksum and TSO4 offloads.</summary>
    public bool OffloadsEnabled => _offloads;

    /// <summary>True when the kernel also took TUN_F_TSO_ECN: segmentation-offload frames may carry CWR (VIRTIO_NET_HDR_GSO_ECN).</summary>
    public bool TsoEcn { get; private set; }

    /// <summary>Why offloads were asked for and not enabled (the kernel refused an ioctl), or null.</summary>
    public string? OffloadsRefused { get; private set; }

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
    /// <summary>Received frames whose transport checksum the kernel did not vouch for and that failed the check here (offloads only), dropped.</summary>
    public long ChecksumErrors => Volatile.Read(ref _checksumErrors);
    /// <summary>Received frames longer than the MTU allows (coalesced by the kernel; offloads only).</summary>
    public long LargeFramesReceived => Volatile.Read(ref _largeFramesReceived);
    /// <summary>Frames sent for the kernel to cut into segments (<see cref="TrySendTcpSegments"/>).</summary>
    public long LargeFramesSent => Volatile.Read(ref _largeFramesSent);
    /// <summary>The errno of the last failed call, 0 when none failed.</summary>
    public int LastErrno { get; private set; }

    /// <summary>
    /// Attaches to the TAP device <paramref name="name"/>, or creates it (owned by this process, gone when disposed) when
    /// it does not exist.
    /// </summary>
    /// <param name="name">Interface name, at most 15 bytes.</param>
    /// <param name="netnsPath">A network namespace to find or create the device in (<c>/var/run/netns/NAME</c>, see
    /// <see cref="NetworkNamespace"/>); null for this thread's namespace.</param>
    /// <param name="offloads">Open with the virtio-net header and checksum and TSO4 offloads (see the remarks); when the
    /// kernel refuses them, the device is opened plainly and <see cref="OffloadsRefused"/> says why.</param>
    /// <exception cref="IOException">The device cannot be opened; the message names the reason (root, busy, not a TAP).</exception>
    public static TapLink Open(string name, string? netnsPath = null, bool offloads = false)
        => OpenDevice(name, netnsPath, offloads, tun: false);

    /// <summary>True when the device did not exist and opening created it (it goes away when this link is disposed).</summary>
    public bool Created { get; private init; }

    private string? _netnsPath;

    /// <summary>
    /// The device's transmit queue length (<c>txqueuelen</c>): how many frames the kernel holds for this reader before it
    /// drops the next (counted as the interface's TX dropped). A burst larger than the queue, as 1,000 clients' SYNs at
    /// once, loses frames while the stack's thread is busy; each lost SYN costs the client a 1 s retransmission.
    /// </summary>
    public int TransmitQueueLength => InNamespace(() => InterfaceQuery.GetTransmitQueueLength(Name));

    /// <summary>
    /// Sets the device's transmit queue length to <paramref name="frames"/> (SIOCSIFTXQLEN, as <c>ip link set NAME
    /// txqueuelen N</c>) and returns the length the kernel reports afterwards.
    /// </summary>
    /// <exception cref="IOException">The kernel refused (without CAP_NET_ADMIN: EPERM); the message says why.</exception>
    public int SetTransmitQueueLength(int frames)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(frames);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return InNamespace(() => InterfaceQuery.SetTransmitQueueLength(Name, frames));
    }

    private T InNamespace<T>(Func<T> query) => _netnsPath is null ? query() : NetworkNamespace.Run(_netnsPath, query);

    /// <summary>Opens a TAP, or with <paramref name="tun"/> a TUN (<c>IFF_TUN | IFF_NO_PI</c>, see <see cref="TunLink"/>).</summary>
    internal static TapLink OpenDevice(string name, string? netnsPath, bool offloads, bool tun)
    {
        var link = netnsPath is null ? OpenWithFallback(name, offloads, tun) : NetworkNamespace.Run(netnsPath, () => OpenWithFallback(name, offloads, tun));
        link._netnsPath = netnsPath;
        return link;
    }

    /// <summary>
    /// As <see cref="Open(string, string?, bool)"/>; with <paramref name="transmitThread"/> (and without offloads) the
    /// frames are written by a thread of the link's own, fed through a preallocated ring (see the remarks).
    /// </summary>
    public static TapLink Open(string name, string? netnsPath, bool offloads, bool transmitThread)
    {
        var link = Open(name, netnsPath, offloads);
        if (transmitThread && !link._offloads) link.StartTransmitThread();
        return link;
    }

    /// <summary>
    /// As <see cref="Open(string, string?, bool, bool)"/>, choosing how frames cross to the kernel: one <c>read</c>/<c>write</c>
    /// per frame, or batches through io_uring (<see cref="TapIoMode"/>). With io_uring in use the transmit thread is not
    /// started (the batches take its place); <see cref="TapIoMode.Auto"/> uses io_uring without offloads and falls back
    /// to per-frame calls when the kernel refuses it (<see cref="IoUringUnavailable"/> says why).
    /// </summary>
    /// <exception cref="IOException">The device cannot be opened, or <see cref="TapIoMode.IoUring"/> was asked and io_uring is unavailable.</exception>
    public static TapLink Open(string name, string? netnsPath, bool offloads, bool transmitThread, TapIoMode io)
    {
        var link = Open(name, netnsPath, offloads);
        // Auto batches only without offloads: with them a system call already carries up to 64 KB, and the ring's slots
        // would add a copy of every such frame (measured: slower; docs/benchmarks.md).
        if (io is TapIoMode.IoUring or TapIoMode.IoUringPolled || (io == TapIoMode.Auto && !link._offloads))
        {
            int maxFrame = link.Capabilities.MaxFrameSize;
            // Without offloads 64 reads outstanding and 256 frames queued (about 0.5 MB); with them frames reach 64 KB,
            // so fewer slots (about 3 MB).
            int rxSlots = link._offloads ? 16 : 64, txSlots = link._offloads ? 32 : 256;
            link._uring = UringFrameIo.TryCreate(link._tap, link._offloads ? VirtioNetHeader.Size : 0, maxFrame, rxSlots, txSlots,
                link.Written, out string? error, submissionPolling: io == TapIoMode.IoUringPolled);
            link.IoUringUnavailable = error;
            if (link._uring is null && io != TapIoMode.Auto)
            {
                link.Dispose();
                throw new IOException($"io_uring is unavailable for TAP {name}: {error}");
            }
        }
        if (transmitThread && !link._offloads && link._uring is null) link.StartTransmitThread();
        return link;
    }

    /// <summary>True when frames cross to the kernel in batches through io_uring (<see cref="TapIoMode"/>).</summary>
    public bool UsesIoUring => _uring is not null;

    /// <summary>Why io_uring was asked for and not used (the kernel refused it), or null.</summary>
    public string? IoUringUnavailable { get; private set; }

    /// <summary>io_uring_enter calls made for this link's frames (0 on the per-frame path, which makes one call per frame).</summary>
    public long IoUringEnters => _uring?.Enters ?? 0;

    /// <summary>Slots in the transmit thread's ring: 256 frames of up to the MTU, about 390 KB at 1500.</summary>
    private const int TransmitSlots = 256;

    private void StartTransmitThread()
    {
        int slotSize = Capabilities.MaxFrameSize;
        _transmitter = new TapTransmitter(_tap, TransmitSlots, (slotSize + 63) & ~63, Written, Name);
    }

    /// <summary>True when a thread of the link's own writes its frames (<see cref="Open(string, string?, bool, bool)"/>).</summary>
    public bool HasTransmitThread => _transmitter is not null;

    /// <summary>Times the stack's thread found the transmit thread's ring full and waited for room (0 without one).</summary>
    public long TransmitRingFullWaits => _transmitter?.FullWaits ?? 0;

    /// <summary>Times the transmit thread slept on an empty ring and had to be woken (0 without one).</summary>
    public long TransmitThreadSleeps => _transmitter?.WriterSleeps ?? 0;

    private static TapLink OpenWithFallback(string name, bool offloads, bool tun)
    {
        if (!offloads) return OpenHere(name, false, tun);
        try
        {
            return OpenHere(name, true, tun);
        }
        catch (OffloadRefusedException e)
        {
            var plain = OpenHere(name, false, tun);
            plain.OffloadsRefused = e.Message;
            return plain;
        }
    }

    private sealed class OffloadRefusedException(string message) : IOException(message);

    /// <summary>The MTU of interface <paramref name="name"/>, read with SIOCGIFMTU in this thread's namespace or in <paramref name="netnsPath"/>.</summary>
    public static int ReadMtu(string name, string? netnsPath = null)
        => netnsPath is null ? InterfaceQuery.GetMtu(name) : NetworkNamespace.Run(netnsPath, () => InterfaceQuery.GetMtu(name));

    private static TapLink OpenHere(string name, bool offloads, bool tun)
    {
        Span<byte> ifreq = stackalloc byte[Libc.IfReqSize];
        ifreq.Clear();
        InterfaceQuery.WriteName(ifreq, name);
        short flags = (short)((tun ? Libc.IFF_TUN : Libc.IFF_TAP) | Libc.IFF_NO_PI | (offloads ? Libc.IFF_VNET_HDR : 0));
        MemoryMarshal.Write(ifreq[Libc.IfReqDataOffset..], flags);  // ifr_flags, host order

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
            bool existed = InterfaceQuery.Exists(name);
            if (Libc.Ioctl(tap, Libc.TUNSETIFF, ref ifreq[0]) < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                throw Libc.Error($"TUNSETIFF {name}", errno, errno switch
                {
                    Libc.EPERM => "creating or attaching to a TAP needs CAP_NET_ADMIN (run as root)",
                    Libc.EBUSY => "another process is attached to this TAP",
                    Libc.EINVAL => $"an interface of that name exists and is not a single-queue {(tun ? "TUN" : "TAP")}",
                    _ => null,
                });
            }
            string actualName = InterfaceQuery.ReadName(ifreq);
            bool tsoEcn = offloads && EnableOffloads(tap, actualName);
            // TUNSETOFFLOAD outlives its descriptor on a persistent device: clear what an earlier owner with offloads
            // left, or the kernel keeps handing up partial checksums that a plain reader counts as bad.
            if (!offloads && Libc.IoctlValue(tap, Libc.TUNSETOFFLOAD, 0) < 0)
                throw Libc.Error($"TUNSETOFFLOAD 0 {actualName}", Marshal.GetLastPInvokeError());
            int mtu = InterfaceQuery.GetMtu(actualName);
            wake = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
            if (wake < 0) throw Libc.Error("eventfd", Marshal.GetLastPInvokeError());
            return new TapLink(tap, wake, actualName, mtu, offloads, tun) { TsoEcn = tsoEcn, Created = !existed };
        }
        catch
        {
            Libc.Close(tap);
            if (wake >= 0) Libc.Close(wake);
            throw;
        }
    }

    // TUNSETVNETHDRSZ takes a pointer to the size; TUNSETOFFLOAD takes the flags by value. Checksum offload alone gains
    // nothing measurable: the gain is TSO, which needs it. TSO_ECN (frames with CWR) is asked for too; a kernel that
    // refuses it gets the offloads without it, and such frames are then cut in software. Returns whether TSO_ECN is on.
    private static bool EnableOffloads(int tap, string name)
    {
        Span<byte> size = stackalloc byte[sizeof(int)];
        MemoryMarshal.Write(size, VirtioNetHeader.Size);
        if (Libc.Ioctl(tap, Libc.TUNSETVNETHDRSZ, ref size[0]) < 0)
            throw new OffloadRefusedException($"TUNSETVNETHDRSZ {name}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        if (Libc.IoctlValue(tap, Libc.TUNSETOFFLOAD, Libc.TUN_F_CSUM | Libc.TUN_F_TSO4 | Libc.TUN_F_TSO6 | Libc.TUN_F_TSO_ECN) >= 0) return true;
        if (Libc.IoctlValue(tap, Libc.TUNSETOFFLOAD, Libc.TUN_F_CSUM | Libc.TUN_F_TSO4 | Libc.TUN_F_TSO6) < 0)
            throw new OffloadRefusedException($"TUNSETOFFLOAD {name}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        return false;
    }

    /// <inheritdoc/>
    public int TryReceive(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Bounded: the TAP's queue is finite, and this stops after a run of oversize frames all the same.
        for (int attempt = 0; attempt < MaximumReadAttempts; attempt++)
        {
            nint n = _uring is not null ? ReadBatched(buffer) : ReadFrame(buffer);
            if (n > 0)
            {
                int length = Accept(n, _receiveHeader, buffer);
                if (length > 0) return length;
                continue;
            }
            if (n == 0 || !RetryAfterFailedRead(Marshal.GetLastPInvokeError())) return 0;
        }
        return 0;
    }

    private const int MaximumReadAttempts = 64;
    // Per-frame lending: slots of the link's own, few (each read is a system call either way, so more slots would only
    // spread the frames over more cache). With offloads a slot holds up to 64 KB.
    private const int LendSlots = 16, LendSlotsWithOffloads = 4;

    /// <inheritdoc/>
    public int Lend(FrameBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _lent.BeginLend(batch);
        if (_uring is not null) LendBatched(batch, _uring);
        else LendRead(batch);
        _lent.EndLend(batch);
        return batch.Count;
    }

    /// <inheritdoc/>
    public void Return(FrameBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _lent.Return(this, batch);
        // Per frame the slots are simply free again (the next lend reads into them); with io_uring their reads go back in flight.
        if (_uring is not null) _uring.Rearm(batch);
        batch.Clear();
    }

    private int HeaderSize => _offloads ? VirtioNetHeader.Size : 0;

    // One read() per frame, straight into the link's slot i for the batch's frame i (every slot is free: one batch out at
    // a time). The slot holds header + frame + one spill byte: a read that fills it was cut short (oversize).
    private void LendRead(FrameBatch batch)
    {
        int slots = _offloads ? LendSlotsWithOffloads : LendSlots;
        int frameMax = Capabilities.MaxFrameSize, header = HeaderSize, slotSize = (header + frameMax + 1 + 63) & ~63;
        var memory = _lendMemory ??= GC.AllocateUninitializedArray<byte>(slots * slotSize);
        for (int attempt = 0; attempt < MaximumReadAttempts && !batch.IsFull && batch.Count < slots; attempt++)
        {
            int slot = batch.Count, start = slot * slotSize;
            nint n = Libc.Read(_tap, ref memory[start], (nuint)(header + frameMax + 1));
            if (n > 0)
            {
                int length = Accept(n, memory.AsSpan(start, header), memory.AsSpan(start + header, frameMax));
                if (length > 0) batch.Add(this, new ReadOnlyMemory<byte>(memory, start + header, length), slot);
                continue;
            }
            if (n == 0 || !RetryAfterFailedRead(Marshal.GetLastPInvokeError()))
            {
                batch.MarkDrained();   // EAGAIN (or an error): asking again in the same poll would only fail again
                return;
            }
        }
    }

    // The io_uring path: completed reads lent where the kernel wrote them; a dropped one's read is re-armed at once.
    private void LendBatched(FrameBatch batch, UringFrameIo uring)
    {
        Span<int> slots = stackalloc int[FrameBatchMaximum];
        Span<int> results = stackalloc int[FrameBatchMaximum];
        int frameMax = Capabilities.MaxFrameSize, header = HeaderSize;
        for (int attempt = 0; attempt < MaximumReadAttempts && !batch.IsFull; attempt++)
        {
            int want = Math.Min(Math.Min(batch.Limit - batch.Count, uring.LendLimit - batch.Count), FrameBatchMaximum);
            if (want <= 0) return;
            int taken = uring.TakeReads(slots[..want], results);
            if (taken == 0)
            {
                batch.MarkDrained();   // no completed read left
                return;
            }
            bool stop = false;
            for (int i = 0; i < taken; i++)
            {
                int slot = slots[i], result = results[i];
                if (stop || result <= 0)
                {
                    // A failed read, or any taken after one that ends the lend: back in flight, not lent.
                    uring.Rearm(slot);
                    if (!stop) stop = !RetryAfterFailedRead(-result);
                    continue;
                }
                var memory = uring.ReceiveSlot(slot);
                int length = Accept(result, memory.Span[..header], memory.Span.Slice(header, frameMax));
                if (length > 0) batch.Add(this, memory.Slice(header, length), slot);
                else uring.Rearm(slot);
            }
            if (stop) return;
        }
    }

    private const int FrameBatchMaximum = 64;

    // Checks one read: `read` is what it returned (the header included with offloads), `header` the virtio-net header's
    // bytes, `frameArea` where the frame went (a read of more than fits was cut short). Returns the frame's length, or
    // 0 when it is dropped (and counted).
    private int Accept(nint read, ReadOnlySpan<byte> header, ReadOnlySpan<byte> frameArea)
    {
        nint n = read;
        if (_offloads)
        {
            if (n < VirtioNetHeader.Size)
            {
                _receiveErrors++;
                return 0;
            }
            n -= VirtioNetHeader.Size;
            if (n == 0) return 0;
        }
        if (n > frameArea.Length)
        {
            _oversizeDropped++;
            return 0;
        }
        if (_offloads)
        {
            var frame = frameArea[..(int)n];
            if (!VirtioNetHeader.Read(header).ChecksumTrusted
                && !(_tun ? TransportChecksum.IsValidOrNotApplicablePacket(frame) : TransportChecksum.IsValidOrNotApplicable(frame)))
            {
                _checksumErrors++;
                return 0;
            }
            if (n > Capabilities.Mtu + _linkHeader) _largeFramesReceived++;
        }
        _framesReceived++;
        _bytesReceived += n;
        return (int)n;
    }

    // After a failed read (errno): true to try again (EINTR); false to stop, nothing being ready (EAGAIN) or an error (counted).
    private bool RetryAfterFailedRead(int errno)
    {
        if (errno == Libc.EINTR) return true;
        if (errno == Libc.EAGAIN) return false;
        LastErrno = errno;
        _receiveErrors++;
        return false;
    }

    // One frame per read. A plain read() of a longer frame returns the truncated length, indistinguishable from a
    // frame that fits exactly; readv() into the buffer and one spill byte returns buffer.Length + 1 instead.
    // The only unsafe code in the links: the buffer's address for the iovec (no allocation, pinned for the call).
    // With offloads the virtio-net header comes first, read into its own buffer.
    private unsafe nint ReadFrame(Span<byte> buffer)
    {
        byte spill = 0;
        fixed (byte* start = buffer)
        fixed (byte* header = _receiveHeader)
        {
            if (_offloads)
            {
                Span<IoVec> withHeader = [new IoVec((nint)header, VirtioNetHeader.Size), new IoVec((nint)start, (nuint)buffer.Length), new IoVec((nint)(&spill), 1)];
                return Libc.ReadVector(_tap, ref withHeader[0], withHeader.Length);
            }
            Span<IoVec> vectors = [new IoVec((nint)start, (nuint)buffer.Length), new IoVec((nint)(&spill), 1)];
            return Libc.ReadVector(_tap, ref vectors[0], vectors.Length);
        }
    }

    // The io_uring path, with readv's contract: the bytes read, or -1 and errno (EAGAIN when nothing is ready).
    private nint ReadBatched(Span<byte> buffer)
    {
        int r = _uring!.TryRead(_receiveHeader, buffer);
        if (r > 0) return r;
        Marshal.SetLastPInvokeError(r == 0 ? Libc.EAGAIN : -r);
        return -1;
    }

    private unsafe nint WriteWithHeader(ReadOnlySpan<byte> frame)
    {
        fixed (byte* start = frame)
        fixed (byte* header = _sendHeader)
        {
            Span<IoVec> vectors = [new IoVec((nint)header, VirtioNetHeader.Size), new IoVec((nint)start, (nuint)frame.Length)];
            return Libc.WriteVector(_tap, ref vectors[0], vectors.Length);
        }
    }

    /// <inheritdoc/>
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (frame.IsEmpty) return false;
        if (_offloads) new VirtioNetHeader(0, VirtioNetHeader.GsoNone, 0, 0, 0, 0).WriteTo(_sendHeader);   // a whole frame, checksums complete
        return Write(frame);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Needs offloads; the frame must be Ethernet II, IPv4 or IPv6 (with no extension headers) and TCP, with the
    /// pseudo-header sum in the checksum field.
    /// </remarks>
    public bool TrySendTcpSegments(ReadOnlySpan<byte> frame, int segmentSize)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int l2 = _linkHeader;
        if (!_offloads || segmentSize <= 0 || segmentSize > ushort.MaxValue || frame.Length < l2 + 40) return false;
        bool ipv6 = _tun ? frame[0] >> 4 == 6 : frame[12] == 0x86 && frame[13] == 0xDD;
        int ipHeader = ipv6 ? 40 : (frame[l2] & 0x0F) * 4;
        int transport = l2 + ipHeader;
        if (frame.Length < transport + 20 || (ipv6 && frame[l2 + 6] != 6)) return false;
        int tcpHeader = (frame[transport + 12] >> 4) * 4;
        // RFC 3168 6.1.2: CWR belongs on the first segment only; the kernel does that for VIRTIO_NET_HDR_GSO_ECN, which it
        // takes only with TUN_F_TSO_ECN. Without it the caller cuts the frame in software (CWR on the first piece).
        byte gso = ipv6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4;
        if ((frame[transport + 13] & 0x80) != 0)
        {
            if (!TsoEcn) return false;
            gso |= VirtioNetHeader.GsoEcn;
        }
        // A frame without NEEDS_CSUM is taken by write() and then dropped by the kernel: always set it (TOOLCHAIN.md).
        new VirtioNetHeader(VirtioNetHeader.NeedsChecksum, gso, (ushort)(transport + tcpHeader),
            (ushort)segmentSize, (ushort)transport, 16).WriteTo(_sendHeader);
        if (!Write(frame)) return false;
        _largeFramesSent++;
        return true;
    }

    private bool Write(ReadOnlySpan<byte> frame)
    {
        if (_uring is not null) return _uring.TryWrite(_sendHeader, frame);
        if (_transmitter is not null) return _transmitter.Enqueue(frame);
        while (true)
        {
            nint n = _offloads ? WriteWithHeader(frame) : Libc.Write(_tap, ref MemoryMarshal.GetReference(frame), (nuint)frame.Length);
            int result = n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
            if (result == -Libc.EINTR) continue;
            return Count(frame.Length, result);
        }
    }

    // Counts one write's outcome: result is what write() returned, or -errno. On the transmit thread when there is one.
    private void Written(int length, int result) => _ = Count(length, result);

    private bool Count(int length, int result)
    {
        int expected = length + (_offloads ? VirtioNetHeader.Size : 0);
        if (result == expected)
        {
            _framesSent++;
            _bytesSent += length;
            return true;
        }
        if (result >= 0)
        {
            _sendErrors++;
            return false;
        }
        if (result == -Libc.EAGAIN)
        {
            _sendWouldBlock++;
            return false;
        }
        LastErrno = -result;
        _sendErrors++;
        return false;
    }

    /// <inheritdoc/>
    public bool WaitReadable(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_uring is not null) return WaitBatched(timeout);
        Span<PollFd> fds = [new PollFd(_tap, Libc.POLLIN), new PollFd(_wake, Libc.POLLIN), new PollFd(_extra, Libc.POLLIN)];
        if (!PollWait.Wait(_extra >= 0 ? fds : fds[..2], timeout, out int errno))
        {
            LastErrno = errno;
            _receiveErrors++;
            return false;
        }
        if ((fds[1].ReturnedEvents & Libc.POLLIN) != 0) PollWait.DrainEventFd(_wake);
        // An error or hang-up (device deleted) also reports readable, so the caller's TryReceive sees and counts it.
        return (fds[0].ReturnedEvents & (Libc.POLLIN | Libc.POLLERR | Libc.POLLHUP)) != 0;
    }

    // With io_uring the ring's descriptor stands for the TAP: readable when completions wait. Completions of writes
    // alone do not make a frame ready, so the wait goes on (to the timeout) until a read completed or Interrupt.
    private bool WaitBatched(TimeSpan timeout)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            if (_uring!.PrepareWait()) return true;
            var left = timeout;
            if (timeout >= TimeSpan.Zero)
            {
                left = timeout - System.Diagnostics.Stopwatch.GetElapsedTime(start);
                if (left <= TimeSpan.Zero) return false;
            }
            Span<PollFd> fds = [new PollFd(_uring.FileDescriptor, Libc.POLLIN), new PollFd(_wake, Libc.POLLIN), new PollFd(_extra, Libc.POLLIN)];
            if (!PollWait.Wait(_extra >= 0 ? fds : fds[..2], left, out int errno))
            {
                LastErrno = errno;
                _receiveErrors++;
                return false;
            }
            if ((fds[1].ReturnedEvents & Libc.POLLIN) != 0)
            {
                PollWait.DrainEventFd(_wake);
                return _uring.PrepareWait();
            }
            if ((fds[2].ReturnedEvents & Libc.POLLIN) != 0) return _uring.PrepareWait();   // the extra descriptor's owner has work
            if ((fds[0].ReturnedEvents & (Libc.POLLIN | Libc.POLLERR | Libc.POLLHUP)) == 0) return false;
        }
    }

    /// <inheritdoc/>
    int IExtraWait.ExtraWaitDescriptor { get => _extra; set => _extra = value; }

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
        _transmitter?.Dispose();
        _uring?.Dispose();   // drains the reads in flight before the TAP closes
        _tapHandle.Dispose();
    }
}
