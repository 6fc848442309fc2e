using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using TcpIpSharp.Linux.Native;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// The io_uring wrapper against the running kernel (no root needed): setup, submission, completion, and the shared
/// rings' indices running around the rings many times. These machines have io_uring (kernel.io_uring_disabled = 0, no
/// seccomp); where the kernel refuses it, every test fails naming why.
/// </summary>
[SupportedOSPlatform("linux")]
public class IoUringTests
{
    private static IoUring Create(uint entries)
    {
        var ring = IoUring.TryCreate(entries, out string? error);
        if (ring is null) Assert.Fail($"io_uring is unavailable on this machine: {error}");
        return ring!;
    }

    [Test]
    public void Setup_rounds_the_rings_to_powers_of_two_and_the_kernel_maps_them_once()
    {
        using var ring = Create(6);
        Assert.Multiple(() =>
        {
            Assert.That(ring.SubmissionEntries, Is.EqualTo(8));
            Assert.That(ring.CompletionEntries, Is.EqualTo(16));
            Assert.That(ring.Features & 1, Is.EqualTo(1), "IORING_FEAT_SINGLE_MMAP");
            Assert.That(ring.FileDescriptor, Is.GreaterThan(2));
            Assert.That(ring.Ready, Is.Zero);
        });
    }

    [Test]
    public void Nops_complete_with_their_user_data_and_one_enter_submits_the_batch()
    {
        using var ring = Create(8);
        for (ulong i = 1; i <= 5; i++) Assert.That(ring.TryPrepare(IoUring.OpNop, -1, 0, 0, 0, i), Is.True);
        Assert.That(ring.Unsubmitted, Is.EqualTo(5));
        Assert.That(ring.Submit(waitFor: 5), Is.EqualTo(5));
        Assert.That(ring.Enters, Is.EqualTo(1));
        var seen = new List<ulong>();
        while (ring.TryPeek(out ulong data, out int result))
        {
            Assert.That(result, Is.Zero);
            seen.Add(data);
            ring.Advance();
        }
        Assert.That(seen, Is.EqualTo(new ulong[] { 1, 2, 3, 4, 5 }));
        Assert.That(ring.Submit(), Is.Zero, "nothing to submit or wait for");
        Assert.That(ring.Enters, Is.EqualTo(1), "no system call for an empty submit");
    }

    [Test]
    public void A_full_submission_ring_refuses_more_until_submitted_and_the_indices_wrap_around_the_rings()
    {
        using var ring = Create(4);
        ulong next = 0, expected = 0;
        for (int round = 0; round < 5_000; round++)
        {
            int batch = 1 + round % 4;
            for (int i = 0; i < batch; i++) Assert.That(ring.TryPrepare(IoUring.OpNop, -1, 0, 0, 0, next++), Is.True);
            if (batch == 4) Assert.That(ring.TryPrepare(IoUring.OpNop, -1, 0, 0, 0, 999), Is.False, "the submission ring is full");
            Assert.That(ring.Submit(waitFor: (uint)batch), Is.EqualTo(batch));
            while (ring.TryPeek(out ulong data, out int result))
            {
                if (data != expected++ || result != 0) Assert.Fail($"completion {data} (res {result}) where {expected - 1} was due");
                ring.Advance();
            }
        }
        Assert.That(expected, Is.EqualTo(next));
        Assert.That(next, Is.GreaterThan(1000 * ring.CompletionEntries), "the indices ran around both rings many times");
    }

    [Test]
    public void A_write_and_a_read_move_bytes_through_pinned_buffers()
    {
        using var ring = Create(8);
        int fd = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        Assert.That(fd, Is.GreaterThan(0));
        try
        {
            var memory = GC.AllocateArray<byte>(16, pinned: true);
            MemoryMarshal.Write(memory, 41UL);
            nint address = Marshal.UnsafeAddrOfPinnedArrayElement(memory, 0);
            Assert.That(ring.TryPrepare(IoUring.OpWrite, fd, address, 8, 0, 7), Is.True);
            Assert.That(ring.TryPrepare(IoUring.OpRead, fd, address + 8, 8, 0, 8), Is.True);
            Assert.That(ring.Submit(waitFor: 2), Is.EqualTo(2));
            var results = new Dictionary<ulong, int>();
            while (ring.TryPeek(out ulong data, out int result)) { results[data] = result; ring.Advance(); }
            Assert.Multiple(() =>
            {
                Assert.That(results[7], Is.EqualTo(8), "the eventfd took 8 bytes");
                Assert.That(results[8], Is.EqualTo(8), "the eventfd gave its counter back");
                Assert.That(MemoryMarshal.Read<ulong>(memory.AsSpan(8)), Is.EqualTo(41UL));
            });
            // Nothing to read now: a read of the empty non-blocking eventfd stays in flight (poll-armed) or fails with EAGAIN.
            Assert.That(ring.TryPrepare(IoUring.OpRead, fd, address + 8, 8, 0, 9), Is.True);
            Assert.That(ring.Submit(), Is.EqualTo(1));
            MemoryMarshal.Write(memory, 5UL);
            Assert.That(ring.TryPrepare(IoUring.OpWrite, fd, address, 8, 0, 10), Is.True);
            Assert.That(ring.Submit(waitFor: 1), Is.EqualTo(1));
            var later = new Dictionary<ulong, int>();
            for (int i = 0; i < 100 && later.Count < 2; i++)
            {
                while (ring.TryPeek(out ulong data, out int result)) { later[data] = result; ring.Advance(); }
                if (later.Count < 2) ring.Submit(waitFor: 1);
            }
            TestContext.Out.WriteLine($"read of an empty eventfd: {(later.TryGetValue(9, out int r9) ? r9 : "pending")}");
            Assert.That(later[10], Is.EqualTo(8));
        }
        finally
        {
            Libc.Close(fd);
        }
    }
}
