using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>Two stacks (192.0.2.10 and 192.0.2.11) over an in-memory pair, optionally through fault injectors, in virtual time.</summary>
internal sealed class TwoStacks : IDisposable
{
    public readonly ManualClock Clock = new();
    public readonly NetworkStack A, B;
    public readonly FaultInjectorLink? FaultsA, FaultsB;
    public static readonly Ipv4Address AddressA = Ipv4Address.Parse("192.0.2.10"), AddressB = Ipv4Address.Parse("192.0.2.11");

    public TwoStacks(FaultOptions? faults = null, int seed = 1, NetworkStackOptions? options = null)
    {
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 4096);
        ILink linkA = a, linkB = b;
        if (faults is not null)
        {
            linkA = FaultsA = new FaultInjectorLink(a, faults, seed, Clock);
            linkB = FaultsB = new FaultInjectorLink(b, faults with { }, seed + 7919, Clock);
        }
        var o = options ?? new NetworkStackOptions();
        A = new NetworkStack(linkA, o with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = AddressA, PrefixLength = 24 }, new SeededRandomSource(seed));
        B = new NetworkStack(linkB, o with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = AddressB, PrefixLength = 24 }, new SeededRandomSource(seed + 1));
        // Issue 8: every simulation asserts the stack invariants after every frame.
        A.AfterFrame = TcpIpSharp.Diagnostics.StackInvariants.Check;
        B.AfterFrame = TcpIpSharp.Diagnostics.StackInvariants.Check;
    }

    /// <summary>Polls both until <paramref name="done"/> holds or <paramref name="limit"/> of virtual time passes; returns the time taken.</summary>
    public TimeSpan RunUntil(Func<bool> done, TimeSpan limit, Action? each = null)
    {
        var start = Clock.Now;
        var step = TimeSpan.FromMilliseconds(1);
        while (!done())
        {
            if (Clock.Now - start > limit) throw new TimeoutException($"not done after {limit} of virtual time");
            bool worked = true;
            for (int i = 0; i < 64 && worked; i++)
            {
                worked = A.Poll(Clock.Now) | B.Poll(Clock.Now);
                each?.Invoke();
                worked |= A.Poll(Clock.Now) | B.Poll(Clock.Now);
            }
            Clock.Advance(step);
        }
        return Clock.Now - start;
    }

    /// <summary>A connection from A to B on <paramref name="port"/>, established and accepted.</summary>
    public (TcpIpSharp.Transport.Tcp.TcpConnection Client, TcpIpSharp.Transport.Tcp.TcpConnection Server) Connect(ushort port = 5001)
    {
        var listener = B.ListenTcp(port);
        var client = A.ConnectTcp(AddressB, port);
        TcpIpSharp.Transport.Tcp.TcpConnection? server = null;
        RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(5));
        return (client, server!);
    }

    public void Dispose() { A.Dispose(); B.Dispose(); }
}
