using System.Runtime.InteropServices;
using TcpIpSharp.Linux.Native;

namespace TcpIpSharp.Linux;

/// <summary>
/// A thread of its own that writes a TAP's outgoing frames, fed by the stack's thread through a preallocated
/// single-producer single-consumer ring of frame slots. On a TAP each <c>write</c> is one frame and the kernel runs its
/// whole receive path (IP, TCP, waking the reader) inside that call, several microseconds per frame; on this thread
/// that work overlaps the stack's own instead of following it.
/// </summary>
/// <remarks>
/// <para>The hand-off per frame is a copy into the next slot and one ordered store of the head index; a wake-up (an
/// <c>eventfd</c> write) happens only when the writer had gone to sleep on an empty ring, and the stack's thread sleeps
/// only on a full ring (back-pressure, as a blocking <c>write</c> would give), woken when half of it is free. Nothing
/// allocates after construction.</para>
/// <para>Frames keep their order; a frame is counted as sent (or as an error) by the writer when the kernel took it.</para>
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class TapTransmitter : IDisposable
{
    private readonly int _tap;
    private readonly byte[] _slots;
    private readonly int[] _lengths;
    private readonly int _slotSize;
    private readonly int _mask;
    private readonly int _writerWake;     // eventfd: the ring is no longer empty
    private readonly int _producerWake;   // eventfd: the ring is no longer full
    private readonly Thread _thread;
    private readonly Action<int, int> _written;   // (length, result or -errno): the link's counters
    private Indexes _index;
    private volatile bool _stopping;

    // Head (the producer's) and tail (the writer's) on cache lines of their own, and the two sleep flags.
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Indexes
    {
        [FieldOffset(64)] public long Head;
        [FieldOffset(72)] public int ProducerSleeping;
        [FieldOffset(128)] public long Tail;
        [FieldOffset(136)] public int WriterSleeping;
    }

    /// <summary>How many times the writer spins on an empty ring before it sleeps.</summary>
    private const int WriterSpins = 64;

    /// <summary>Starts the writer thread for <paramref name="tap"/>: <paramref name="slots"/> (a power of two) slots of <paramref name="slotSize"/> bytes.</summary>
    public TapTransmitter(int tap, int slots, int slotSize, Action<int, int> written, string name)
    {
        if (slots < 2 || (slots & (slots - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(slots), "a power of two, at least 2");
        _tap = tap;
        _slotSize = slotSize;
        _mask = slots - 1;
        _slots = GC.AllocateUninitializedArray<byte>(slots * slotSize, pinned: true);
        _lengths = new int[slots];
        _written = written;
        _writerWake = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (_writerWake < 0) throw Libc.Error("eventfd", Marshal.GetLastPInvokeError());
        _producerWake = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (_producerWake < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Libc.Close(_writerWake);
            throw Libc.Error("eventfd", errno);
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "tap-tx " + name };
        _thread.Start();
    }

    /// <summary>Frames queued and not yet written.</summary>
    public int Queued => (int)(Volatile.Read(ref _index.Head) - Volatile.Read(ref _index.Tail));

    /// <summary>Times the stack's thread found the ring full and waited for room.</summary>
    public long FullWaits { get; private set; }

    /// <summary>Times the writer went to sleep on an empty ring (each costs the producer one wake-up).</summary>
    public long WriterSleeps => Volatile.Read(ref _writerSleeps);
    private long _writerSleeps;

    /// <summary>Queues a copy of <paramref name="frame"/> (stack thread only); waits while the ring is full. False once disposed or when the frame does not fit a slot.</summary>
    public bool Enqueue(ReadOnlySpan<byte> frame)
    {
        if (frame.Length > _slotSize || _stopping) return false;
        long head = _index.Head;
        if (head - Volatile.Read(ref _index.Tail) > _mask && !WaitForRoom(head)) return false;
        int slot = (int)(head & _mask);
        frame.CopyTo(_slots.AsSpan(slot * _slotSize, _slotSize));
        _lengths[slot] = frame.Length;
        Volatile.Write(ref _index.Head, head + 1);
        // Dekker with the writer's sleep: publish the head, then look at its flag (it sets the flag, then looks at the head).
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _index.WriterSleeping) != 0 && Interlocked.Exchange(ref _index.WriterSleeping, 0) != 0)
            PollWait.SignalEventFd(_writerWake);
        return true;
    }

    private bool WaitForRoom(long head)
    {
        FullWaits++;
        Span<PollFd> fds = [new PollFd(_producerWake, Libc.POLLIN)];
        while (head - Volatile.Read(ref _index.Tail) > _mask)
        {
            if (_stopping) return false;
            Volatile.Write(ref _index.ProducerSleeping, 1);
            Interlocked.MemoryBarrier();
            if (head - Volatile.Read(ref _index.Tail) <= _mask) break;
            // Bounded: a lost wake-up costs at most this long.
            PollWait.Wait(fds, TimeSpan.FromMilliseconds(5), out _);
            if ((fds[0].ReturnedEvents & Libc.POLLIN) != 0) PollWait.DrainEventFd(_producerWake);
        }
        Volatile.Write(ref _index.ProducerSleeping, 0);
        return true;
    }

    private void Run()
    {
        Span<PollFd> fds = [new PollFd(_writerWake, Libc.POLLIN)];
        while (true)
        {
            long tail = _index.Tail;
            if (tail == Volatile.Read(ref _index.Head))
            {
                if (_stopping) return;
                if (SpinForWork(tail)) continue;
                Volatile.Write(ref _index.WriterSleeping, 1);
                Interlocked.MemoryBarrier();
                if (tail != Volatile.Read(ref _index.Head) || _stopping)
                {
                    Volatile.Write(ref _index.WriterSleeping, 0);
                    continue;
                }
                _writerSleeps++;
                PollWait.Wait(fds, TimeSpan.FromMilliseconds(100), out _);
                if ((fds[0].ReturnedEvents & Libc.POLLIN) != 0) PollWait.DrainEventFd(_writerWake);
                Volatile.Write(ref _index.WriterSleeping, 0);
                continue;
            }
            int slot = (int)(tail & _mask);
            int length = _lengths[slot];
            int result;
            do
            {
                nint n = Libc.Write(_tap, ref _slots[slot * _slotSize], (nuint)length);
                result = n >= 0 ? (int)n : -Marshal.GetLastPInvokeError();
            }
            while (result == -Libc.EINTR);
            _written(length, result);
            Volatile.Write(ref _index.Tail, tail + 1);
            Interlocked.MemoryBarrier();
            // The producer sleeps only on a full ring: wake it when half is free, so that it wakes once per half ring.
            if (Volatile.Read(ref _index.ProducerSleeping) != 0 && Volatile.Read(ref _index.Head) - (tail + 1) <= (_mask + 1) / 2
                && Interlocked.Exchange(ref _index.ProducerSleeping, 0) != 0)
                PollWait.SignalEventFd(_producerWake);
        }
    }

    private bool SpinForWork(long tail)
    {
        for (int i = 0; i < WriterSpins; i++)
        {
            Thread.SpinWait(20);
            if (tail != Volatile.Read(ref _index.Head)) return true;
        }
        return false;
    }

    /// <summary>Writes what is queued, stops the thread, closes the wake-up descriptors (call before closing the TAP).</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        PollWait.SignalEventFd(_writerWake);
        PollWait.SignalEventFd(_producerWake);
        _thread.Join(TimeSpan.FromSeconds(5));
        Libc.Close(_writerWake);
        Libc.Close(_producerWake);
    }
}
