using TcpIpSharp.Links;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services;

/// <summary>
/// One stack with services (a DHCP client, a resolver) on an in-memory link whose other end the test drives with raw
/// frames, in virtual time: the services are polled after the stack, as <see cref="StackDriver"/> does.
/// </summary>
internal sealed class ServiceRig : IDisposable
{
    public readonly ManualClock Clock = new();
    public readonly NetworkStack Stack;
    public readonly InMemoryLink Peer;
    private readonly List<IStackService> _services;
    private readonly byte[] _buffer = new byte[70000];

    public ServiceRig(NetworkStackOptions? options, params IStackService[] services)
    {
        var (a, b) = InMemoryLink.CreatePair();
        Peer = b;
        Stack = new NetworkStack(a, options ?? new NetworkStackOptions { MacAddress = Frames.StackMac }, new SeededRandomSource(11));
        _services = [.. services];
        Stack.Poll(Clock.Now);
        foreach (var s in _services) s.Start(Stack, Clock.Now);
        Poll();
    }

    /// <summary>A configured stack (192.0.2.2/24, gateway 192.0.2.254) that already knows the peer's MAC.</summary>
    public static ServiceRig Configured(params IStackService[] services)
    {
        var rig = new ServiceRig(new NetworkStackOptions
        {
            MacAddress = Frames.StackMac, Address = Frames.StackIp, PrefixLength = 24, Gateway = Ipv4Address.Parse("192.0.2.254"),
        }, services);
        rig.Inject(Frames.Arp(ArpOperation.Request, Frames.PeerMac, Frames.PeerIp, MacAddress.Zero, Frames.StackIp));
        rig.Drain();
        return rig;
    }

    /// <summary>Addresses the test's side of the link answers ARP requests for, as the peer's MAC (the kernel would).</summary>
    public HashSet<Ipv4Address> ArpResponders { get; } = [Frames.PeerIp];
    /// <summary>The MAC the ARP replies give.</summary>
    public MacAddress ResponderMac { get; set; } = Frames.PeerMac;

    public void Poll()
    {
        for (int round = 0; round < 4; round++)
        {
            Stack.Poll(Clock.Now);
            foreach (var s in _services) s.Poll(Stack, Clock.Now);
            if (!Collect()) break;
        }
    }

    // Moves what the stack sent into the outbox, answering ARP requests for the responders; true when it answered one.
    private bool Collect()
    {
        bool answered = false;
        int n;
        while ((n = Peer.TryReceive(_buffer)) > 0)
        {
            var frame = _buffer.AsSpan(0, n).ToArray();
            _outbox.Add(frame);
            if (EthernetFrame.TryParse(frame, out var eth) == WireError.None && eth.EtherType == EtherType.Arp
                && ArpPacket.TryParse(eth.Payload, out var arp) == WireError.None && arp.Operation == ArpOperation.Request
                && !arp.SenderProtocolAddress.IsAny && ArpResponders.Contains(arp.TargetProtocolAddress))
            {
                Peer.TrySend(Frames.Arp(ArpOperation.Reply, ResponderMac, arp.TargetProtocolAddress, arp.SenderHardwareAddress, arp.SenderProtocolAddress));
                answered = true;
            }
        }
        return answered;
    }

    private readonly List<byte[]> _outbox = [];

    public void Inject(byte[] frame)
    {
        Assert.That(Peer.TrySend(frame), Is.True);
        Poll();
    }

    /// <summary>Moves virtual time forward by <paramref name="by"/>, polling at every deadline on the way (and at least every 250 ms).</summary>
    public void Advance(TimeSpan by)
    {
        var end = Clock.Now + by;
        while (Clock.Now < end)
        {
            var next = Clock.Now + TimeSpan.FromMilliseconds(250);
            if (Stack.NextDeadline(Clock.Now) is TimeSpan d && d > Clock.Now && d < next) next = d;
            foreach (var s in _services)
                if (s.NextDeadline is TimeSpan sd && sd > Clock.Now && sd < next) next = sd;
            Clock.Set(next < end ? next : end);
            Poll();
        }
    }

    /// <summary>Advances until <paramref name="condition"/> holds, failing after <paramref name="limit"/> of virtual time.</summary>
    public void AdvanceUntil(Func<bool> condition, TimeSpan limit, string what)
    {
        var end = Clock.Now + limit;
        while (!condition())
        {
            if (Clock.Now >= end) Assert.Fail($"not within {limit.TotalSeconds} s of virtual time: {what}");
            Advance(TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>Every frame the stack has sent since the last call.</summary>
    public List<byte[]> Drain()
    {
        Collect();
        var list = new List<byte[]>(_outbox);
        _outbox.Clear();
        return list;
    }

    /// <summary>The UDP datagrams among the frames sent since the last call (ARP and the rest are dropped).</summary>
    public List<SentDatagram> DrainUdp() => Drain().Select(SentDatagram.TryParse).OfType<SentDatagram>().ToList();

    public void Dispose()
    {
        Stack.Dispose();
        Peer.Dispose();
    }
}
