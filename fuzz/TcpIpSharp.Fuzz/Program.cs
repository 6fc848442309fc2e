using SharpFuzz;
using TcpIpSharp.Fuzz;

// TcpIpSharp.Fuzz TARGET [--libfuzzer]. See fuzz/README.md.
// Nothing of the instrumented TcpIpSharp.dll may run before Fuzzer.*.Run sets up the coverage map (SharpFuzz's
// trace array is null until then): FuzzTargets is first touched inside the callback.
string[] names = ["receive", "stateful", "dns", "dhcp", "tcp-options", "mdns", "ntp"];
if (args.Length < 1 || !names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: TcpIpSharp.Fuzz TARGET [--libfuzzer]; targets: {string.Join(", ", names)}");
    return 2;
}
string name = args[0];
if (args.Length > 1 && args[1] == "--libfuzzer")
{
    Fuzzer.LibFuzzer.Run(span => FuzzTargets.All[name](span.ToArray()));
}
else
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        FuzzTargets.All[name](copy.ToArray());
    });
}
return 0;
