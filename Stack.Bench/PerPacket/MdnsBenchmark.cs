using BenchmarkDotNet.Attributes;
using TcpIpSharp.Services.Mdns;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>
/// Per-packet cost of an mDNS query answered (issue 17): a query for <c>PicoW.local</c> A handed to the stack by its link,
/// delivered to the responder's port 5353, parsed, matched against its records and answered (the answer built and handed
/// to a sink link). Multicast: a query from port 5353 to 224.0.0.251, answered to the group (the clock moves 1.1 s per
/// query, past the one-second rate limit). Legacy: a query from an ordinary port, answered by unicast with its ID and
/// question (RFC 6762 6.7).
/// </summary>
[MemoryDiagnoser]
public class MdnsBenchmark
{
    private NetworkStack _a = null!, _b = null!;
    private BenchLink _linkA = null!;
    private MdnsResponder _responder = null!;
    private byte[] _multicastQuery = [], _legacyQuery = [];
    private TimeSpan _now = TimeSpan.FromSeconds(1);

    [GlobalSetup]
    public void Setup()
    {
        (var linkA, var linkB) = BenchLink.CreatePair();
        _linkA = linkA;
        var options = new NetworkStackOptions { PrefixLength = 24 };
        _a = new NetworkStack(linkA, options with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = PerPacketHost.Ipv4A }, new SeededRandomSource(1));
        _b = new NetworkStack(linkB, options with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = PerPacketHost.Ipv4B }, new SeededRandomSource(2));
        _responder = new MdnsResponder(new MdnsOptions { ProbeInterval = TimeSpan.FromMilliseconds(1), AnnounceCount = 1 });
        _responder.Register(new ServiceInstance("web", "_http._tcp", 80, ["path=/"]));
        _responder.Start(_a, _now);
        for (int i = 0; i < 500 && !_responder.HostnameEstablished; i++) Step(TimeSpan.FromMilliseconds(10));
        if (!_responder.HostnameEstablished) throw new InvalidOperationException("the responder did not take its name");

        // The two queries as B sends them, recorded and not delivered.
        var fromMdnsPort = _b.OpenUdp(5353);
        var fromOtherPort = _b.OpenUdp(0);
        fromMdnsPort.MulticastTimeToLive = fromOtherPort.MulticastTimeToLive = 255;
        var buffer = new byte[512];
        var w = new DnsWriter(buffer);
        w.WriteHeader(new DnsHeader(0x1234));
        w.WriteQuestion("PicoW.local", DnsType.A);
        var query = buffer.AsSpan(0, w.Finish()).ToArray();
        var recorded = new List<byte[]>();
        linkB.Connected = false;
        linkB.Recorded = recorded;
        // The legacy answer goes to B by unicast: A learns B's address first.
        fromOtherPort.SendTo([0], PerPacketHost.Ipv4A, 9);
        _b.Poll(_now);
        linkB.Connected = true;
        Step(TimeSpan.FromMilliseconds(10));
        linkB.Connected = false;
        recorded.Clear();
        fromMdnsPort.SendTo(query, MdnsResponder.GroupV4, 5353);
        fromOtherPort.SendTo(query, MdnsResponder.GroupV4, 5353);
        _b.Poll(_now);
        if (recorded.Count != 2) throw new InvalidOperationException($"{recorded.Count} queries recorded, wanted 2");
        (_multicastQuery, _legacyQuery) = (recorded[0], recorded[1]);
        linkB.Recorded = null;
        linkA.Connected = false;   // A's answers go to the sink

        long multicast = _responder.Statistics.MulticastResponsesSent, legacy = _responder.Statistics.LegacyResponsesSent;
        MulticastQueryAnswered();
        LegacyQueryAnswered();
        if (_responder.Statistics.MulticastResponsesSent != multicast + 1 || _responder.Statistics.LegacyResponsesSent != legacy + 1)
            throw new InvalidOperationException("a query was not answered: " + string.Join(", ", _responder.Statistics.Snapshot().Where(p => p.Value > 0)));
    }

    private void Step(TimeSpan by)
    {
        _now += by;
        _a.Poll(_now);
        _responder.Poll(_a, _now);
        _a.Poll(_now);
        _b.Poll(_now);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }

    /// <summary>A multicast query in, the multicast answer (A record, cache-flush) out.</summary>
    [Benchmark]
    public void MulticastQueryAnswered()
    {
        _now += TimeSpan.FromMilliseconds(1100);
        _linkA.Feed(_multicastQuery);
        _a.Poll(_now);
        _responder.Poll(_a, _now);
        _a.Poll(_now);
    }

    /// <summary>A legacy unicast query in, the unicast answer (ID echoed, question repeated, TTL 10) out.</summary>
    [Benchmark]
    public void LegacyQueryAnswered()
    {
        _linkA.Feed(_legacyQuery);
        _a.Poll(_now);
        _responder.Poll(_a, _now);
        _a.Poll(_now);
    }
}
