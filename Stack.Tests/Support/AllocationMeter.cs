namespace TcpIpSharp.Tests.Support;

/// <summary>
/// Counts the bytes a piece of code allocates on the calling thread, exactly.
/// </summary>
/// <remarks>
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> is exact between two reads on one thread as long as no garbage
/// collection runs in between: the count changes only when this thread takes a new allocation context (it
/// allocated) or when a collection retires the context. Across a collection it can be off by a few kilobytes even
/// when nothing was allocated (the runtime's own test of it is lenient for that reason, dotnet/runtime#63487); in a
/// full test run other tests' threads still allocate and collections happen at any time. So a window that saw a
/// collection and counted bytes is measured again, up to <paramref name="attempts"/> times; a window without a
/// collection is final, whatever it counted. A real allocation on the path repeats in every window and fails.
/// </remarks>
internal static class AllocationMeter
{
    public static long BytesAllocatedBy(Action window, int attempts = 4)
    {
        long bytes = 0;
        for (int attempt = 1; attempt <= attempts; attempt++)
        {
            int collections = GC.CollectionCount(0);
            long before = GC.GetAllocatedBytesForCurrentThread();
            window();
            bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            if (bytes == 0 || GC.CollectionCount(0) == collections) return bytes;
            TestContext.Out.WriteLine($"allocation window {attempt}: {bytes} bytes counted with a garbage collection inside the window (the per-thread count is inexact across one); measuring again");
        }
        return bytes;
    }
}
