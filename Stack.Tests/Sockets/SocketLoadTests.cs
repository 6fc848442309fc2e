using System.Diagnostics;
using TcpIpSharp.Links;
using TcpIpSharp.Sockets;
using TcpIpSharp.Wire;
using static TcpIpSharp.Sockets.SocketModule;

namespace TcpIpSharp.Tests.Sockets;

/// <summary>Concurrency through the TAP, zero allocation on the data path, and the socket layer's cost against the core API.</summary>
[NonParallelizable]
public class SocketLoadTests
{
    [Test]
    public void Eight_threads_fifty_connections_each_one_megabyte_blocking_echo_through_the_TAP()
    {
        using var peers = new KernelPeers("sockload");
        const int threads = 8, connections = 50, size = 1024 * 1024, chunk = 64 * 1024;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var send = new byte[chunk];
            var receive = new byte[chunk];
            for (int c = 0; c < connections && failures.IsEmpty; c++)
            {
                try
                {
                    using var s = peers.Stack.Socket();
                    s.SetTimeout(30);
                    s.Connect((KernelPeers.Kernel, 7));
                    var random = new Random(t * 1000 + c);
                    for (int done = 0; done < size; done += chunk)
                    {
                        random.NextBytes(send);
                        s.SendAll(send);
                        int got = 0;
                        while (got < chunk)
                        {
                            int n = s.Recv(receive.AsSpan(got));
                            if (n == 0) throw new InvalidOperationException("early end of stream");
                            got += n;
                        }
                        if (!receive.AsSpan().SequenceEqual(send)) throw new InvalidOperationException($"bytes differ at {done}");
                        Interlocked.Add(ref bytes, chunk);
                    }
                }
                catch (Exception e) when (e is OSError or InvalidOperationException)
                {
                    failures.Enqueue($"thread {t} connection {c}: {e.Message}");
                }
            }
        }) { IsBackground = true }).ToList();
        workers.ForEach(w => w.Start());
        bool finished = workers.All(w => w.Join(TimeSpan.FromSeconds(300) - clock.Elapsed is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero));
        var elapsed = clock.Elapsed;
        TestContext.Out.WriteLine($"{threads} threads x {connections} connections x {size} bytes echoed byte-exact: {Interlocked.Read(ref bytes) / 1048576} MiB each way in {elapsed.TotalSeconds:0.0} s ({Interlocked.Read(ref bytes) * 8 / elapsed.TotalSeconds / 1e6:0} Mbit/s each way)");
        Assert.That(finished, Is.True, "all threads finished within 300 s (no deadlock)");
        Assert.That(failures, Is.Empty);
        Assert.That(Interlocked.Read(ref bytes), Is.EqualTo((long)threads * connections * size));
    }

    [Test]
    public void Recv_span_and_Send_loops_allocate_nothing_after_warm_up()
    {
        var (a, b) = SocketStack.CreatePair(RunnerMode.RealTime);
        using (a) using (b)
        {
            using var listener = b.Socket();
            listener.Bind(("", 5001));
            listener.Listen();
            using var client = a.Socket();
            client.Connect(("192.0.2.11", 5001));
            var (server, _) = listener.Accept();
            using (server)
            {
                var data = new byte[1024];
                var buffer = new byte[1024];
                void Round()
                {
                    client.SendAll(data);
                    int got = 0;
                    while (got < data.Length) got += server.Recv(buffer.AsSpan(got));
                    server.SendAll(buffer);
                    got = 0;
                    while (got < data.Length) got += client.Recv(buffer.AsSpan(got));
                }
                for (int i = 0; i < 2000; i++) Round();
                long before = GC.GetAllocatedBytesForCurrentThread();
                long totalBefore = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < 10_000; i++) Round();
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                long total = GC.GetTotalAllocatedBytes(precise: true) - totalBefore;
                TestContext.Out.WriteLine($"10,000 rounds (4 x Send/Recv of 1 KB each): {allocated} B on the calling thread, {total} B in the whole process (stack thread included)");
                Assert.That(allocated, Is.Zero);
            }
        }
    }

    [Test]
    public void Throughput_socket_API_against_core_API_over_the_in_memory_pair()
    {
        const long total = 256L * 1024 * 1024;
        double bestCore = 0, bestSocket = 0, bestThreaded = 0;
        for (int run = 0; run < 5; run++)
        {
            bestCore = Math.Max(bestCore, CoreThroughput(total));
            bestSocket = Math.Max(bestSocket, SocketThroughput(total));
        }
        bestThreaded = ThreadedSocketThroughput(total);
        double cost = 1 - bestSocket / bestCore;
        TestContext.Out.WriteLine($"in-memory pair, {total >> 20} MiB, best of 5 alternating runs, one thread each: core API {bestCore * 8 / 1e9:0.00} Gbit/s, socket API {bestSocket * 8 / 1e9:0.00} Gbit/s: the socket layer costs {cost:P1}");
        TestContext.Out.WriteLine($"socket API with a stack thread, a sender thread and a receiver thread (blocking calls): {bestThreaded * 8 / 1e9:0.00} Gbit/s");
        Assert.That(cost, Is.LessThan(0.15), "the socket layer should cost under 15%");
    }

    private static readonly byte[] Chunk = new byte[64 * 1024];

    // Both stacks and the transfer on one thread, through TcpConnection directly.
    private static double CoreThroughput(long total)
    {
        var clock = new SystemClock();
        var (la, lb) = InMemoryLink.CreatePair(queueFrames: 4096);
        var o = new NetworkStackOptions();
        using var a = new NetworkStack(la, o with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = Ipv4Address.Parse("192.0.2.10"), PrefixLength = 24 }, new SeededRandomSource(1));
        using var b = new NetworkStack(lb, o with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = Ipv4Address.Parse("192.0.2.11"), PrefixLength = 24 }, new SeededRandomSource(2));
        void PollAll()
        {
            for (int round = 0; round < 64; round++)
                if (!(a.Poll(clock.Now) | b.Poll(clock.Now))) break;
        }
        var listener = b.ListenTcp(5001);
        var client = a.ConnectTcp(Ipv4Address.Parse("192.0.2.11"), 5001);
        Transport.Tcp.TcpConnection? server = null;
        while (!listener.TryAccept(out server)) PollAll();
        var buffer = new byte[64 * 1024];
        long sent = 0, received = 0;
        var watch = Stopwatch.StartNew();
        // The same shape as the socket loop below: a full send ring or an empty receive ring polls until it changes.
        while (received < total)
        {
            if (sent < total)
            {
                int n;
                while ((n = client.Send(Chunk.AsSpan(0, (int)Math.Min(Chunk.Length, total - sent)))) == 0) PollAll();
                sent += n;
            }
            int m;
            while ((m = server!.Receive(buffer)) < 0) PollAll();
            received += m;
        }
        return total / watch.Elapsed.TotalSeconds;
    }

    // The same on one thread through the socket API (manual mode: a blocking call drives the stacks while it waits).
    private static double SocketThroughput(long total)
    {
        var (a, b) = SocketStack.CreatePair(RunnerMode.Manual);
        using (a) using (b)
        {
            using var listener = b.Socket();
            listener.Bind(("", 5001));
            listener.Listen();
            using var client = a.Socket();
            client.Connect(("192.0.2.11", 5001));
            var (server, _) = listener.Accept();
            using (server)
            {
                var buffer = new byte[64 * 1024];
                long sent = 0, received = 0;
                var watch = Stopwatch.StartNew();
                while (received < total)
                {
                    if (sent < total) sent += client.Send(Chunk.AsSpan(0, (int)Math.Min(Chunk.Length, total - sent)));
                    received += server.Recv(buffer);
                }
                return total / watch.Elapsed.TotalSeconds;
            }
        }
    }

    private static double ThreadedSocketThroughput(long total)
    {
        var (a, b) = SocketStack.CreatePair(RunnerMode.RealTime);
        using (a) using (b)
        {
            using var listener = b.Socket();
            listener.Bind(("", 5001));
            listener.Listen();
            using var client = a.Socket();
            client.Connect(("192.0.2.11", 5001));
            var (server, _) = listener.Accept();
            using (server)
            {
                var watch = Stopwatch.StartNew();
                var sender = new Thread(() =>
                {
                    for (long sent = 0; sent < total; sent += Chunk.Length) client.SendAll(Chunk.AsSpan(0, (int)Math.Min(Chunk.Length, total - sent)));
                });
                sender.Start();
                var buffer = new byte[64 * 1024];
                long received = 0;
                while (received < total) received += server.Recv(buffer);
                sender.Join();
                return total / watch.Elapsed.TotalSeconds;
            }
        }
    }
}
