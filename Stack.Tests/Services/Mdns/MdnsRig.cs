using TcpIpSharp.Links;
using TcpIpSharp.Services.Mdns;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services.Mdns;

/// <summary>A record of a received mDNS message, decoded for assertions.</summary>
internal sealed record MdnsEntry(DnsSection Section, string Name, DnsType Type, ushort Class, uint Ttl, string Data);

/// <summary>A received mDNS message: when, from where, its header and entries.</summary>
internal sealed record MdnsSeen(TimeSpan At, IpAddress From, ushort FromPort, ushort Id, bool IsResponse, List<MdnsEntry> Entries)
{
    public IEnumerable<MdnsEntry> Questions => Entries.Where(e => e.Section == DnsSection.Question);
    public IEnumerable<MdnsEntry> Answers => Entries.Where(e => e.Section == DnsSection.Answer);
    public IEnumerable<MdnsEntry> Authority => Entries.Where(e => e.Section == DnsSection.Authority);
    public IEnumerable<MdnsEntry> Additional => Entries.Where(e => e.Section == DnsSection.Additional);
    public bool IsProbe => !IsResponse && Authority.Any();
    public override string ToString() => $"{At.TotalMilliseconds:0} ms {From}:{FromPort} id={Id} {(IsResponse ? "response" : "query")} " +
        string.Join("; ", Entries.Select(e => $"{e.Section} {e.Name} {e.Type} class=0x{e.Class:x4} ttl={e.Ttl} {e.Data}"));
}

/// <summary>
/// Two stacks on the in-memory pair (A 192.0.2.10, B 192.0.2.11) in virtual time, stepped 10 ms at a time, each with
/// its services; B may also hold a raw listener on 5353 (joined to 224.0.0.251) that records every mDNS message.
/// </summary>
internal sealed class MdnsRig : IDisposable
{
    public static readonly Ipv4Address IpA = Ipv4Address.Parse("192.0.2.10");
    public static readonly Ipv4Address IpB = Ipv4Address.Parse("192.0.2.11");

    public ManualClock Clock { get; } = new();
    public NetworkStack A { get; }
    public NetworkStack B { get; }
    public List<IStackService> ServicesA { get; } = [];
    public List<IStackService> ServicesB { get; } = [];
    public UdpEndpoint? Listener { get; private set; }
    public List<MdnsSeen> Seen { get; } = [];
    private readonly byte[] _buffer = new byte[9000];

