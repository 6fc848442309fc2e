using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>One stack (192.0.2.2) on an in-memory link whose other end the test drives with raw frames, in virtual time.</summary>
internal sealed class StackHarness : IDisposable
{
    public readonly ManualClock Clock = new();
    public readonly NetworkStack Stack;
    public readonly InMemoryLink Peer;
    private readonly byte[] _buffer = new byte[70000];

    public StackHarness(NetworkStackOptions? options = null, LinkCapabilities? caps = null, int random = 7)
    {
        var (a, b) = InMemoryLink.CreatePair(caps);
        Peer = b;
        Stack = new NetworkStack(a, options ?? new NetworkStackOptions
        {
            MacAddress = Frames.StackMac, Address = Frames.StackIp, PrefixLength = 24, Gateway = Ipv4Address.Parse("192.0.2.254"),
        }, new SeededRandomSource(random));
        Stack.AfterFrame = TcpIpSharp.Diagnostics.StackInvariants.Check;
        Stack.Poll(Clock.Now);
        Drain();   // the gratuitous ARP
    }

    public void Inject(byte[] frame)
    {
        Assert.That(Peer.TrySend(frame), Is.True);
        Stack.Poll(Clock.Now);
    }

    public void Advance(TimeSpan by)
    {
        var end = Clock.Now + by;
        while (Clock.Now < end)
        {
            var step = TimeSpan.FromMilliseconds(100);
            Clock.Advance(end - Clock.Now < step ? end - Clock.Now : step);
            Stack.Poll(Clock.Now);
        }
    }

    /// <summary>Every frame the stack has sent since the last call.</summary>
    public List<byte[]> Drain()
    {
        var list = new List<byte[]>();
        int n;
        while ((n = Peer.TryReceive(_buffer)) > 0) list.Add(_buffer.AsSpan(0, n).ToArray());
        return list;
    }

    /// <summary>Teaches the stack the peer's MAC (as the kernel's ARP exchange would).</summary>
    public void Learn(Ipv4Address ip, MacAddress mac)
    {
        Inject(Frames.Arp(ArpOperation.Request, mac, ip, MacAddress.Zero, Frames.StackIp));
        Drain();
    }

    public void Dispose() { Stack.Dispose(); Peer.Dispose(); }
}
