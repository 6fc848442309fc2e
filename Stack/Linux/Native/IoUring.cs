using System.Runtime.InteropServices;

namespace TcpIpSharp.Linux.Native;

/// <summary>
/// A minimal io_uring (Linux 5.4+, <c>IORING_FEAT_SINGLE_MMAP</c>) over raw system calls: <c>io_uring_setup</c> and
/// <c>io_uring_enter</c> through libc's <c>syscall(2)</c>, the submission and completion rings mmap'd from the ring's
/// descriptor. No native library. One thread at a time may use an instance (the caller serialises).
/// </summary>
/// <remarks>
/// <para>The rings are shared memory: the kernel moves the submission head and the completion tail, this side the
/// submission tail and the completion head; each index is read with acquire and published with release semantics
/// (<see cref="Volatile"/>), as liburing's <c>io_uring_smp_load_acquire</c> / <c>store_release</c>. Indices are free-running
/// 32-bit counters masked into the rings, so they wrap around 2^32 without special cases.</para>
/// <para>Memory a submitted operation reads or writes must stay pinned until its completion is reaped (or the ring is
/// closed and every operation drained): callers use pinned arrays allocated once.</para>
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed unsafe partial class IoUring : IDisposable
{
    // Generic system call numbers (x86-64 and arm64 alike since Linux 5.1).
    private const long SysSetup = 425, SysEnter = 426;

    public const byte OpNop = 0, OpReadV = 1, OpWriteV = 2, OpAsyncCancel = 14, OpRead = 22, OpWrite = 23;
    public const uint EnterGetEvents = 1;
    private const uint EnterSqWakeup = 2, SetupSqPoll = 2, SqNeedWakeup = 1;
    private const uint FeatSingleMmap = 1;
    private const uint AsyncCancelAny = 1 << 2;
    private const long OffSqRing = 0, OffSqes = 0x10000000;
    private const int ProtRead = 1, ProtWrite = 2, MapShared = 1, MapPopulate = 0x8000;
    private const int SqeSize = 64, CqeSize = 16, ParamsSize = 120;

    private readonly int _fd;
    private readonly byte* _ring;
    private readonly nuint _ringSize;
    private readonly byte* _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead, _sqTail, _sqArray, _cqHead, _cqTail;
    private readonly uint _sqMask, _cqMask;
    private readonly byte* _cqes;
    private readonly uint* _sqFlags;   // IORING_SQ_NEED_WAKEUP: the polling thread went to sleep
    private uint _sqLocalTail;   // SQEs prepared, not yet published to the kernel
    private bool _disposed;

    private IoUring(int fd, byte* ring, nuint ringSize, byte* sqes, nuint sqesSize, ReadOnlySpan<byte> p)
    {
        _fd = fd;
        _ring = ring;
        _ringSize = ringSize;
        _sqes = sqes;
        _sqesSize = sqesSize;
        SubmissionEntries = U32(p, 0);
        CompletionEntries = U32(p, 4);
        Features = U32(p, 20);
        _sqHead = (uint*)(ring + U32(p, 40));
        _sqTail = (uint*)(ring + U32(p, 44));
        _sqMask = *(uint*)(ring + U32(p, 48));
        _sqArray = (uint*)(ring + U32(p, 64));
        _sqFlags = (uint*)(ring + U32(p, 56));
        SubmissionPolling = (U32(p, 8) & SetupSqPoll) != 0;
        _cqHead = (uint*)(ring + U32(p, 80));
        _cqTail = (uint*)(ring + U32(p, 84));
        _cqMask = *(uint*)(ring + U32(p, 88));
        _cqes = ring + U32(p, 100);
        _sqLocalTail = *_sqTail;
        // The SQ array maps ring slots to SQE indices; this side always uses slot i for SQE i.
        for (uint i = 0; i < SubmissionEntries; i++) _sqArray[i] = i;
    }

    private static uint U32(ReadOnlySpan<byte> p, int offset) => MemoryMarshal.Read<uint>(p[offset..]);

    /// <summary>The descriptor of the ring: readable (poll) when completions are waiting.</summary>
    public int FileDescriptor => _fd;
    /// <summary>Submission ring size (a power of two, at least what was asked).</summary>
    public uint SubmissionEntries { get; }
    /// <summary>Completion ring size (twice the submission ring's by default).</summary>
    public uint CompletionEntries { get; }
    /// <summary>IORING_FEAT_* the kernel reported.</summary>
    public uint Features { get; }
    /// <summary>
    /// True when a kernel thread of the ring polls the submission ring (<c>IORING_SETUP_SQPOLL</c>) and issues what is
    /// published there: the operations then run on that thread, not in the caller's <c>io_uring_enter</c>.
    /// </summary>
    public bool SubmissionPolling { get; }
    /// <summary>io_uring_enter calls made (the system calls this ring cost).</summary>
    public long Enters { get; private set; }
    /// <summary>SQEs prepared and not yet consumed by the kernel (also those a short submit left in the ring).</summary>
    public uint Unsubmitted => _sqLocalTail - Volatile.Read(ref *_sqHead);

    /// <summary>
    /// Sets up a ring of at least <paramref name="entries"/> submission entries; null with the reason when the kernel
    /// refuses (ENOSYS: too old; EPERM: io_uring_disabled or seccomp) or lacks single-mmap rings. With
    /// <paramref name="submissionPollIdleMilliseconds"/> above 0 a kernel thread polls the submission ring
    /// (<c>IORING_SETUP_SQPOLL</c>, unprivileged since Linux 5.11) and sleeps after that long without work.
    /// </summary>
    public static IoUring? TryCreate(uint entries, out string? error, uint submissionPollIdleMilliseconds = 0)
    {
        byte* raw = stackalloc byte[ParamsSize];
        var p = new Span<byte>(raw, ParamsSize);
        p.Clear();
        if (submissionPollIdleMilliseconds > 0)
        {
            MemoryMarshal.Write(p[8..], SetupSqPoll);                       // flags
            MemoryMarshal.Write(p[16..], submissionPollIdleMilliseconds);   // sq_thread_idle
        }
        int fd = (int)Syscall(SysSetup, (nint)entries, (nint)raw, 0, 0, 0, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            error = $"io_uring_setup: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})" + errno switch
            {
                38 => "; the kernel has no io_uring (5.1+ needed)",
                1 => "; io_uring is disabled (kernel.io_uring_disabled) or a seccomp filter forbids it",
                _ => "",
            };
            return null;
        }
        if ((U32(p, 20) & FeatSingleMmap) == 0)
        {
            Libc.Close(fd);
            error = "io_uring without IORING_FEAT_SINGLE_MMAP (a kernel before 5.4)";
            return null;
        }
        uint sqEntries = U32(p, 0), cqEntries = U32(p, 4);
        nuint sqSize = U32(p, 64) + sqEntries * 4u, cqSize = U32(p, 100) + cqEntries * (uint)CqeSize;
        nuint ringSize = Math.Max(sqSize, cqSize);
        byte* ring = (byte*)Mmap(0, ringSize, ProtRead | ProtWrite, MapShared | MapPopulate, fd, OffSqRing);
        if (ring == (byte*)-1)
        {
            error = "mmap of the io_uring rings: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            Libc.Close(fd);
            return null;
        }
        nuint sqesSize = sqEntries * (uint)SqeSize;
        byte* sqes = (byte*)Mmap(0, sqesSize, ProtRead | ProtWrite, MapShared | MapPopulate, fd, OffSqes);
        if (sqes == (byte*)-1)
        {
            error = "mmap of the io_uring SQEs: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
            Munmap((nint)ring, ringSize);
            Libc.Close(fd);
            return null;
        }
        error = null;
        return new IoUring(fd, ring, ringSize, sqes, sqesSize, p);
    }

    /// <summary>Prepares one SQE (false when the submission ring is full: submit first). Published by <see cref="Submit"/>.</summary>
    public bool TryPrepare(byte opcode, int fd, nint address, uint length, ulong offset, ulong userData, uint opFlags = 0)
    {
        uint head = Volatile.Read(ref *_sqHead);
        if (_sqLocalTail - head >= SubmissionEntries) return false;
        byte* sqe = _sqes + (nuint)(_sqLocalTail & _sqMask) * SqeSize;
        new Span<byte>(sqe, SqeSize).Clear();
        sqe[0] = opcode;
        *(int*)(sqe + 4) = fd;
        *(ulong*)(sqe + 8) = offset;
        *(ulong*)(sqe + 16) = (ulong)address;
        *(uint*)(sqe + 24) = length;
        *(uint*)(sqe + 28) = opFlags;
        *(ulong*)(sqe + 32) = userData;
        _sqLocalTail++;
        return true;
    }

    /// <summary>Prepares a cancellation of every operation on <paramref name="fd"/> (IORING_ASYNC_CANCEL_FD | ANY, Linux 5.19+).</summary>
    public bool TryPrepareCancelAll(int fd, ulong userData)
        => TryPrepare(OpAsyncCancel, fd, 0, 0, 0, userData, AsyncCancelAny | (1 << 1));

    /// <summary>
    /// Publishes the prepared SQEs and enters the kernel to submit them and, with <paramref name="waitFor"/> &gt; 0, waits
    /// for that many completions. Returns the number submitted, or -errno (EINTR, EBUSY while the completion ring is full,
    /// EAGAIN). Makes no system call when there is nothing to submit and nothing to wait for; with
    /// <see cref="SubmissionPolling"/> only to wake the polling thread when it slept, or to wait.
    /// </summary>
    public int Submit(uint waitFor = 0)
    {
        // As liburing: everything between the kernel's head and the new tail, so SQEs a short submit left are retried.
        uint toSubmit = _sqLocalTail - Volatile.Read(ref *_sqHead);
        if (toSubmit == 0 && waitFor == 0) return 0;
        Volatile.Write(ref *_sqTail, _sqLocalTail);
        if (SubmissionPolling)
        {
            // The polling thread takes what the tail publishes; a system call only wakes it (when it slept) or waits.
            // The full barrier orders the tail's store before the flag's load, as liburing's io_uring_smp_mb().
            Interlocked.MemoryBarrier();
            uint flags = (Volatile.Read(ref *_sqFlags) & SqNeedWakeup) != 0 ? EnterSqWakeup : 0;
            if (waitFor > 0) flags |= EnterGetEvents;
            if (flags == 0) return (int)toSubmit;
            Enters++;
            long polled = Syscall(SysEnter, _fd, (nint)toSubmit, (nint)waitFor, (nint)flags, 0, 0);
            return polled >= 0 ? (int)toSubmit : -Marshal.GetLastPInvokeError();
        }
        Enters++;
        long r = Syscall(SysEnter, _fd, (nint)toSubmit, (nint)waitFor, (nint)(waitFor > 0 ? EnterGetEvents : 0), 0, 0);
        return r >= 0 ? (int)r : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Reads the oldest completion without consuming it; false when the completion ring is empty (no system call).</summary>
    public bool TryPeek(out ulong userData, out int result)
    {
        uint head = *_cqHead;
        if (head == Volatile.Read(ref *_cqTail))
        {
            userData = 0;
            result = 0;
            return false;
        }
        byte* cqe = _cqes + (nuint)(head & _cqMask) * CqeSize;
        userData = *(ulong*)cqe;
        result = *(int*)(cqe + 8);
        return true;
    }

    /// <summary>Consumes the completion <see cref="TryPeek"/> returned, handing its slot back to the kernel.</summary>
    public void Advance() => Volatile.Write(ref *_cqHead, *_cqHead + 1);

    /// <summary>Completions waiting to be reaped.</summary>
    public uint Ready => Volatile.Read(ref *_cqTail) - *_cqHead;

    /// <summary>Unmaps the rings and closes the descriptor; the kernel cancels what is still in flight.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Munmap((nint)_sqes, _sqesSize);
        Munmap((nint)_ring, _ringSize);
        Libc.Close(_fd);
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);
}
