using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace TcpIpSharp.Bench.Throughput;

/// <summary>
/// (e) Single-thread memory copy bandwidth, the physical reference for the in-memory pair: Buffer.MemoryCopy of
/// 64 KB blocks walking through two 32 MB buffers (larger than the caches, so it is memory bandwidth).
/// </summary>
[SupportedOSPlatform("linux")]
internal static class MemcpyCase
{
    private const int Block = 64 * 1024;
    private const int Size = 32 << 20;

    public static Measurement Run(TimeSpan length, CancellationToken token)
    {
        var worker = new Worker("memcpy", Copy);
        try
        {
            var s = MeasurementWindow.Run("(e) memcpy", length, () => worker.Bytes, () => worker.Failure, token);
            return new Measurement("(e) Buffer.MemoryCopy 64 KB blocks", "one thread", s.Gbps, s.User, s.System, s.Bytes, s.Elapsed, "CPU: the copying thread");
        }
        finally
        {
            worker.Stop(TimeSpan.FromSeconds(5));
        }
    }

    private static unsafe void Copy(Worker w)
    {
        byte* source = (byte*)NativeMemory.AlignedAlloc(Size, 4096);
        byte* destination = (byte*)NativeMemory.AlignedAlloc(Size, 4096);
        try
        {
            new Span<byte>(source, Size).Fill(1);
            new Span<byte>(destination, Size).Clear();
            int offset = 0;
            while (!w.Stopping)
            {
                for (int i = 0; i < 64; i++)
                {
                    Buffer.MemoryCopy(source + offset, destination + offset, Block, Block);
                    offset += Block;
                    if (offset == Size) offset = 0;
                }
                w.Add(64L * Block);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(source);
            NativeMemory.AlignedFree(destination);
        }
    }
}
