using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TcpIpSharp.Linux.Native;

namespace TcpIpSharp.Linux;

/// <summary>
/// Batched frame I/O on a packet descriptor (a TAP, later a TUN) through <see cref="IoUring"/>: a fixed number of reads
/// kept outstanding into receive slots, and writes queued into transmit slots and submitted many per
/// <c>io_uring_enter</c>. Every slot lives in one pinned array allocated at construction, so the kernel's view of the
/// memory never moves and nothing on the frame path allocates.
/// </summary>
/// <remarks>
/// <para>Receive: free slots have one <c>IORING_OP_READ</c> in flight each, as many at a time as the traffic needs (from
/// <see cref="ArmedReadsMinimum"/> while frames come singly to all of them in bursts; the others wait unarmed), for <c>header + maxFrame + 1</c> bytes (the extra
/// byte tells a frame that was cut short from one that fits exactly, as the per-frame path's spill byte does).
/// Completions are harvested from the shared completion ring without a system call; the slot's read is re-armed
/// when its frame has been copied out, and the re-arms go to the kernel together, with the queued writes, in one
/// <c>io_uring_enter</c> when <see cref="TryRead"/> finds nothing left to hand out, or in <see cref="PrepareWait"/>.</para>
/// <para>Transmit: <see cref="TryWrite"/> copies the frame (after an optional header, the virtio-net one) into a free
/// slot and prepares a write; the batch goes to the kernel when <see cref="SubmitBatch"/> frames are queued, or at the
/// next flush point. A TAP takes a write inline (it does not block), so writes complete in submission order (also with
/// submission polling: the one polling thread issues them in ring order). With no
/// free slot the caller waits for completions, the back-pressure a blocking write gives.</para>
/// <para>Calls are serialised by a lock: the stack's thread polls and waits while a socket call may send under the
/// stack's gate from another thread.</para>
/// </remarks>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed unsafe class UringFrameIo : IDisposable
{
    private const ulong KindRead = 1UL << 32, KindWrite = 2UL << 32, KindCancel = 3UL << 32, KindMask = 0xFFFFFFFFUL << 32;
    private const int ECANCELED = 125;

    private readonly IoUring _ring;
    private readonly int _fd;
    private readonly int _headerSize;
    private readonly Lock _lock = new();
    private readonly Action<int, int> _written;   // (frame length, result or -errno) per completed write

    private readonly byte[] _rxMemory;     // pinned: receive slots
    private readonly byte* _rx;
    private readonly int _rxSlotSize, _rxSlots;
    private readonly int[] _rxResult;
    private readonly int[] _readyQueue;    // slots with a completed read, in completion order
    private int _readyHead, _readyCount;
    private int _readsInFlight;
    // Reads armed at once follow the traffic (_armedLimit, from ArmedReadsMinimum to every slot); the other free slots
    // wait here, unarmed. Every read armed on the TAP has a poll on its wait queue, and each frame that arrives wakes
    // them all: all but one read again, find nothing and arm their poll again (io_uring's task work, on the stack's
    // thread). With 64 armed and frames arriving one at a time that herd was the largest cost of a frame received.
    private readonly int[] _spare;
    private int _spareCount;
    private int _armedLimit;
    private bool _lastReapFilled;          // the last Reap that harvested reads found every armed one filled: a burst waits behind

    private readonly byte[] _txMemory;     // pinned: transmit slots
    private readonly byte* _tx;
    private readonly int _txSlotSize, _txSlots;
    private readonly int[] _txLength;
    private readonly int[] _txFree;
    private int _txFreeCount;
    private int _writesQueued;             // prepared, not yet submitted
    private bool _disposed;

    // Arrays whose operations did not drain at close: kept alive for the process's life, as the kernel may still write.
    private static readonly List<byte[]> s_orphans = [];

    /// <summary>Writes queued before they are submitted without waiting for a flush point.</summary>
    public const int SubmitBatch = 32;

    private UringFrameIo(IoUring ring, int fd, int headerSize, int maxFrame, int rxSlots, int txSlots, Action<int, int> written)
    {
        _ring = ring;
        _fd = fd;
        _headerSize = headerSize;
        _written = written;
        _rxSlots = rxSlots;
        _rxSlotSize = (headerSize + maxFrame + 1 + 63) & ~63;
        _rxMemory = GC.AllocateUninitializedArray<byte>(_rxSlots * _rxSlotSize, pinned: true);
        _rx = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_rxMemory));
        _rxResult = new int[rxSlots];
        _readyQueue = new int[rxSlots];
        _txSlots = txSlots;
        _txSlotSize = (headerSize + maxFrame + 63) & ~63;
        _txMemory = GC.AllocateUninitializedArray<byte>(_txSlots * _txSlotSize, pinned: true);
        _tx = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_txMemory));
        _txLength = new int[txSlots];
        _txFree = new int[txSlots];
        for (int i = 0; i < txSlots; i++) _txFree[i] = txSlots - 1 - i;
        _txFreeCount = txSlots;
        _spare = new int[rxSlots];
        _armedLimit = Math.Min(rxSlots, ArmedReadsMinimum);
        for (int i = rxSlots - 1; i >= 0; i--) GiveBack(i);
        _ring.Submit();
    }

    /// <summary>
    /// Sets up a ring for <paramref name="fd"/> with <paramref name="rxSlots"/> reads outstanding and
    /// <paramref name="txSlots"/> transmit slots, each for a <paramref name="headerSize"/>-byte header and a frame of up to
    /// <paramref name="maxFrame"/> bytes; null with the reason when io_uring is unavailable.
    /// </summary>
    /// <remarks>With <paramref name="submissionPolling"/> a kernel thread of the ring issues the reads and writes
    /// (<see cref="IoUring.SubmissionPolling"/>): a TAP's write, and with it the kernel's receive of the frame, runs on
    /// that thread instead of the caller's, which only fills the rings.</remarks>
    public static UringFrameIo? TryCreate(int fd, int headerSize, int maxFrame, int rxSlots, int txSlots, Action<int, int> written, out string? error,
        bool submissionPolling = false)
    {
        // Every slot holds at most one operation, so the submission ring never overflows and the completion ring
        // (twice its size) never drops a completion.
        var ring = IoUring.TryCreate((uint)(rxSlots + txSlots + 8), out error, submissionPolling ? SubmissionPollIdleMilliseconds : 0);
        if (ring is null) return null;
        return new UringFrameIo(ring, fd, headerSize, maxFrame, rxSlots, txSlots, written);
    }

    /// <summary>The ring's descriptor, readable when completions wait (<c>poll</c> it with the link's wake-up descriptor).</summary>
    public int FileDescriptor => _ring.FileDescriptor;

    /// <summary>
    /// How long the polling thread (<c>submissionPolling</c>) spins without work before it sleeps; the next submission
    /// then wakes it with a system call. While frames flow it never idles that long; after the last it holds a core for this long.
    /// </summary>
    public const uint SubmissionPollIdleMilliseconds = 2;

    /// <summary>True when a kernel thread issues this ring's operations (see <see cref="TryCreate"/>).</summary>
    public bool SubmissionPolling => _ring.SubmissionPolling;

    /// <summary>io_uring_enter calls so far: the system calls the frames cost.</summary>
    public long Enters => _ring.Enters;

    /// <summary>Reads in flight (tests).</summary>
    public int ReadsInFlight => _readsInFlight;

    /// <summary>
    /// The fewest reads armed at once while frames come one or two at a time. Each frame the TAP receives wakes every
    /// armed read's poll, and all but one read, find nothing and arm their poll again, so the cost of a frame that
    /// arrives alone grows with the reads armed. Measured on 100 MB uploads to the kernel with 1% of frames held back
    /// (the kernel's ACKs then come about 4x as often, one at a time): with all 64 armed that task work was 12-21% of
    /// the stack thread's CPU samples (3-6% in the clean run). When a harvest finds every armed read filled (a burst, as
    /// a download's), the number armed doubles up to all the slots; when frames come sparsely it halves back to this
    /// (docs/benchmarks.md).
    /// </summary>
    public const int ArmedReadsMinimum = 8;

    // A slot that is free again (its frame consumed or dropped): armed at once while fewer than the cap are, else spare.
    private void GiveBack(int slot)
    {
        if (_readsInFlight < _armedLimit) ArmRead(slot);
        else _spare[_spareCount++] = slot;
    }

    // Arms spare slots up to the cap (after completions took reads out of flight).
    private void TopUp()
    {
        while (_readsInFlight < _armedLimit && _spareCount > 0) ArmRead(_spare[--_spareCount]);
    }

    private void ArmRead(int slot)
    {
        // Cannot fail: the submission ring has room for every slot's operation.
        _ring.TryPrepare(IoUring.OpRead, _fd, (nint)(_rx + (nuint)slot * (nuint)_rxSlotSize), (uint)(_rxSlotSize), 0, KindRead | (uint)slot);
        _readsInFlight++;
    }

    // Harvests every completion waiting in the ring (no system call).
    private void Reap()
    {
        int reads = 0;
        while (_ring.TryPeek(out ulong userData, out int result))
        {
            _ring.Advance();
            int slot = (int)(uint)userData;
            switch (userData & KindMask)
            {
                case KindRead:
                    _readsInFlight--;
                    if (_disposed) break;
                    // Cancelled (a task that submitted it exited), interrupted or spuriously empty: simply read again.
                    if (result == -ECANCELED || result == -Libc.EINTR || result == -Libc.EAGAIN || result == 0) { ArmRead(slot); break; }
                    _rxResult[slot] = result;
                    _readyQueue[(_readyHead + _readyCount) % _rxSlots] = slot;
                    _readyCount++;
                    reads++;
                    break;
                case KindWrite:
                    _written(_txLength[slot], result);
                    _txFree[_txFreeCount++] = slot;
                    break;
            }
        }
        if (reads > 0)
        {
            _lastReapFilled = reads >= _armedLimit;
            if (reads >= _armedLimit) _armedLimit = Math.Min(_rxSlots, _armedLimit * 2);
            else if (reads * 2 < _armedLimit) _armedLimit = Math.Max(Math.Min(_rxSlots, ArmedReadsMinimum), _armedLimit / 2);
        }
        if (!_disposed) TopUp();
    }

    /// <summary>
    /// As <c>readv(fd, [header, buffer, spill byte])</c> on a non-blocking descriptor: copies the next received frame's
    /// header into <paramref name="header"/> and the frame into <paramref name="buffer"/>, and returns the bytes the
    /// read produced (header included; more than <c>header + buffer</c> when the frame did not fit), 0 when no frame is
    /// ready, or -errno for a failed read.
    /// </summary>
    public int TryRead(Span<byte> header, Span<byte> buffer)
    {
        lock (_lock)
        {
            if (!TakeReady(1, flush: true, out int slot)) return 0;
            int result = _rxResult[slot];
            if (result > 0)
            {
                var data = new ReadOnlySpan<byte>(_rx + (nuint)slot * (nuint)_rxSlotSize, result);
                int h = Math.Min(_headerSize, result);
                data[..h].CopyTo(header);
                int frame = result - h;
                if (frame <= buffer.Length) data.Slice(h, frame).CopyTo(buffer);
                else result = h + buffer.Length + 1;   // as readv reports a frame longer than the buffer
            }
            GiveBack(slot);
            return result;
        }
    }

    // Under the lock: the next completed read's slot, harvesting completions first when fewer than `wanted` are ready;
    // with `flush`, when none is ready, the queued submissions go to the kernel first (a system call).
    private bool TakeReady(int wanted, bool flush, out int slot)
    {
        slot = -1;
        if (_readyCount < wanted)
        {
            Reap();
            if (_readyCount == 0)
            {
                if (!flush) return false;
                // Nothing to hand out: the moment to give the kernel the re-armed reads and the queued writes.
                if (_ring.Unsubmitted > 0) { Flush(); Reap(); }
                if (_readyCount == 0) return false;
            }
        }
        slot = _readyQueue[_readyHead];
        _readyHead = (_readyHead + 1) % _rxSlots;
        _readyCount--;
        return true;
    }

    /// <summary>The most reads <see cref="TakeReads"/> hands out at once: half the slots, so reads stay in flight while frames are lent.</summary>
    public int LendLimit => Math.Max(1, _rxSlots / 2);

    /// <summary>
    /// Takes up to <paramref name="slots"/>' length completed reads without copying (to lend them): each one's slot and
    /// result (bytes read, header included, or -errno); when none is ready, the queued writes and re-armed reads are
    /// submitted first, as <see cref="TryRead"/> does. A taken slot's bytes (<see cref="ReceiveSlot"/>) stay as the
    /// kernel wrote them, with no read in flight into them, until <see cref="Rearm(int)"/>.
    /// </summary>
    public int TakeReads(Span<int> slots, Span<int> results)
    {
        lock (_lock)
        {
            int n = 0;
            // Submits (re-armed reads, queued writes) when nothing is ready at first, and again while every armed read
            // came back with a frame: a burst longer than the armed reads is still queued in the TAP.
            while (n < slots.Length && TakeReady(slots.Length - n, flush: n == 0 || _lastReapFilled, out int slot))
            {
                slots[n] = slot;
                results[n] = _rxResult[slot];
                n++;
            }
            return n;
        }
    }

    /// <summary>Receive slot <paramref name="slot"/>'s memory: the header, then the frame (as a taken read left them).</summary>
    public ReadOnlyMemory<byte> ReceiveSlot(int slot) => new(_rxMemory, slot * _rxSlotSize, _rxSlotSize);

    /// <summary>Gives slot <paramref name="slot"/> (taken by <see cref="TakeReads"/>) back to the kernel: its read is re-armed and goes out with the next submission.</summary>
    public void Rearm(int slot)
    {
        lock (_lock)
        {
            if (!_disposed) GiveBack(slot);
        }
    }

    /// <summary>As <see cref="Rearm(int)"/> for every slot of a returned batch (its tokens), under one lock.</summary>
    public void Rearm(Links.FrameBatch batch)
    {
        lock (_lock)
        {
            if (_disposed) return;
            for (int i = 0; i < batch.Count; i++) GiveBack(batch.TokenAt(i));
        }
    }

    /// <summary>
    /// Queues <paramref name="header"/> (of the header size) and <paramref name="frame"/> for writing; submits when a
    /// batch is full. Waits for a completion when every slot is in flight. False when the frame does not fit a slot.
    /// </summary>
    public bool TryWrite(ReadOnlySpan<byte> header, ReadOnlySpan<byte> frame)
    {
        if (_headerSize + frame.Length > _txSlotSize) return false;
        lock (_lock)
        {
            if (_disposed) return false;
            if (_txFreeCount == 0)
            {
                Reap();
                while (_txFreeCount == 0)
                {
                    // Every slot is queued or in flight: hand them over and wait for one to complete.
                    int r = _ring.Submit(waitFor: 1);
                    _writesQueued = 0;
                    if (r < 0 && r != -Libc.EINTR && r != -Libc.EAGAIN && r != -Libc.EBUSY) return false;
                    Reap();
                }
            }
            int slot = _txFree[--_txFreeCount];
            byte* start = _tx + (nuint)slot * (nuint)_txSlotSize;
            var destination = new Span<byte>(start, _txSlotSize);
            if (_headerSize > 0) header[.._headerSize].CopyTo(destination);
            frame.CopyTo(destination[_headerSize..]);
            _txLength[slot] = frame.Length;
            _ring.TryPrepare(IoUring.OpWrite, _fd, (nint)start, (uint)(_headerSize + frame.Length), 0, KindWrite | (uint)slot);
            if (++_writesQueued >= SubmitBatch) Flush();
            return true;
        }
    }

    // Under the lock: submits what is prepared (reads re-armed, writes queued). EBUSY/EAGAIN leave them for the next flush.
    private void Flush()
    {
        if (_ring.Unsubmitted == 0) return;
        int r = _ring.Submit();
        if (r >= 0) _writesQueued = 0;
    }

    /// <summary>Submits what is queued and reports whether a frame is ready now (then the caller does not sleep).</summary>
    public bool PrepareWait()
    {
        lock (_lock)
        {
            Flush();
            Reap();
            return _readyCount > 0;
        }
    }

    /// <summary>Submits the queued writes and re-armed reads now.</summary>
    public void FlushNow()
    {
        lock (_lock) { Flush(); Reap(); }
    }

    /// <summary>Cancels the reads in flight, waits (up to about a second) for every operation to complete, and closes the ring.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            Flush();
            Reap();
            for (int i = 0; i < _rxSlots; i++)
                _ring.TryPrepare(IoUring.OpAsyncCancel, -1, (nint)(KindRead | (uint)i), 0, 0, KindCancel | (uint)i);
            for (int attempt = 0; attempt < 200 && (_readsInFlight > 0 || _txFreeCount < _txSlots); attempt++)
            {
                _ring.Submit();
                Reap();
                if (_readsInFlight > 0 || _txFreeCount < _txSlots) Thread.Sleep(5);
                Reap();
            }
            if (_readsInFlight > 0 || _txFreeCount < _txSlots)
                lock (s_orphans) { s_orphans.Add(_rxMemory); s_orphans.Add(_txMemory); }
            _ring.Dispose();
        }
    }
}
