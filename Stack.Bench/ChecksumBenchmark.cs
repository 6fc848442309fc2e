using BenchmarkDotNet.Attributes;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench;

/// <summary>Internet checksum throughput: the vectorised <see cref="InternetChecksum.Compute"/> against the one-word-at-a-time scalar reference (the baseline).</summary>
[MemoryDiagnoser]
public class ChecksumBenchmark
{
    private byte[] _data = [];

    /// <summary>Bytes summed.</summary>
    [Params(64, 576, 1500, 9000, 65535)]
    public int Size { get; set; }

    /// <summary>Fills the buffer with seeded random bytes.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(1071).NextBytes(_data);
    }

    /// <summary>The scalar reference.</summary>
    [Benchmark(Baseline = true)]
    public ushort Scalar() => InternetChecksum.ComputeScalar(_data);

    /// <summary>The vectorised routine the stack uses.</summary>
    [Benchmark]
    public ushort Vectorised() => InternetChecksum.Compute(_data);
}
