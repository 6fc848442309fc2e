using System.Diagnostics;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>
/// <c>dotnet run --project Stack.Bench -c Release -- profile NAME [SECONDS] [CONNECTIONS]</c>: runs one per-packet
/// operation in a loop for a while (to record with <c>perf record</c>, with <c>DOTNET_PerfMapEnabled=1</c>) and prints ns
/// per packet. NAME is a method of <see cref="PerPacketBenchmark"/> or <see cref="TcpSendBenchmark"/>.
/// </summary>
internal static class ProfileCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0) { Console.Error.WriteLine("usage: profile NAME [SECONDS] [CONNECTIONS]"); return 2; }
        string name = args[0];
        double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
        int connections = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1;
        Action op;
        Action? before = null;
        int perOp = 1;
        if (name is nameof(TcpSendBenchmark.PureAck) or nameof(TcpSendBenchmark.SegmentSent))
        {
            var b = new TcpSendBenchmark { Connections = connections };
            b.Setup();
            perOp = 2048;
            if (name == nameof(TcpSendBenchmark.PureAck)) { op = b.PureAck; before = b.SendForAcks; }
            else { op = b.SegmentSent; before = b.AckAll; }
        }
        else
        {
            var b = new PerPacketBenchmark { Connections = connections };
            b.Setup();
            var method = typeof(PerPacketBenchmark).GetMethod(name) ?? throw new ArgumentException("no benchmark " + name);
            op = (Action)Delegate.CreateDelegate(typeof(Action), b, method, throwOnBindFailure: false)!
                ?? (() => method.Invoke(b, null));
            if (name is nameof(PerPacketBenchmark.TcpDataReceived) or nameof(PerPacketBenchmark.TcpDataReceivedBatch)) perOp = 32;
        }
        var measured = TimeSpan.Zero;
        long packets = 0;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds)
        {
            before?.Invoke();
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < (before is null ? 1000 : 1); i++) { op(); packets += perOp; }
            measured += Stopwatch.GetElapsedTime(start);
        }
        Console.WriteLine($"{name} at {connections} connections: {measured.TotalNanoseconds / packets:F1} ns per packet over {packets} packets");
        return 0;
    }
}
