using SharpFuzz;
using TcpIpSharp.Fuzz;

// tcpipsharp fuzz entry point: TcpIpSharp.Fuzz TARGET [--libfuzzer]. See fuzz/README.md.
if (args.Length < 1 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: TcpIpSharp.Fuzz TARGET [--libfuzzer]; targets: {string.Join(", ", FuzzTargets.All.Keys)}");
    return 2;
}
if (args.Length > 1 && args[1] == "--libfuzzer")
{
    Fuzzer.LibFuzzer.Run(span => target(span.ToArray()));
}
else
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        target(copy.ToArray());
    });
}
return 0;
