using System.Diagnostics;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Tests.Tcp;

namespace TcpIpSharp.Tests.Scaling;

/// <summary>
/// Issue 7, deliverable 5: many connections between two stacks over the in-memory pair, in virtual time. The figures
/// are printed; the assertions are generous floors (the machine is shared and noisy), except the timer-visit count,
/// which is exact and shows that timers cost per due timer, not per connection.
/// </summary>
/// <remarks>
/// Parallelizable: every test here runs in virtual time with its own stacks and asserts nothing on wall time, so it may
/// run beside another parallel fixture (Parallelism.cs), except the memory test, which reads the whole process's heap.
/// </remarks>
[Parallelizable(ParallelScope.Self)]
public class ScalingTests
{
    private static readonly TcpConnectionOptions Small = new() { SendBufferSize = 4096, ReceiveBufferSize = 4096 };

    private static TwoStacks Pair() => new(options: new NetworkStackOptions { TcpSynQueue = 4096, Tcp = Small });

    /// <summary>Opens <paramref name="count"/> connections from A to B's port, <paramref name="batch"/> at a time.</summary>
    /// <remarks>
    /// Past <see cref="PerPort"/> connections the next port up is used too: A's ephemeral ports (RFC 6056, 16,384 by
    /// default) are chosen per peer address and port, so one port of B's takes at most that many from A.
    /// </remarks>
    private static (List<TcpConnection> Clients, List<TcpConnection> Servers) Open(TwoStacks net, ushort port, int count, int batch, TcpConnectionOptions options)
    {
        var listeners = new List<TcpListener>();
        var clients = new List<TcpConnection>(count);
        var servers = new List<TcpConnection>(count);
        while (clients.Count < count)
        {
            int p = clients.Count / PerPort;
            if (p == listeners.Count) listeners.Add(net.B.ListenTcp((ushort)(port + p), Math.Min(count, PerPort), options));
            int n = Math.Min(batch, Math.Min(count - clients.Count, PerPort - clients.Count % PerPort));
            for (int i = 0; i < n; i++) clients.Add(net.A.ConnectTcp(TwoStacks.AddressB, (ushort)(port + p), options));
            net.RunUntil(() => { while (listeners[p].TryAccept(out var s)) servers.Add(s!); return servers.Count == clients.Count; }, TimeSpan.FromSeconds(30));
        }
        return (clients, servers);
    }

    private const int PerPort = 15_000;

    private static byte Pattern(int connection, int offset) => (byte)(connection * 7 + offset * 13 + (offset >> 8));

