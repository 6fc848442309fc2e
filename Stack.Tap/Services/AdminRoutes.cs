using System.Globalization;
using System.Text;
using TcpIpSharp.Services.Dns;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Services;

/// <summary>
/// The HTTP routes <c>tcpipsharp up --admin</c> adds for tests and diagnosis, off by default because they cost the
/// host something an attacker should not be able to ask for:
/// <c>GET /heap</c> forces a full blocking garbage collection and reports the managed heap (the soak compares it after
/// warm-up and at the end), and <c>GET /resolve/NAME</c> looks NAME up (type A) through the stack's own DNS resolver
/// (needs <c>--dns</c>) and answers with the addresses, so the resolver can be exercised in a running host.
/// </summary>
internal sealed class AdminRoutes(DnsResolver? resolver)
{
    /// <summary>The body of <c>GET /heap</c>: one "name value" line per figure, the stack's connection count included.</summary>
    public static string Heap(NetworkStack stack)
    {
        long afterFullGc = GC.GetTotalMemory(forceFullCollection: true);
        var info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var b = new StringBuilder();
        void Line(string name, long value) => b.Append(CultureInfo.InvariantCulture, $"{name,-34} {value}\n");
        Line("heap.after_full_gc", afterFullGc);
        Line("gc.heap_size", info.HeapSizeBytes);
        Line("gc.committed", info.TotalCommittedBytes);
        Line("gc.fragmented", info.FragmentedBytes);
        Line("gc.total_allocated", GC.GetTotalAllocatedBytes());
        Line("gc.gen0_collections", GC.CollectionCount(0));
        Line("gc.gen1_collections", GC.CollectionCount(1));
        Line("gc.gen2_collections", GC.CollectionCount(2));
        Line("process.working_set", Environment.WorkingSet);
        Line("tcp.connections", stack.Tcp.Count);
        return b.ToString();
    }

    /// <summary>
    /// Starts the lookup of <paramref name="name"/>; <paramref name="respond"/> (status, body) is called on the stack
    /// thread when it completes, at once when it was answered from the cache.
    /// </summary>
    public void Resolve(NetworkStack stack, string name, Action<string, string> respond)
    {
        if (resolver is null) { respond("503 Service Unavailable", "no resolver: start up with --dns\n"); return; }
        var lookup = resolver.Resolve(name, DnsType.A, stack.Interface.Now);
        if (lookup.IsCompleted) Answer(lookup, respond);
        else lookup.Completed += l => Answer(l, respond);
    }

    private static void Answer(DnsLookup lookup, Action<string, string> respond)
    {
        if (lookup.Error != DnsError.None) respond("502 Bad Gateway", $"{lookup.Name} error {lookup.Error}\n");
        else respond("200 OK", $"{lookup.Name} {string.Join(' ', lookup.Addresses)}{(lookup.FromCache ? " cached" : "")}\n");
    }
}
