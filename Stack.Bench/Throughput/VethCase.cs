using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;

namespace TcpIpSharp.Bench.Throughput;

/// <summary>
/// (c) The kernel to the kernel over a veth pair between two namespaces, one iperf3 TCP connection, with the veth's
/// offloads (checksum, TSO, GSO) on or off: the baseline the TAP figures are compared with. Symmetric, so measured in
/// one direction. CPU is what iperf3 reports for its two processes (getrusage), kernel work in their system calls included.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class VethCase
{
    private const string ServerAddress = "198.51.100.2";

    public static Measurement Run(bool offloads, TimeSpan length, CancellationToken token)
    {
        string name = $"(c) kernel↔kernel veth, offloads {(offloads ? "on" : "off")}";
        const string direction = "kernel→kernel";
        if (Shell.Which("iperf3") is null) return Measurement.NotAvailable(name, direction, "not available: iperf3 is not installed (apt-get install iperf3; ./test.sh installs it)");
        if (!offloads && Shell.Which("ethtool") is null) return Measurement.NotAvailable(name, direction, "not available: ethtool is not installed");
        string tag = offloads ? "on" : "off";
        using var client = BenchNamespace.Create("veth-" + tag + "-a");
        using var server = BenchNamespace.Create("veth-" + tag + "-b");
        client.Ip("link", "add", "vb0", "type", "veth", "peer", "name", "vb1", "netns", server.Name);
        var setting = offloads ? "on" : "off";
        foreach (var (ns, dev) in new[] { (client, "vb0"), (server, "vb1") })
        {
            var features = offloads ? new[] { "tx", "on", "rx", "on", "tso", "on", "gso", "on" } : ["tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off"];
            ns.Exec(TimeSpan.FromSeconds(10), ["ethtool", "-K", dev, .. features]);
        }
        client.Configure("vb0", "198.51.100.1/24");
        server.Configure("vb1", ServerAddress + "/24");
        client.WaitUntilUp("vb0");
        server.WaitUntilUp("vb1");
        server.Start("iperf3", "-s", "-1", "-B", ServerAddress, "-p", "5201");
        var listening = Stopwatch.StartNew();
        while (!server.Exec(TimeSpan.FromSeconds(5), "ss", "-Hltn", "sport = :5201").Output.Contains("5201", StringComparison.Ordinal))
        {
            token.ThrowIfCancellationRequested();
            if (listening.Elapsed > TimeSpan.FromSeconds(5)) throw new TimeoutException("iperf3 -s did not listen within 5 s");
            Thread.Sleep(20);
        }
        Console.Error.Write($"    {name}: iperf3 for {length.TotalSeconds:0} s ...");
        string seconds = Math.Max(1, (int)Math.Round(length.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        using var iperf = client.Start("iperf3", "-c", ServerAddress, "-p", "5201", "-t", seconds, "-J");
        var output = iperf.StandardOutput.ReadToEndAsync(token);
        var limit = Stopwatch.StartNew();
        while (!iperf.WaitForExit(100))
        {
            if (token.IsCancellationRequested || limit.Elapsed > length + TimeSpan.FromSeconds(20))
            {
                iperf.Kill(entireProcessTree: true);
                token.ThrowIfCancellationRequested();
                throw new TimeoutException("iperf3 -c did not finish");
            }
        }
        Console.Error.Write(Console.IsErrorRedirected ? "\n" : "\r" + new string(' ', 79) + "\r");
        using var json = JsonDocument.Parse(output.Result);
        if (json.RootElement.TryGetProperty("error", out var error)) throw new InvalidOperationException("iperf3: " + error.GetString());
        var end = json.RootElement.GetProperty("end");
        var received = end.GetProperty("sum_received");
        double elapsed = received.GetProperty("seconds").GetDouble();
        long bytes = received.GetProperty("bytes").GetInt64();
        var cpu = end.GetProperty("cpu_utilization_percent");
        double user = (cpu.GetProperty("host_user").GetDouble() + cpu.GetProperty("remote_user").GetDouble()) / 100 * elapsed;
        double system = (cpu.GetProperty("host_system").GetDouble() + cpu.GetProperty("remote_system").GetDouble()) / 100 * elapsed;
        return new Measurement(name, direction, bytes * 8 / elapsed / 1e9, TimeSpan.FromSeconds(user), TimeSpan.FromSeconds(system), bytes,
            TimeSpan.FromSeconds(elapsed), $"CPU: both iperf3 processes (iperf3 -J); veth offloads {setting} at both ends");
    }
}
