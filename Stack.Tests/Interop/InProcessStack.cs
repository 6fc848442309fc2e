using System.Runtime.Versioning;
using TcpIpSharp.Tap.Services;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// A stack in the test's own process on a TAP inside a <see cref="NetNs"/>, driven in real time by a
/// <see cref="StackDriver"/> on a thread of its own, with the services <c>up</c> runs (UDP echo on 7, HTTP on 80).
/// Unlike the program, its state can be read while it runs (<see cref="Query{T}"/> runs on the stack thread): what an
/// interop test must show about the inside (addresses formed, DNS servers learned, the path MTU) is read there.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class InProcessStack : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public InProcessStack(NetNs ns, string tap, NetworkStackOptions options)
    {
        var link = ns.OpenTap(tap);
        Stack = new NetworkStack(link, options);
        Driver = new StackDriver(Stack);
        Driver.Add(new UdpServices(echo: true, discard: false, chargen: false));
        Driver.Add(new TcpServices(echo: false, discard: false, chargen: false, http: true));
        _thread = Driver.Start(_stop.Token);
    }

    public NetworkStack Stack { get; }
    public StackDriver Driver { get; }

    /// <summary>Runs <paramref name="read"/> on the stack thread and returns its result (fails the test after 10 s).</summary>
    public T Query<T>(Func<NetworkStack, T> read)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Driver.Post(s =>
        {
            try { done.SetResult(read(s)); }
            catch (Exception e) { done.SetException(e); }
        });
        if (!done.Task.Wait(TimeSpan.FromSeconds(10))) Assert.Fail("the stack thread did not answer within 10 s");
        return done.Task.Result;
    }

    /// <summary>Polls <paramref name="read"/> on the stack thread every 100 ms until it returns non-null, or null after <paramref name="limit"/>.</summary>
    public T? WaitFor<T>(Func<NetworkStack, T?> read, TimeSpan limit) where T : class
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < limit)
        {
            if (Query(read) is T value) return value;
            Thread.Sleep(100);
        }
        return null;
    }

    /// <summary>The stack's IPv6 addresses, one per line, as a user would read them.</summary>
    public string DescribeIpv6() => Query(s => string.Join("\n", s.Ipv6Addresses.Select(a =>
        $"  {a.Address}/{a.PrefixLength} {a.State} {a.Origin} preferred {Lifetime(a.PreferredLifetime)} valid {Lifetime(a.ValidLifetime)}")));

    private static string Lifetime(TimeSpan? t) => t is TimeSpan v ? $"{v.TotalSeconds:0} s" : "infinite";

    /// <summary>Sends <paramref name="count"/> echo requests of <paramref name="size"/> bytes from the stack to <paramref name="destination"/> (one per 200 ms) and returns the replies that came back within <paramref name="limit"/>.</summary>
    public List<TcpIpSharp.Net.EchoReply> Ping(IpAddress destination, int count, int size, TimeSpan limit)
    {
        var client = Query(s => s.OpenEchoClient());
        var replies = new List<TcpIpSharp.Net.EchoReply>();
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 1; i <= count; i++)
            {
                ushort sequence = (ushort)i;
                var error = Query(s => client.Send(destination, sequence, size, s.Interface.Now));
                Assert.That(error, Is.EqualTo(NetError.None), $"echo request {i} to {destination}");
                Thread.Sleep(200);
                Query(s => { while (client.TryReceive(out var r)) replies.Add(r); return 0; });
            }
            while (replies.Count < count && watch.Elapsed < limit)
            {
                Thread.Sleep(100);
                Query(s => { while (client.TryReceive(out var r)) replies.Add(r); return 0; });
            }
        }
        finally
        {
            Query(s => { client.Close(); return 0; });
        }
        return replies;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(10));
        Stack.Dispose();
        _stop.Dispose();
    }
}
