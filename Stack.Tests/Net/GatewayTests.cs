using System.Net;
using System.Net.Sockets;
using TcpIpSharp.Gateway;
using TcpIpSharp.Links;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>
/// Issue 19 without root: the interface on an IP link (a TUN's bare packets, no ARP), gateway mode in the TCP table
/// (SYNs to any address held until the relay decides), and <see cref="GatewayHost"/> end to end between two stacks over
/// an in-memory IP link, relaying to a loopback server through a rule's own connector.
/// </summary>
public class GatewayTests
{
    private static readonly LinkCapabilities IpLink = new(1500, 1500, CarriesEthernet: false);
    internal static readonly Ipv4Address Far = Ipv4Address.Parse("198.51.100.7");

    private static byte[] Packet(byte[] frame) => frame.AsSpan(EthernetHeader.Size).ToArray();

    internal static byte[] TcpPacket(Ipv4Address src, Ipv4Address dst, ushort sport, ushort dport, uint seq, uint ack, TcpFlags flags)
    {
        var segment = new byte[TcpHeader.MinimumSize + 4];
        int n = new TcpHeader(sport, dport, seq, ack, flags, 65535, 0, new TcpOptions { MaximumSegmentSize = 1460 }).WriteTo(segment);
        TcpHeader.FillChecksum(segment.AsSpan(0, n), src, dst);
        return Packet(Frames.Ipv4(src, dst, IpProtocol.Tcp, segment.AsSpan(0, n)));
    }

