namespace TcpIpSharp.Tests.Support;

/// <summary>
/// Counts the bytes a piece of code allocates on the calling thread.
/// </summary>
/// <remarks>
/// A path that allocates per packet allocates in every window of thousands of packets; a window that counts bytes once
/// and then never again is not the path. Two such one-offs were seen in full test runs under load (1,128 and 6,960
/// bytes, never reproduced alone, never twice in a row): <see cref="GC.GetAllocatedBytesForCurrentThread"/> can be off
/// across a garbage collection (the runtime's own test of it is lenient for that reason, dotnet/runtime#63487), and
/// the runtime may allocate on the thread while tiered compilation replaces code. So the window runs up to
/// <paramref name="attempts"/> times and the least count is returned; every window that counted bytes is reported in
/// the test's output with whether a collection ran inside it.
/// </remarks>
internal static class AllocationMeter
{
    public static long BytesAllocatedBy(Action window, int attempts = 3)
    {
        long least = long.MaxValue;
        for (int attempt = 1; attempt <= attempts; attempt++)
        {
            int collections = GC.CollectionCount(0);
            long before = GC.GetAllocatedBytesForCurrentThread();
            window();
            long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            least = Math.Min(least, bytes);
            if (bytes == 0) return 0;
            TestContext.Out.WriteLine($"allocation window {attempt}: {bytes} bytes counted; {GC.CollectionCount(0) - collections} gen0 collections inside the window");
        }
        return least;
    }
}
