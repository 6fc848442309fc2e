using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Simulation;

/// <summary>
/// Two stacks on the in-memory pair in virtual time (a <see cref="ManualClock"/> moved 10 ms per step), each with its
/// services: A and its services poll first, then B and its. A frame A sends in a step reaches B in the same step; one
/// B sends reaches A in the next.
/// </summary>
internal sealed class PairSim : IDisposable
{
    public static readonly DateTime Epoch = new(2026, 12, 7, 1, 0, 0, DateTimeKind.Utc);
    public ManualClock Clock { get; } = new();
    public NetworkStack A { get; }
    public NetworkStack B { get; }
    public List<IStackService> ServicesA { get; } = [];
    public List<IStackService> ServicesB { get; } = [];
    public TimeSpan StepSize { get; set; } = TimeSpan.FromMilliseconds(10);

    public PairSim(NetworkStackOptions? a = null, NetworkStackOptions? b = null, int seed = 1, DateTime? epoch = null)
    {
        var (la, lb) = InMemoryLink.CreatePair();
        la.PoisonReturnedFrames = lb.PoisonReturnedFrames = true;   // a frame kept past its return reads as garbage
        var oa = a ?? new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = Ipv4Address.Parse("192.0.2.10") };
        var ob = b ?? new NetworkStackOptions { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = Ipv4Address.Parse("192.0.2.11") };
        A = new NetworkStack(la, oa with { WallClockEpoch = oa.WallClockEpoch ?? epoch ?? Epoch }, new SeededRandomSource(seed));
        B = new NetworkStack(lb, ob with { WallClockEpoch = ob.WallClockEpoch ?? epoch ?? Epoch }, new SeededRandomSource(seed + 1000));
        A.AfterFrame = B.AfterFrame = Diagnostics.StackInvariants.Check;
    }

    public T AddA<T>(T service) where T : IStackService { ServicesA.Add(service); service.Start(A, Clock.Now); return service; }
    public T AddB<T>(T service) where T : IStackService { ServicesB.Add(service); service.Start(B, Clock.Now); return service; }

    public void Step()
    {
        Clock.Advance(StepSize);
        A.Poll(Clock.Now);
        foreach (var s in ServicesA) s.Poll(A, Clock.Now);
        B.Poll(Clock.Now);
        foreach (var s in ServicesB) s.Poll(B, Clock.Now);
    }

    /// <summary>Each stack learns the other's MAC (one datagram each way), so that later exchanges take no ARP round trip.</summary>
    public PairSim WarmArp()
    {
        var ua = A.OpenUdp();
        var ub = B.OpenUdp();
        ua.SendTo([1], B.Address, 9);
        ub.SendTo([1], A.Address, 9);
        for (int i = 0; i < 5; i++) Step();
        ua.Close();
        ub.Close();
        return this;
    }

    public void RunFor(TimeSpan span)
    {
        var end = Clock.Now + span;
        while (Clock.Now < end) Step();
    }

    public void RunUntil(Func<bool> done, TimeSpan limit, string what)
    {
        var end = Clock.Now + limit;
        while (!done())
        {
            if (Clock.Now >= end) Assert.Fail($"{what}: not within {limit.TotalSeconds} s of virtual time");
            Step();
        }
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
