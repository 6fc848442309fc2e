using System.Diagnostics;
using System.Globalization;
using TcpIpSharp.Links;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>
/// <c>dotnet run --project Stack.Bench -c Release -- connrate [SECONDS] [CONCURRENT] [RING_BYTES] [POOL_BYTES]</c>: connections per
/// second between two stacks over the in-memory link pair, in real time on one thread (both stacks and both
/// applications, as the throughput harness's case (d)). Each connection opens, sends a 64-byte request, gets a
/// 64-byte response and closes (the server closes after answering, the client after reading). CONCURRENT (default
/// 500) are in flight at once. RING_BYTES sets both rings of every connection (default: the stack's defaults,
/// 256 KB each); POOL_BYTES the ring storage each stack keeps for reuse (default: the stack's default). Two seconds of warm-up first (tiered compilation), then SECONDS (default 5) measured; prints the rate,
/// the connections per CPU-second of the process (steadier than the rate when other work shares the cores), the bytes
/// allocated per connection and the garbage collections.
/// </summary>
internal static class ConnectionRateCommand
{
    private const int Message = 64;

    public static int Run(string[] args)
    {
        double seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        int concurrent = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500;
        var options = args.Length > 2 && args[2] != "default"
            ? new TcpConnectionOptions { SendBufferSize = int.Parse(args[2], CultureInfo.InvariantCulture), ReceiveBufferSize = int.Parse(args[2], CultureInfo.InvariantCulture) }
            : new TcpConnectionOptions();
        // TIME-WAIT as configured by default (60 s) would hold every closed client connection for the whole run.
        options = options with { TimeWaitTimeout = TimeSpan.FromMilliseconds(100) };
        var (linkA, linkB) = InMemoryLink.CreatePair(queueFrames: 16384);
        var addressB = Ipv4Address.Parse("192.0.2.11");
        var stackOptions = new NetworkStackOptions { TcpSynQueue = 4 * concurrent, Tcp = options, PrefixLength = 24 };
        if (args.Length > 3) stackOptions = stackOptions with { TcpBufferPoolBytes = long.Parse(args[3], CultureInfo.InvariantCulture) };
        using var a = new NetworkStack(linkA, stackOptions with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = Ipv4Address.Parse("192.0.2.10") });
        using var b = new NetworkStack(linkB, stackOptions with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = addressB });
        var listener = b.ListenTcp(7003, 4 * concurrent, options);
        var clock = new SystemClock();
        var request = new byte[Message];
        var response = new byte[Message];
        var buffer = new byte[Message];
        // Event-driven, as an application on the socket layer's poll is: the stacks' Ready callbacks queue the
        // connections that have something to say, and only those are looked at (scanning every open connection on
        // every round measured 38% of the time, the application's cost rather than the stack's).
        var clientsReady = new Queue<TcpConnection>();
        var serversReady = new Queue<TcpConnection>();
        int open = 0;
        long completed = 0;
        Action<TcpConnection> onClient = clientsReady.Enqueue, onServer = serversReady.Enqueue;
        listener.Ready = l =>
        {
            while (l.TryAccept(out var s)) { s.Ready = onServer; serversReady.Enqueue(s); }
        };

        long rounds = 0;
        void Round()
        {
            rounds++;
            var now = clock.Now;
            while (open < concurrent)
            {
                var c = a.ConnectTcp(addressB, 7003, options);
                c.Ready = onClient;
                c.Send(request);
                open++;
            }
            a.Poll(now);
            b.Poll(now);
            while (serversReady.TryDequeue(out var s))
            {
                if (s.IsUserClosed || s.Available < Message) continue;
                s.Receive(buffer);
                s.Send(response);
                s.Close();
            }
            b.Poll(now);
            a.Poll(now);
            while (clientsReady.TryDequeue(out var c))
            {
                if (c.IsUserClosed) continue;
                if (c.Error != NetError.None) throw new InvalidOperationException("a connection failed: " + c);
                if (c.Available < Message && !c.IsEndOfStream) continue;
                if (c.Receive(buffer) != Message) throw new InvalidOperationException("short response on " + c);
                c.Close();
                open--;
                completed++;
            }
        }

        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 2) Round();
        long startCompleted = completed, startRounds = rounds;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        int gcs = GC.CollectionCount(0);
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds) Round();
        double elapsed = watch.Elapsed.TotalSeconds;
        long done = completed - startCompleted;
        process.Refresh();
        double cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        string rings = (args.Length > 2 && args[2] != "default" ? args[2] + "-byte" : "default (" + options.SendBufferSize / 1024 + " KB)")
            + $" rings, a pool of {stackOptions.TcpBufferPoolBytes / (1024 * 1024)} MB per stack";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"connrate: {done} connections in {elapsed:0.00} s = {done / elapsed:0} per second ({concurrent} at a time, {rings}); " +
            $"{(double)allocated / Math.Max(1, done):0} bytes allocated per connection, {GC.CollectionCount(0) - gcs} gen0 collections; " +
            $"{(rounds - startRounds) / elapsed:0} rounds per second; {done / Math.Max(cpuSeconds, 1e-3):0} per CPU-second ({cpuSeconds:0.00} s of process CPU: on a loaded machine the rate per second measures the share of a core the run got); A holds {a.Tcp.Count} connections (TIME-WAIT), B {b.Tcp.Count}"));
        foreach (var (n, st) in new[] { ("A", a), ("B", b) })
        {
            var t = st.Statistics.TcpDetail;
            Console.WriteLine($"  stack {n}: timeout retransmits {t.TimeoutRetransmitsCount}, fast {t.FastRetransmitsCount}, PAWS drops {t.PawsDropsCount}, resets sent {t.ResetsSentCount} received {t.ResetsReceivedCount}, SYN queue full {t.SynQueueFullCount}, challenge ACKs {t.ChallengeAcksCount}; link overflows {(n == "A" ? linkA : linkB).Overflows}");
        }
        return 0;
    }
}