    [Test]
    public void IpLink_AnswersBarePacketsWithoutArp()
    {
        using var h = new StackHarness(caps: IpLink);
        Assert.That(h.Drain(), Is.Empty, "no gratuitous ARP on an IP link");
        h.Inject(Packet(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, Frames.EchoMessage(IcmpType.EchoRequest, 9, 1, 56))));
        var sent = h.Drain();
        Assert.That(sent, Has.Count.EqualTo(1));
        Assert.That(Ipv4Packet.TryParse(sent[0], out var reply), Is.EqualTo(WireError.None), "a bare IPv4 packet, no Ethernet header");
        Assert.That((reply.Source, reply.Destination, reply.Protocol), Is.EqualTo((Frames.StackIp, Frames.PeerIp, IpProtocol.Icmp)));
        // Off-link destinations need no gateway: the link reaches everything.
        h.Stack.OpenUdp(5000).SendTo(new byte[10], new IpAddress(Far), 9);
        h.Stack.Poll(h.Clock.Now);
        Assert.That(h.Drain().Select(p => Ipv4Packet.TryParse(p, out var ip) == WireError.None ? ip.Destination : default), Is.EqualTo(new[] { Far }));
        Assert.That(h.Stack.Statistics.Snapshot().Where(kv => kv.Key.StartsWith("arp.", StringComparison.Ordinal)).Sum(kv => kv.Value), Is.Zero);
    }

    [Test]
    public void IpLink_PacketPathAllocatesNothingAfterWarmUp()
    {
        using var h = new StackHarness(caps: IpLink);
        var echo = h.Stack.OpenUdp(7);
        var ping = Packet(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, Frames.EchoMessage(IcmpType.EchoRequest, 1, 1, 56)));
        var udp = Packet(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Frames.StackIp, 4000, 7, new byte[512])));
        var buffer = new byte[2048];
        var sink = new byte[70000];
        void Round()
        {
            h.Peer.TrySend(ping);
            h.Peer.TrySend(udp);
            h.Stack.Poll(h.Clock.Now);
            while (echo.Receive(buffer, out var from, out var port) is int n && n >= 0) echo.SendTo(buffer.AsSpan(0, n), from, port);
            h.Stack.Poll(h.Clock.Now);
            while (h.Peer.TryReceive(sink) > 0) { }
        }
        for (int i = 0; i < 200; i++) Round();
        long allocated = AllocationMeter.BytesAllocatedBy(() => { for (int i = 0; i < 5000; i++) Round(); });
        Assert.That(allocated, Is.Zero, "bytes allocated on an IP link's packet path");
        Assert.That(h.Stack.Statistics.EchoRepliesSent, Is.GreaterThan(5000));
    }

    [Test]
    public void GatewayMode_HoldsTheSynAckUntilReleased_AndKeysByDestination()
    {
        using var h = new StackHarness(caps: IpLink);
        h.Stack.Ipv4.AcceptAnyDestination = true;
        var held = new List<TcpConnection>();
        h.Stack.Tcp.ListenAnyDestination(16, 16, null);
        h.Stack.Tcp.AnyDestinationSyn = held.Add;
        var second = Ipv4Address.Parse("198.51.100.8");
        // One guest port toward two destinations: two connections.
        h.Inject(TcpPacket(Frames.PeerIp, Far, 40000, 80, 1000, 0, TcpFlags.Syn));
        h.Inject(TcpPacket(Frames.PeerIp, second, 40000, 80, 5000, 0, TcpFlags.Syn));
        Assert.That(held.Select(c => c.LocalAddress), Is.EqualTo(new[] { new IpAddress(Far), new IpAddress(second) }));
        Assert.That(h.Drain(), Is.Empty, "the SYN-ACKs wait for the relay");
        h.Inject(TcpPacket(Frames.PeerIp, Far, 40000, 80, 1000, 0, TcpFlags.Syn));   // a retransmitted SYN waits too
        Assert.That(h.Drain(), Is.Empty);

        held[0].ReleaseSynAck(h.Clock.Now);
        h.Stack.Poll(h.Clock.Now);
        var synAck = h.Drain().Single();
        Ipv4Packet.TryParse(synAck, out var ip);
        TcpSegment.TryParse(ip.Payload, out var seg);
        Assert.That((ip.Source, seg.SourcePort, seg.Flags, seg.AcknowledgmentNumber), Is.EqualTo((Far, (ushort)80, TcpFlags.Syn | TcpFlags.Ack, 1001u)), "from the original destination");

        held[1].RefuseHeld(h.Clock.Now);
        var reset = h.Drain().Single();
        Ipv4Packet.TryParse(reset, out ip);
        TcpSegment.TryParse(ip.Payload, out seg);
        Assert.That((ip.Source, seg.Flags, seg.AcknowledgmentNumber), Is.EqualTo((second, TcpFlags.Rst | TcpFlags.Ack, 5001u)), "a refusal a SYN-SENT peer takes");
    }

    [Test]
    public void GatewayMode_FilterRefusesWithAReset()
    {
        using var h = new StackHarness(caps: IpLink);
        h.Stack.Ipv4.AcceptAnyDestination = true;
        h.Stack.Tcp.ListenAnyDestination(16, 16, null);
        h.Stack.Tcp.AnyDestinationFilter = (_, _, _, port) => port != 25;
        h.Inject(TcpPacket(Frames.PeerIp, Far, 40001, 25, 7, 0, TcpFlags.Syn));
        var reset = h.Drain().Single();
        Ipv4Packet.TryParse(reset, out var ip);
        TcpSegment.TryParse(ip.Payload, out var seg);
        Assert.That((ip.Source, seg.Flags & TcpFlags.Rst), Is.EqualTo((Far, TcpFlags.Rst)));
    }

    // Two stacks on an in-memory IP link, each on its own driver: a "guest" (192.0.2.2) and the gateway (192.0.2.1).
    internal sealed class Pair : IDisposable
    {
        public readonly NetworkStack Guest, Gateway;
        public readonly StackDriver GuestDriver, GatewayDriver;
        public readonly GatewayHost Host;
        private readonly CancellationTokenSource _stop = new();

        public Pair(GatewayOptions options, Func<ILink, ILink>? wrapGuestLink = null)
        {
            var (a, b) = InMemoryLink.CreatePair(IpLink, queueFrames: 4096);
            Guest = new NetworkStack(wrapGuestLink is null ? a : wrapGuestLink(a), new NetworkStackOptions { Address = Frames.StackIp, PrefixLength = 24, AnnounceOnUp = false });
            Gateway = new NetworkStack(b, new NetworkStackOptions { Address = Frames.PeerIp, PrefixLength = 24, AnnounceOnUp = false });
            GuestDriver = new StackDriver(Guest);
            GatewayDriver = new StackDriver(Gateway);
            Host = GatewayHost.Start(GatewayDriver, options);
            GatewayDriver.Start(_stop.Token);
            GuestDriver.Start(_stop.Token);
        }

        public void Dispose()
        {
            _stop.Cancel();
            GuestDriver.Stop();
            GatewayDriver.Stop();
            Host.Dispose();
            Guest.Dispose();
            Gateway.Dispose();
            _stop.Dispose();
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public void GatewayHost_RelaysBothWaysWithHalfClose_ThroughARulesConnector()
    {
        // The loopback server echoes what it gets and closes its side after the guest's FIN.
        using var server = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        server.Start();
        int port = ((IPEndPoint)server.LocalEndpoint).Port;
        var serving = Task.Run(async () =>
        {
            using var client = await server.AcceptSocketAsync();
            var buffer = new byte[65536];
            int n;
            while ((n = await client.ReceiveAsync(buffer)) > 0)
                for (int sent = 0; sent < n;) sent += await client.SendAsync(buffer.AsMemory(sent, n - sent));
            client.Shutdown(SocketShutdown.Send);
        });
        GatewayFlow? seen = null;
        using var pair = new Pair(new GatewayOptions
        {
            Rule = (in GatewayFlow flow) =>
            {
                seen = flow;
                return GatewayDecision.Handle(async (_, token) =>
                {
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), token);
                    return s;
                });
            },
        });
        var data = new byte[2 * 1024 * 1024];
        new Random(5).NextBytes(data);
        var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(new IpAddress(Far), 443));
        var received = new MemoryStream();
        int offset = 0;
        bool shut = false, ended = false;
        var buffer = new byte[65536];
        while (!ended)
        {
            bool moved = pair.GuestDriver.Invoke(_ =>
            {
                bool any = false;
                if (connection.State == TcpState.Closed && !connection.IsEndOfStream) Assert.Fail($"the connection failed: {connection.Error}");
                if (offset < data.Length && connection.State is TcpState.Established or TcpState.CloseWait)
                {
                    int n = connection.Send(data.AsSpan(offset));
                    offset += n;
                    any |= n > 0;
                }
                else if (offset == data.Length && !shut) { connection.Shutdown(); shut = true; any = true; }
                int r = connection.Receive(buffer);
                if (r > 0) { received.Write(buffer, 0, r); any = true; }
                else if (r == 0) ended = true;
                return any;
            });
            if (!moved) Thread.Sleep(1);
        }
        serving.Wait(TimeSpan.FromSeconds(10));
        Assert.That(received.ToArray().AsSpan().SequenceEqual(data), "2 MB through the relay and back differ");
        Assert.That(seen, Is.EqualTo(new GatewayFlow(GatewayProtocol.Tcp, new IpAddress(Frames.StackIp), connection.LocalPort, new IpAddress(Far), 443)));
        var stats = pair.Host.Statistics;
        Assert.That((stats.TcpFlowsOpened, stats.BytesUp, stats.BytesDown), Is.EqualTo((1L, (long)data.Length, (long)data.Length)));
        // The same counters on the TcpIpSharp meter.
        stats.Publish();
        var counters = new Dictionary<string, long>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == TcpIpSharp.Diagnostics.StackStatistics.MeterName) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => counters[instrument.Name] = value);
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.That(counters.GetValueOrDefault("tcpipsharp.gateway.bytes_up"), Is.EqualTo(data.Length));
        Assert.That(counters.GetValueOrDefault("tcpipsharp.gateway.tcp_opened"), Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(60_000)]
    public void GatewayHost_LongUpload_FillsASecondBufferWhileTheHostSocketIsFull_AndStaysBounded()
    {
        // A server that stops reading after 2 MB, with small socket buffers on both ends of the host connection: the
        // upload's task blocks in its send. The stack's thread then fills the second buffer (and hands it over) before
        // the connection's receive ring and window fill, and no more: the guest stalls with at most its send ring, the
        // gateway's receive ring and the two buffers (each RelayBufferSize) outstanding beyond what the server read.
        // Then the server reads on: every byte arrives, in order, and the guest's FIN.
        const int Total = 6 << 20, FirstRead = 2 << 20, Ring = 256 * 1024, Buffer = 256 * 1024;
        using var server = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        server.Server.ReceiveBufferSize = 4096;
        server.Start();
        int port = ((IPEndPoint)server.LocalEndpoint).Port;
        long budget = FirstRead;
        var serving = Task.Run(async () =>
        {
            using var client = await server.AcceptSocketAsync();
            var buffer = new byte[65536];
            long total = 0;
            bool inOrder = true;
            while (true)
            {
                long allowed = Interlocked.Read(ref budget) - total;
                if (allowed <= 0) { await Task.Delay(5); continue; }
                int n = await client.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, allowed)));
                if (n == 0) break;
                for (int i = 0; i < n; i++) inOrder &= buffer[i] == (byte)((total + i) % 251);
                total += n;
            }
            return (total, inOrder);
        });
        using var pair = new Pair(new GatewayOptions
        {
            RelayBufferSize = Buffer,
            Rule = (in GatewayFlow _) => GatewayDecision.Handle(async (_, token) =>
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendBufferSize = 4096 };
                await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), token);
                return s;
            }),
        });
        var data = new byte[Total];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i % 251);
        var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(new IpAddress(Far), 9));
        int offset = 0;
        // Sends until the guest's connection takes nothing for a second and a half: the stall.
        void SendUntilStalled()
        {
            var idle = System.Diagnostics.Stopwatch.StartNew();
            while (offset < Total && idle.ElapsedMilliseconds < 1500)
            {
                int n = pair.GuestDriver.Invoke(_ => connection.State == TcpState.Established ? connection.Send(data.AsSpan(offset)) : 0);
                offset += n;
                if (n > 0) idle.Restart();
                else Thread.Sleep(1);
            }
        }
        SendUntilStalled();
        int handed = pair.GatewayDriver.Invoke(_ => pair.Host.TcpRelays.Single().UpBuffersHanded);
        long held = offset - FirstRead;
        TestContext.Out.WriteLine($"stalled: {held / 1024} KB taken beyond the {FirstRead >> 20} MB read; buffers with the task: {handed}");
        Assert.That(handed, Is.EqualTo(2), "the stack's thread did not fill and hand over the second buffer while the task's send was blocked");
        // The guest's send ring, the gateway's receive ring and the two buffers, less what the task already gave its
        // socket (the kernel's small buffers hold it): at least three of the four, at most the four and the kernel's.
        Assert.That(held, Is.InRange(Ring + Ring + Buffer, Ring + Ring + 2 * Buffer + 256 * 1024), "bytes outstanding when the guest stalled");
        Interlocked.Exchange(ref budget, long.MaxValue);
        SendUntilStalled();
        Assert.That(offset, Is.EqualTo(Total), "the guest stalled again after the server read on");
        pair.GuestDriver.Invoke(_ => { connection.Shutdown(); return 0; });
        Assert.That(serving.Wait(TimeSpan.FromSeconds(20)), Is.True, "the server did not see the guest's FIN");
        Assert.That(serving.Result, Is.EqualTo(((long)Total, true)), "bytes received by the server, and whether in order");
        Assert.That(pair.Host.Statistics.BytesUp, Is.EqualTo(Total));
    }

    [Test]
    [CancelAfter(30_000)]
    public void GatewayHost_StackThreadAllocatesNothingPerPacketOnceAFlowRuns()
    {
        // A sink on loopback; the guest streams 24 MB to it through the relay. The gateway's driver thread (stack and
        // relay pumping) is measured over the last 16 MB. In the warm-up the sink stops reading for a second once the
        // upload is long (past 2 MB): the relay's buffers and the connection's receive ring fill, so the ring has grown
        // to its full size (rented from the pool as data arrives, once per connection) before the measurement. With most
        // bytes taken from the frame into the relay's buffers, the ring may otherwise first fill, and grow, at any time.
        using var server = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        server.Server.ReceiveBufferSize = 65536;
        server.Start();
        int port = ((IPEndPoint)server.LocalEndpoint).Port;
        var sinking = Task.Run(async () =>
        {
            using var client = await server.AcceptSocketAsync();
            var buffer = new byte[65536];
            long total = 0;
            bool paused = false;
            int n;
            while ((n = await client.ReceiveAsync(buffer)) > 0)
            {
                total += n;
                if (!paused && total >= 2L << 20) { paused = true; await Task.Delay(1000); }
            }
            return total;
        });
        using var pair = new Pair(new GatewayOptions
        {
            Rule = (in GatewayFlow _) => GatewayDecision.Handle(async (_, token) =>
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), token);
                return s;
            }),
        });
        long DriverAllocated()
        {
            long value = 0;
            using var done = new ManualResetEventSlim();
            pair.GatewayDriver.Post(_ => { value = GC.GetAllocatedBytesForCurrentThread(); done.Set(); });
            done.Wait();
            return value;
        }
        var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(new IpAddress(Far), 9));
        var chunk = new byte[65536];
        long sent = 0, measuredFrom = 0, before = 0;
        const long Total = 24L << 20, WarmUp = 8L << 20;
        while (sent < Total)
        {
            if (measuredFrom == 0 && sent >= WarmUp) { measuredFrom = sent; before = DriverAllocated(); }
            int want = (int)Math.Min(chunk.Length, Total - sent);
            int n = pair.GuestDriver.Invoke(_ => connection.State == TcpState.Established ? connection.Send(chunk.AsSpan(0, want)) : 0);
            sent += n;
            if (n == 0) Thread.Sleep(1);
        }
        long after = DriverAllocated();
        pair.GuestDriver.Invoke(_ => { connection.Shutdown(); return 0; });
        Assert.That(sinking.Wait(TimeSpan.FromSeconds(20)), Is.True);
        Assert.That(sinking.Result, Is.EqualTo(Total));
        TestContext.Out.WriteLine($"gateway driver thread: {after - before} bytes allocated over {(Total - measuredFrom) >> 20} MB relayed");
        // Nothing per packet: 16 MB is over 11,000 segments, so even 24 bytes each would be 260 KB. One run of the full
        // suite on a loaded machine saw a one-off 1,064 B (0 in every run alone; its source not found yet), hence a bound
        // of 4 KB rather than zero.
        Assert.That(after - before, Is.LessThan(4096), "bytes the gateway's stack thread allocated while relaying");
    }

    [Test]
    [CancelAfter(20_000)]
    public void GatewayHost_RefusedDestinationsGetAResetAtOnce()
    {
        using var pair = new Pair(new GatewayOptions
        {
            Deny = [IPNetwork.Parse("198.51.100.0/25")],
            Rule = (in GatewayFlow flow) => GatewayDecision.Handle((_, _) => ValueTask.FromResult<Socket?>(null)),   // the connector refuses
        });
        foreach (var destination in new[] { Far, Ipv4Address.Parse("198.51.100.200") })
        {
            var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(new IpAddress(destination), 80));
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (pair.GuestDriver.Invoke(_ => connection.State) != TcpState.Closed && watch.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(1);
            Assert.That((connection.State, connection.Error), Is.EqualTo((TcpState.Closed, NetError.ConnectionRefused)), destination.ToString());
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
        }
        Assert.That(pair.Host.Statistics.TcpFlowsRefused, Is.EqualTo(2));
    }

    [Test]
    [CancelAfter(20_000)]
    public void GatewayHost_HostUnreachable_IsAnIcmpErrorQuotingTheSyn_NotAReset()
    {
        using var pair = new Pair(new GatewayOptions
        {
            Rule = (in GatewayFlow _) => GatewayDecision.Handle((_, _) => throw new SocketException((int)SocketError.HostUnreachable)),
        });
        var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(new IpAddress(Far), 80));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (pair.GuestDriver.Invoke(s => s.Statistics.Snapshot().First(kv => kv.Key == "icmp.errors_received").Value) == 0 && watch.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(5);
        var (errors, ignored, state) = pair.GuestDriver.Invoke(s => (s.Statistics.Snapshot().First(kv => kv.Key == "icmp.errors_received").Value,
            s.Statistics.Snapshot().First(kv => kv.Key == "tcp.icmp_ignored").Value, connection.State));
        Assert.That(errors, Is.EqualTo(1), "no ICMP error reached the guest");
        Assert.That(ignored, Is.Zero, "the guest did not match the quoted SYN (ports and sequence number) to its connection");
        // This stack keeps a host unreachable as a soft error in SYN-SENT (RFC 1122 4.2.3.9; Linux gives up): no reset came.
        Assert.That(state, Is.EqualTo(TcpState.SynSent));
        Assert.That(pair.Host.Statistics.IcmpErrorsToGuest, Is.EqualTo(1));
    }

    [Test]
    public void SendUnreachable_QuotesARebuiltHeaderAndTheTransportStart()
    {
        using var h = new StackHarness(caps: IpLink);
        var udp = new byte[8 + 20];
        new UdpHeader(40000, 9, (ushort)udp.Length).WriteTo(udp);
        h.Stack.Internet.SendUnreachable(new IpAddress(Frames.PeerIp), new IpAddress(Far), IpProtocol.Udp, udp, udp.Length, TcpIpSharp.Net.UnreachableReason.Port);
        var sent = h.Drain().Single();
        Assert.That(Ipv4Packet.TryParse(sent, out var ip), Is.EqualTo(WireError.None));
        Assert.That(IcmpPacket.TryParse(ip.Payload, out var icmp), Is.EqualTo(WireError.None));
        // A port unreachable comes from the destination itself (the host without the port), not from the gateway.
        Assert.That((ip.Source, ip.Destination, icmp.Type, icmp.Code, icmp.IsChecksumValid), Is.EqualTo((Far, Frames.PeerIp, IcmpType.DestinationUnreachable, (byte)3, true)));
        Assert.That(icmp.TryGetQuote(out var quote), Is.EqualTo(WireError.None));
        Assert.That((quote.Source, quote.Destination, quote.Protocol, quote.SourcePort, quote.DestinationPort), Is.EqualTo((Frames.PeerIp, Far, IpProtocol.Udp, (ushort)40000, (ushort)9)));
        Assert.That(quote.Transport.Length, Is.EqualTo(udp.Length));
    }

    [Test]
    [CancelAfter(20_000)]
    public void Socks5Udp_ADatagramSentAsTheAssociationStands_KeepsTheOneThatWaitedAndTheOrder()
    {
        // A SOCKS5 proxy on loopback that answers the UDP ASSOCIATE only when told, with a relay address the test reads.
        using var control = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        control.Start();
        using var proxyRelay = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        proxyRelay.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        proxyRelay.ReceiveTimeout = 3000;
        int relayPort = ((IPEndPoint)proxyRelay.LocalEndPoint!).Port;
        using var answer = new SemaphoreSlim(0);
        static async Task ReceiveExactly(Socket socket, byte[] buffer, int count)
        {
            for (int got = 0; got < count;) got += await socket.ReceiveAsync(buffer.AsMemory(got, count - got));
        }
        var serving = Task.Run(async () =>
        {
            using var client = await control.AcceptSocketAsync();
            var buffer = new byte[64];
            await ReceiveExactly(client, buffer, 3);                 // VER 5, one method, no authentication
            await client.SendAsync(new byte[] { 5, 0 });
            await ReceiveExactly(client, buffer, 10);                // UDP ASSOCIATE 0.0.0.0:0
            await answer.WaitAsync();
            await client.SendAsync(new byte[] { 5, 0, 0, 1, 127, 0, 0, 1, (byte)(relayPort >> 8), (byte)relayPort });
            try
            {
                while (await client.ReceiveAsync(buffer) > 0) { }   // the association lives as long as this connection
            }
            catch (SocketException) { }                             // ended by a reset: ended all the same
        });
        using var pair = new Pair(new GatewayOptions { Socks5Proxy = control.LocalEndpoint });
        pair.GatewayDriver.Stop();   // from here this test is the stack's thread: the flow is pumped by hand
        var flow = new GatewayFlow(GatewayProtocol.Udp, new IpAddress(Frames.StackIp), 4000, new IpAddress(Far), 7);
        var relay = new UdpRelay(pair.Host, flow, UdpRelay.OpenForProxy(pair.Host.Options), 2048, TimeSpan.Zero, socks: true);
        try
        {
            relay.Start();
            relay.SendUp("first"u8, TimeSpan.Zero);        // waits in the flow for the association
            answer.Release();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (pair.Host.Statistics.Socks5UdpAssociations == 0 && watch.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(2);
            Assert.That(pair.Host.Statistics.Socks5UdpAssociations, Is.EqualTo(1), "the association was not made");
            Thread.Sleep(100);
            // The next datagram from the guest comes before the stack's thread has pumped the flow (the task's wake-up is
            // served after the frames of the same poll).
            relay.SendUp("second!"u8, TimeSpan.Zero);
            relay.Pump(pair.Gateway.Internet, TimeSpan.Zero);
            var got = new List<string>();
            var buffer = new byte[2048];
            for (int i = 0; i < 2; i++)
            {
                int n = proxyRelay.Receive(buffer);
                Assert.That(Socks5Connector.TryReadUdpHeader(buffer.AsSpan(0, n), out var to, out ushort toPort, out int header), Is.True);
                Assert.That((to, toPort), Is.EqualTo((new IpAddress(Far), (ushort)7)));
                got.Add(System.Text.Encoding.ASCII.GetString(buffer, header, n - header));
            }
            Assert.That(got, Is.EqualTo(new[] { "first", "second!" }), "the datagrams the proxy got, in order");
            Assert.That(pair.Host.Statistics.UdpDatagramsUp, Is.EqualTo(2));
        }
        finally
        {
            relay.Close();
        }
        Assert.That(serving.Wait(TimeSpan.FromSeconds(5)), Is.True, "closing the flow did not end the association's control connection");
    }

    [Test]
    public void Socks5UdpHeader_RoundTripsBothFamilies_AndRefusesFragments()
    {
        var buffer = new byte[64];
        foreach (var (address, size) in new[] { (new IpAddress(Far), 10), (IpAddress.Parse("2001:db8::5"), 22) })
        {
            Assert.That(Socks5Connector.WriteUdpHeader(buffer, address, 5353), Is.EqualTo(size));
            Assert.That(buffer.AsSpan(0, 4).ToArray(), Is.EqualTo(new byte[] { 0, 0, 0, (byte)(size == 10 ? 1 : 4) }), "RSV, FRAG 0, ATYP (RFC 1928 7)");
            Assert.That(Socks5Connector.TryReadUdpHeader(buffer.AsSpan(0, size + 3), out var read, out ushort port, out int length), Is.True);
            Assert.That((read, port, length), Is.EqualTo((address, (ushort)5353, size)));
        }
        buffer[2] = 1;
        Assert.That(Socks5Connector.TryReadUdpHeader(buffer, out _, out _, out _), Is.False, "a fragment");
        Assert.That(Socks5Connector.TryReadUdpHeader(buffer.AsSpan(0, 9), out _, out _, out _), Is.False, "truncated");
    }
}