    // Issue 18 grows the test from 10,000 to 100,000 connections (200,000 connection ends in one process). At 100,000
    // the invariant checks after every frame (a walk over every connection: O(n) per frame) are run once at the end.
    [TestCase(10_000, 3000, TestName = "Ten_thousand_connections_each_move_data_byte_exact_and_timers_cost_per_due_timer")]
    [TestCase(100_000, 1000, TestName = "A_hundred_thousand_connections_each_move_data_byte_exact_and_timers_cost_per_due_timer")]
    public void Connections_each_move_data_byte_exact_and_timers_cost_per_due_timer(int Count, int Bytes)
    {
        var watch = Stopwatch.StartNew();
        using var net = new TwoStacks(options: new NetworkStackOptions { TcpSynQueue = 4096, Tcp = Small, TcpMaxConnections = Math.Max(16_384, Count + 16) });
        bool checkEveryFrame = Count <= 10_000;
        if (!checkEveryFrame) net.A.AfterFrame = net.B.AfterFrame = null;
        var (clients, servers) = Open(net, 7000, Count, 1000, Small);
        var opened = watch.Elapsed;
        Assert.That(net.A.Tcp.Count, Is.EqualTo(Count));
        // Servers are accepted in handshake order: map each one to its client by the client's port and B's.
        var byPort = clients.Select((c, i) => (Ports: (c.LocalPort, c.RemotePort), i)).ToDictionary(p => p.Ports, p => p.i);
        var serverIndex = servers.Select(s => byPort[(s.RemotePort, s.LocalPort)]).ToArray();

        var request = new byte[Bytes];
        var buffer = new byte[4096];
        var sent = new int[Count];
        var received = new int[Count];
        var echoed = new int[Count];
        var answered = new int[Count];
        bool exact = true;
        long segmentsBefore = net.A.Statistics.Tcp.Received + net.B.Statistics.Tcp.Received;
        long visitsBefore = net.A.Tcp.TimerVisits + net.B.Tcp.TimerVisits;
        var dataStart = watch.Elapsed;
        // Only connections with something to do are visited: each one's Ready callback (data arrived, send space freed)
        // queues it. A loop over every connection after every poll cost O(connections) per poll, which at 100,000
        // connections was hours of the test's own time, not the stack's.
        int done = 0;
        var readyClients = new Queue<int>();
        var readyServers = new Queue<int>();
        var clientQueued = new bool[Count];
        var serverQueued = new bool[Count];
        for (int i = 0; i < Count; i++)
        {
            int c = i;
            clients[i].Ready = _ => { if (!clientQueued[c]) { clientQueued[c] = true; readyClients.Enqueue(c); } };
            servers[i].Ready = _ => { if (!serverQueued[c]) { serverQueued[c] = true; readyServers.Enqueue(c); } };
        }
        // The clients start 64 at a time between polls: all of them sending in one instant would overflow the link's
        // queue (a NIC ring's bound, as it should) and their retransmissions, all timed alike, would collide again.
        int started = 0;
        net.RunUntil(() => done == Count, TimeSpan.FromSeconds(120), each: () =>
        {
            for (int k = 0; k < 64 && started < Count; k++, started++)
                if (!clientQueued[started]) { clientQueued[started] = true; readyClients.Enqueue(started); }
            for (int n = readyClients.Count; n > 0; n--)
            {
                int i = readyClients.Dequeue();
                clientQueued[i] = false;
                var c = clients[i];
                if (sent[i] < Bytes)
                {
                    int n2 = Math.Min(Bytes - sent[i], c.SendSpace);
                    for (int k = 0; k < n2; k++) request[k] = Pattern(i, sent[i] + k);
                    sent[i] += c.Send(request.AsSpan(0, n2));
                }
                int r;
                while ((r = c.Receive(buffer)) > 0)
                {
                    for (int k = 0; k < r; k++) exact &= buffer[k] == (byte)~Pattern(i, answered[i] + k);
                    answered[i] += r;
                    if (answered[i] == Bytes) done++;
                }
            }
            for (int n = readyServers.Count; n > 0; n--)
            {
                int j = readyServers.Dequeue();
                serverQueued[j] = false;
                var s = servers[j];
                int i = serverIndex[j];
                int r;
                while ((r = s.Receive(buffer)) > 0)
                {
                    for (int k = 0; k < r; k++) exact &= buffer[k] == Pattern(i, received[i] + k);
                    received[i] += r;
                }
                // Echo back, complemented, what has arrived and not yet been echoed.
                int pending = received[i] - echoed[i];
                if (pending > 0 && s.SendSpace > 0)
                {
                    int n2 = Math.Min(pending, s.SendSpace);
                    for (int k = 0; k < n2; k++) request[k] = (byte)~Pattern(i, echoed[i] + k);
                    echoed[i] += s.Send(request.AsSpan(0, n2));
                }
            }
        });
        var dataTime = watch.Elapsed - dataStart;
        long segments = net.A.Statistics.Tcp.Received + net.B.Statistics.Tcp.Received - segmentsBefore;
        long visits = net.A.Tcp.TimerVisits + net.B.Tcp.TimerVisits - visitsBefore;
        TestContext.Out.WriteLine($"{Count} connections opened in {opened.TotalSeconds:0.00} s; {2L * Count * Bytes >> 10} KiB moved (each way {Bytes} B per connection, byte-exact: {exact}) " +
            $"in {dataTime.TotalSeconds:0.00} s wall, {segments} segments, {dataTime.TotalNanoseconds / segments:0} ns per segment including the test's own handling of each ready connection; " +
            $"timer visits {visits} ({(double)visits / segments:0.000} per segment)");
        if (!checkEveryFrame)
            Assert.That(TcpIpSharp.Diagnostics.StackInvariants.Broken(net.A) ?? TcpIpSharp.Diagnostics.StackInvariants.Broken(net.B), Is.Null, "stack invariants after the run");
        Assert.That(exact, Is.True, "some byte arrived wrong");
        Assert.That(answered, Is.All.EqualTo(Bytes));
        // A scan of every connection per timer tick would visit about Count per tick; the heap visits each due timer once.
        Assert.That(visits, Is.LessThan(4 * segments), "timers are visited per connection, not per due timer");
    }

