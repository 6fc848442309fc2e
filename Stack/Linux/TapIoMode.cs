namespace TcpIpSharp.Linux;

/// <summary>How a <see cref="TapLink"/> moves frames to and from the kernel.</summary>
public enum TapIoMode
{
    /// <summary>One non-blocking <c>read</c> and one <c>write</c> system call per frame (optionally from a transmit thread).</summary>
    PerFrame = 0,
    /// <summary>Batches through io_uring: reads kept outstanding, many writes per <c>io_uring_enter</c>; opening fails when io_uring is unavailable.</summary>
    IoUring = 1,
    /// <summary>
    /// Without offloads, io_uring when the kernel allows it (not disabled, no seccomp filter, 5.4+), otherwise per frame.
    /// With offloads per frame: each call already carries up to 64 KB, and the ring's slots would add a copy of each.
    /// </summary>
    Auto = 2,
    /// <summary>
    /// As <see cref="IoUring"/>, with a kernel thread that polls the submission ring (<c>IORING_SETUP_SQPOLL</c>) and
    /// issues the reads and writes: the TAP's writes, and in them the kernel's receive of every frame the stack sends
    /// (the peer's TCP input), run on that thread, in parallel with the stack's. Costs a second busy thread while
    /// frames flow, and it spins 2 ms after the last before it sleeps; opening fails when io_uring or polling is unavailable.
    /// </summary>
    IoUringPolled = 3,
}
