using TcpIpSharp.Tests.Support;
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
    public void A_blocked_recv_wakes_once_for_a_batch_of_segments_and_takes_the_whole_batch()
    {
        // Issue 18 item 5: ten segments that arrive in one poll make the socket ready ten times; the blocked Recv is
        // woken once, after the poll, and returns all ten segments' bytes in one call.
        using var pair = new SocketPipe(DriverMode.RealTime);
        var (client, server) = (pair.Client, pair.Server);
        const int Batch = 10 * 1460;   // RFC 6928's initial window: ten full segments in one flush
        int first = -1;
        var buffer = new byte[64 * 1024];
        var reader = new Thread(() => first = server.Recv(buffer));
        reader.Start();
        var driver = pair.B.Driver;
        while (reader.ThreadState != System.Threading.ThreadState.WaitSleepJoin) Thread.Sleep(1);
        Thread.Sleep(50);   // blocked in Recv
        long before;
        lock (driver.Gate) before = driver.ReadyWakeups;
        client.SendAll(new byte[Batch]);
        Assert.That(reader.Join(TimeSpan.FromSeconds(10)), Is.True);
        long wakeups;
        lock (driver.Gate) wakeups = driver.ReadyWakeups - before;
        Assert.That(first, Is.EqualTo(Batch), "one Recv took the whole batch");
        // The batch's wake-up, and at most one or two more for the ACK that makes the sender writable again.
        Assert.That(wakeups, Is.LessThanOrEqualTo(3), "one wake-up per poll, not one per segment");
    }

    [Test]
    public void Recv_span_and_Send_loops_allocate_nothing_after_warm_up()
    {
        using var pair = new SocketPipe(DriverMode.RealTime);
        var (client, server) = (pair.Client, pair.Server);
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
        long total = 0;
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            long totalBefore = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 10_000; i++) Round();
            total = GC.GetTotalAllocatedBytes(precise: true) - totalBefore;
        });
        TestContext.Out.WriteLine($"10,000 rounds (4 x Send/Recv of 1 KB each): {allocated} B on the calling thread, {total} B in the whole process (stack thread included)");
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void Throughput_socket_API_against_core_API_over_the_in_memory_pair()
    {
        // Both loops run on this one thread, so its CPU time is what each costs. The two transfers are set up once and
        // alternate in 32 MiB rounds, so the load other processes put on this shared machine falls on both alike;
        // wall-clock figures are printed beside them.
        const long round = 32L * 1024 * 1024;
        const int rounds = 16;
        using var core = new CorePipe();
        using var sockets = new SocketPipe();
        core.Transfer(round);      // warm-up
        sockets.Transfer(round);
        TimeSpan coreCpu = default, socketCpu = default, coreWall = default, socketWall = default;
        for (int i = 0; i < rounds; i++)
        {
            var (cpu, wall) = Measure(() => core.Transfer(round));
            coreCpu += cpu;
            coreWall += wall;
            (cpu, wall) = Measure(() => sockets.Transfer(round));
            socketCpu += cpu;
            socketWall += wall;
        }
        double Gbps(TimeSpan t) => round * rounds * 8 / t.TotalSeconds / 1e9;
        double cost = socketCpu / coreCpu - 1;
        double threaded = ThreadedSocketThroughput(256L * 1024 * 1024);
        TestContext.Out.WriteLine($"in-memory pair, {rounds} alternating rounds of {round >> 20} MiB, one thread each, per CPU second: core API {Gbps(coreCpu):0.00} Gbit/s, socket API {Gbps(socketCpu):0.00} Gbit/s: the socket layer costs {cost:P1}");
        TestContext.Out.WriteLine($"the same per wall-clock second: core API {Gbps(coreWall):0.00} Gbit/s, socket API {Gbps(socketWall):0.00} Gbit/s ({socketWall / coreWall - 1:P1})");
        TestContext.Out.WriteLine($"socket API with a stack thread, a sender thread and a receiver thread (blocking calls), wall clock: {threaded * 8 / 1e9:0.00} Gbit/s");
        Assert.That(cost, Is.LessThan(0.15), "the socket layer should cost under 15% more CPU than the core API");
    }

    private static (TimeSpan Cpu, TimeSpan Wall) Measure(Action action)
    {
        var cpu = ThreadCpuTime.Now;
        var wall = Stopwatch.StartNew();
        action();
        return (ThreadCpuTime.Now - cpu, wall.Elapsed);
    }

    private static readonly byte[] Chunk = new byte[64 * 1024];

    // Both stacks and the transfer on one thread, through TcpConnection directly.
    private sealed class CorePipe : IDisposable
    {
        private readonly SystemClock _clock = new();
        private readonly NetworkStack _a, _b;
        private readonly Transport.Tcp.TcpConnection _client, _server;
        private readonly byte[] _buffer = new byte[64 * 1024];

        public CorePipe()
        {
            var (la, lb) = InMemoryLink.CreatePair(queueFrames: 4096);
            var o = new NetworkStackOptions();
            _a = new NetworkStack(la, o with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = Ipv4Address.Parse("192.0.2.10"), PrefixLength = 24 }, new SeededRandomSource(1));
            _b = new NetworkStack(lb, o with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = Ipv4Address.Parse("192.0.2.11"), PrefixLength = 24 }, new SeededRandomSource(2));
            var listener = _b.ListenTcp(5001);
            _client = _a.ConnectTcp(Ipv4Address.Parse("192.0.2.11"), 5001);
            Transport.Tcp.TcpConnection? server;
            while (!listener.TryAccept(out server)) PollAll();
            _server = server;
        }

        // As the socket layer's manual mode waits: poll until idle, and yield the core when nothing moved.
        private void PollAll()
        {
            bool any = false;
            var now = _clock.Now;
            for (int round = 0; round < 64; round++)
            {
                if (!(_a.Poll(now) | _b.Poll(now))) break;
                any = true;
            }
            if (!any) Thread.Yield();
        }

        // The same shape as SocketPipe.Transfer: a full send ring or an empty receive ring polls until it changes.
        public void Transfer(long total)
        {
            long sent = 0, received = 0;
            while (received < total)
            {
                if (sent < total)
                {
                    int n;
                    while ((n = _client.Send(Chunk.AsSpan(0, (int)Math.Min(Chunk.Length, total - sent)))) == 0) PollAll();
                    sent += n;
                }
                int m;
                while ((m = _server.Receive(_buffer)) < 0) PollAll();
                received += m;
            }
        }

        public void Dispose()
        {
            _a.Dispose();
            _b.Dispose();
        }
    }

    // The same on one thread through the socket API (manual mode: a blocking call drives the stacks while it waits).
    // Also the connected pair (client on A, server on B, port 5001) the other socket tests here start from.
    private sealed class SocketPipe : IDisposable
    {
        private readonly SocketStack _a, _b;
        private readonly Socket _client, _server;
        private readonly byte[] _buffer = new byte[64 * 1024];

        public SocketStack B => _b;
        public Socket Client => _client;
        public Socket Server => _server;

        public SocketPipe(DriverMode mode = DriverMode.Manual)
        {
            (_a, _b) = SocketStack.CreatePair(mode);
            using var listener = _b.Socket();
            listener.Bind(("", 5001));
            listener.Listen();
            _client = _a.Socket();
            _client.Connect(("192.0.2.11", 5001));
            (_server, _) = listener.Accept();
        }

        public void Transfer(long total)
        {
            long sent = 0, received = 0;
            while (received < total)
            {
                if (sent < total) sent += _client.Send(Chunk.AsSpan(0, (int)Math.Min(Chunk.Length, total - sent)));
                received += _server.Recv(_buffer);
            }
        }

        public void Dispose()
        {
            _client.Close();
            _server.Close();
            _a.Dispose();
            _b.Dispose();
        }
    }

    private static double ThreadedSocketThroughput(long total)
    {
        using var pair = new SocketPipe(DriverMode.RealTime);
        var (client, server) = (pair.Client, pair.Server);
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