    public MdnsRig(int seed = 1, NetworkStackOptions? a = null, NetworkStackOptions? b = null, Ipv4Address? addressB = null)
    {
        var (la, lb) = InMemoryLink.CreatePair(queueFrames: 8192);
        A = new NetworkStack(la, (a ?? new NetworkStackOptions()) with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = IpA, PrefixLength = 24 }, new SeededRandomSource(seed));
        B = new NetworkStack(lb, (b ?? new NetworkStackOptions()) with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = addressB ?? IpB, PrefixLength = 24 }, new SeededRandomSource(seed + 1));
        A.AfterFrame = B.AfterFrame = TcpIpSharp.Diagnostics.StackInvariants.Check;
    }

    public void AddA(IStackService s) { ServicesA.Add(s); s.Start(A, Clock.Now); }
    public void AddB(IStackService s) { ServicesB.Add(s); s.Start(B, Clock.Now); }

    /// <summary>A raw mDNS socket on B (SO_REUSEADDR, beside any responder there), recording what it hears.</summary>
    public UdpEndpoint Listen()
    {
        Assert.That(B.OpenUdp(MdnsResponder.Port, IpAddress.AnyIpv4, reuseAddress: true, out var ep), Is.EqualTo(NetError.None));
        ep!.MulticastTimeToLive = 255;
        ep.MulticastLoop = false;
        B.JoinMulticast(MdnsResponder.GroupV4);
        Listener = ep;
        return ep;
    }

    public void Step(int milliseconds = 10)
    {
        Clock.Advance(TimeSpan.FromMilliseconds(milliseconds));
        A.Poll(Clock.Now);
        foreach (var s in ServicesA) s.Poll(A, Clock.Now);
        B.Poll(Clock.Now);
        foreach (var s in ServicesB) s.Poll(B, Clock.Now);
        // Frames sent by the services go out on the next poll; deliver them within this step.
        A.Poll(Clock.Now);
        B.Poll(Clock.Now);
        foreach (var s in ServicesA) s.Poll(A, Clock.Now);
        foreach (var s in ServicesB) s.Poll(B, Clock.Now);
        Drain();
    }

    public void Drain()
    {
        if (Listener is null) return;
        int n;
        while ((n = Listener.Receive(_buffer, out var from, out var port)) >= 0)
            if (Decode(_buffer.AsSpan(0, n), Clock.Now, from, port) is { } seen) Seen.Add(seen);
    }

    public void Run(TimeSpan span)
    {
        var end = Clock.Now + span;
        while (Clock.Now < end) Step();
    }

    public bool RunUntil(Func<bool> done, TimeSpan limit)
    {
        var end = Clock.Now + limit;
        while (!done())
        {
            if (Clock.Now >= end) return false;
            Step();
        }
        return true;
    }

    public static MdnsSeen? Decode(ReadOnlySpan<byte> bytes, TimeSpan at, IpAddress from, ushort port)
    {
        if (DnsMessage.TryParse(bytes, out var m) != WireError.None) return null;
        var entries = new List<MdnsEntry>();
        var reader = m.GetReader();
        while (reader.TryReadQuestion(out var q)) entries.Add(new MdnsEntry(DnsSection.Question, q.Name.ToString(), q.Type, (ushort)q.Class, 0, ""));
        while (reader.TryReadRecord(out var r))
        {
            string data = r.Type switch
            {
                DnsType.A => r.Address.ToString(),
                DnsType.Aaaa => Ipv6Address.Read(r.Ipv6Address).ToString(),
                DnsType.Ptr => r.DomainName.ToString(),
                DnsType.Srv => $"{System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(r.Data[4..])} {new DnsName(bytes, r.DataOffset + 6).ToString()}",
                DnsType.Txt => string.Join(",", ToStrings(r)),
                _ => Convert.ToHexString(r.Data),
            };
            entries.Add(new MdnsEntry(reader.Section, r.Name.ToString(), r.Type, (ushort)r.Class, r.TimeToLive, data));
        }
        if (reader.Error != WireError.None) return null;
        return new MdnsSeen(at, from, port, m.Id, m.IsResponse, entries);
    }

    private static List<string> ToStrings(DnsRecordView r)
    {
        var list = new List<string>();
        foreach (var s in r.Text) list.Add(System.Text.Encoding.UTF8.GetString(s));
        return list;
    }

    /// <summary>Builds an mDNS message: questions (name, type, QU), then records (section, name, type, class, ttl, rdata).</summary>
    public static byte[] Message(ushort id, bool response, (string Name, DnsType Type, bool Qu)[] questions,
        params (DnsSection Section, string Name, DnsType Type, ushort Class, uint Ttl, byte[] Data)[] records)
    {
        var buffer = new byte[9000];
        var w = new DnsWriter(buffer);
        w.WriteHeader(new DnsHeader(id, IsResponse: response, IsAuthoritativeAnswer: response));
        foreach (var q in questions) Assert.That(w.WriteQuestion(q.Name, q.Type, (DnsClass)(q.Qu ? 0x8001 : 1)), Is.EqualTo(WireError.None));
        foreach (var r in records.OrderBy(r => r.Section)) Assert.That(w.WriteRecord(r.Name, r.Type, (DnsClass)r.Class, r.Ttl, r.Data, r.Section), Is.EqualTo(WireError.None));
        return buffer.AsSpan(0, w.Finish()).ToArray();
    }

    public static byte[] Name(string name)
    {
        var b = new byte[256];
        DnsName.TryEncode(name, b, out int n);
        return b.AsSpan(0, n).ToArray();
    }

    public static byte[] V4(Ipv4Address a)
    {
        var b = new byte[4];
        a.WriteTo(b);
        return b;
    }

    public void Dispose()
    {
        foreach (var s in ServicesA) s.Stop(A, Clock.Now);
        foreach (var s in ServicesB) s.Stop(B, Clock.Now);
        A.Dispose();
        B.Dispose();
    }
}