    // GC.GetTotalMemory counts every thread's allocations: this test runs alone, never beside a parallel fixture.
    [Test, NonParallelizable]
    public void Memory_per_idle_connection_without_its_buffers()
    {
        const int Count = 4000, Ring = 64;
        var options = new TcpConnectionOptions { SendBufferSize = Ring, ReceiveBufferSize = Ring };
        using var net = Pair();
        Open(net, 7001, 1, 1, options);   // ARP and the listener's first allocations out of the way
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var (clients, servers) = Open(net, 7002, Count, 1000, options);
        net.RunUntil(() => true, TimeSpan.FromSeconds(1));
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(clients);
        GC.KeepAlive(servers);
        // Ring storage is rented as data comes (BufferPool): an idle connection that never carried data holds none, so
        // the whole measured figure is the connection's own (its two ring objects included, not their storage).
        Assert.That(net.A.Tcp.Buffers.BytesRented + net.B.Tcp.Buffers.BytesRented, Is.Zero, "idle connections hold no ring storage");
        double perConnection = (after - before) / (2.0 * Count);
        TestContext.Out.WriteLine($"{2 * Count} idle connections (both ends): {(after - before) / 1024.0:0} KiB; {perConnection:0} B per connection, holding no ring storage " +
            "(the test's own lists of them included)");
        // Issue 18's target, 1 KB per idle connection, asserted itself: 1,037 B before what only loss uses moved to an object
        // made on the first loss (TcpConnection.LossState), 942-948 B after it, so a field or object added per connection
        // has about 80 bytes before it breaks the target.
        Assert.That(perConnection, Is.LessThanOrEqualTo(1024), "idle connections exceed issue 18's 1 KB target");
    }

    [Test]
    public void Connections_per_second_open_request_response_close()
    {
        const int Total = 20_000, Concurrent = 500, Message = 64;
        var options = new TcpConnectionOptions { SendBufferSize = 1024, ReceiveBufferSize = 1024, TimeWaitTimeout = TimeSpan.FromMilliseconds(50) };
        using var net = new TwoStacks(options: new NetworkStackOptions { TcpSynQueue = 4096, Tcp = options });
        var listener = net.B.ListenTcp(7003, 4096, options);
        var request = new byte[Message];
        var response = new byte[Message];
        var buffer = new byte[Message];
        Open(net, 7004, 1, 1, options);   // warm up: ARP, JIT
        var active = new List<TcpConnection>(Concurrent);
        var serving = new List<TcpConnection>(Concurrent);
        void Run(int total)
        {
            int completed = 0, started = 0;
            net.RunUntil(() => completed == total, TimeSpan.FromSeconds(600), each: () =>
            {
                while (active.Count < Concurrent && started < total)
                {
                    var c = net.A.ConnectTcp(TwoStacks.AddressB, 7003, options);
                    c.Send(request);
                    active.Add(c);
                    started++;
                }
                while (listener.TryAccept(out var s)) serving.Add(s!);
                for (int j = serving.Count - 1; j >= 0; j--)
                {
                    var s = serving[j];
                    if (s.Available < Message) continue;
                    s.Receive(buffer);
                    s.Send(response);
                    s.Close();
                    serving.RemoveAt(j);
                }
                for (int i = active.Count - 1; i >= 0; i--)
                {
                    var c = active[i];
                    if (c.Available >= Message || c.IsEndOfStream)
                    {
                        if (c.Receive(buffer) != Message) throw new InvalidOperationException("short response on " + c);
                        c.Close();
                        active.RemoveAt(i);
                        completed++;
                    }
                }
            });
        }
        // The invariant checks TwoStacks runs after every frame walk every connection (O(n) per frame): they measured
        // 93% of this test's time under perf. Off while timing, and run once at the end instead.
        net.A.AfterFrame = null;
        net.B.AfterFrame = null;
        Run(5000);   // warm-up: tiered compilation promotes the hot paths (the first thousands run unoptimised code)
        var watch = Stopwatch.StartNew();
        Run(Total);
        double seconds = watch.Elapsed.TotalSeconds;
        Assert.That(TcpIpSharp.Diagnostics.StackInvariants.Broken(net.A) ?? TcpIpSharp.Diagnostics.StackInvariants.Broken(net.B), Is.Null, "stack invariants after the run");
        double rate = Total / seconds;
        TestContext.Out.WriteLine($"{Total} connections (open, {Message}-byte request and response, close; {Concurrent} at a time) in {seconds:0.00} s wall = {rate:0} connections per second; " +
            $"A has {net.A.Tcp.Count} left (TIME-WAIT), B {net.B.Tcp.Count}");
        // The rate is a figure for docs/benchmarks.md, not a pass condition: a wall-clock floor of 2,000 per second failed
        // once in ./test.sh on the shared machine (1,593 per second at load ~10, 9,335 in a quiet run). What the test
        // asserts is that every connection opened, answered in full and closed (RunUntil throws otherwise).
        Assert.That(active, Is.Empty, "every client connection completed");
    }
}
