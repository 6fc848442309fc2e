using BenchmarkDotNet.Attributes;

namespace TcpIpSharp.Bench;

/// <summary>
/// Parse cost per frame for one protocol: the stack's span views against PacketDotNet's
/// <c>Packet.ParsePacket(LinkLayers.Ethernet, bytes)</c> (the baseline) touching the same fields.
/// Each invocation parses <see cref="BenchFrames.PerInvoke"/> frames; the table reports one.
/// </summary>
[MemoryDiagnoser]
public abstract class ParseBenchmark
{
    private byte[][] _frames = [];

    /// <summary>The protocol this suite parses.</summary>
    protected abstract FrameKind Kind { get; }

    /// <summary>Loads the frames.</summary>
    [GlobalSetup]
    public void Setup() => _frames = BenchFrames.Load(Kind);

    /// <summary>PacketDotNet, the baseline.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BenchFrames.PerInvoke)]
    public long PacketDotNetParse()
    {
        long sum = 0;
        foreach (var frame in _frames) sum += ParseWithPacketDotNet(frame);
        return sum;
    }

    /// <summary>The stack's views.</summary>
    [Benchmark(OperationsPerInvoke = BenchFrames.PerInvoke)]
    public long StackParse()
    {
        long sum = 0;
        foreach (var frame in _frames) sum += ParseWithStack(frame);
        return sum;
    }

    /// <summary>Parses one frame with PacketDotNet and sums the fields read.</summary>
    protected abstract long ParseWithPacketDotNet(byte[] frame);

    /// <summary>Parses one frame with the stack and sums the same fields.</summary>
    protected abstract long ParseWithStack(ReadOnlySpan<byte> frame);
}
