using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>
/// Two stacks (192.0.2.10 and 192.0.2.11) over an in-memory pair, optionally through fault injectors, in virtual time.
/// With <see cref="IpFamily.V6"/> they also get static 2001:db8::a and 2001:db8::b (DAD off, usable at once) and
/// <see cref="AddressOfB"/> and <see cref="Connect"/> use those.
/// </summary>
internal sealed class TwoStacks : IDisposable
{
    public readonly ManualClock Clock = new();
    public readonly NetworkStack A, B;
    public readonly FaultInjectorLink? FaultsA, FaultsB;
    public static readonly Ipv4Address AddressA = Ipv4Address.Parse("192.0.2.10"), AddressB = Ipv4Address.Parse("192.0.2.11");
    public static readonly Ipv6Address Address6A = Ipv6Address.Parse("2001:db8::a"), Address6B = Ipv6Address.Parse("2001:db8::b");
    public readonly IpFamily Family;

    /// <summary>A's address in <see cref="Family"/>.</summary>
    public IpAddress AddressOfA => Family == IpFamily.V6 ? Address6A : AddressA;

    /// <summary>B's address in <see cref="Family"/>: what a connection from A goes to.</summary>
    public IpAddress AddressOfB => Family == IpFamily.V6 ? Address6B : AddressB;

    /// <param name="wrap">Wraps each stack's link (A's first) outside the fault injectors: what the stack sends passes it first.</param>
    public TwoStacks(FaultOptions? faults = null, int seed = 1, NetworkStackOptions? options = null, IpFamily family = IpFamily.V4,
        Func<ILink, ILink>? wrap = null)
    {
        Family = family;
        var (a, b) = InMemoryLink.CreatePair(queueFrames: 4096);
        // A frame the stack kept a reference to after returning it would read as garbage (checksums fail, data differs).
        a.PoisonReturnedFrames = b.PoisonReturnedFrames = true;
        ILink linkA = a, linkB = b;
        if (faults is not null)
        {
            linkA = FaultsA = new FaultInjectorLink(a, faults, seed, Clock);
            linkB = FaultsB = new FaultInjectorLink(b, faults with { }, seed + 7919, Clock);
        }
        if (wrap is not null)
        {
            linkA = wrap(linkA);
            linkB = wrap(linkB);
        }
        var o = options ?? new NetworkStackOptions();
        NetworkStackOptions oa = o, ob = o;
        if (family == IpFamily.V6)
        {
            var v6 = o.Ipv6 ?? new TcpIpSharp.Net.Ipv6.Ipv6Options();
            oa = o with { Ipv6 = v6 with { StaticAddresses = [.. v6.StaticAddresses, (Address6A, 64)], DupAddrDetectTransmits = 0 } };
            ob = o with { Ipv6 = v6 with { StaticAddresses = [.. v6.StaticAddresses, (Address6B, 64)], DupAddrDetectTransmits = 0 } };
        }
        A = new NetworkStack(linkA, oa with { MacAddress = MacAddress.Parse("02:00:00:00:00:0a"), Address = AddressA, PrefixLength = 24 }, new SeededRandomSource(seed));
        B = new NetworkStack(linkB, ob with { MacAddress = MacAddress.Parse("02:00:00:00:00:0b"), Address = AddressB, PrefixLength = 24 }, new SeededRandomSource(seed + 1));
        // Issue 8: every simulation asserts the stack invariants after every frame.
        A.AfterFrame = TcpIpSharp.Diagnostics.StackInvariants.Check;
        B.AfterFrame = TcpIpSharp.Diagnostics.StackInvariants.Check;
        // IPv6 starts on the first poll; with DAD off the static addresses are preferred from then on, so a connect may follow.
        if (family == IpFamily.V6) { A.Poll(Clock.Now); B.Poll(Clock.Now); }
    }

    /// <summary>Polls both until <paramref name="done"/> holds or <paramref name="limit"/> of virtual time passes, moving
    /// the clock by <paramref name="step"/> (1 ms); returns the time taken.</summary>
    public TimeSpan RunUntil(Func<bool> done, TimeSpan limit, Action? each = null, TimeSpan? step = null)
    {
        var start = Clock.Now;
        var advance = step ?? TimeSpan.FromMilliseconds(1);
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
            Clock.Advance(advance);
        }
        return Clock.Now - start;
    }

    /// <summary>A connection from A to B on <paramref name="port"/>, established and accepted.</summary>
    public (TcpIpSharp.Transport.Tcp.TcpConnection Client, TcpIpSharp.Transport.Tcp.TcpConnection Server) Connect(ushort port = 5001)
    {
        var listener = B.ListenTcp(port);
        var client = A.ConnectTcp(AddressOfB, port);
        TcpIpSharp.Transport.Tcp.TcpConnection? server = null;
        RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(5));
        return (client, server!);
    }

    public void Dispose() { A.Dispose(); B.Dispose(); }
}
