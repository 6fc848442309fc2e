using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using TcpIpSharp.Gateway;
using TcpIpSharp.Links;
using TcpIpSharp.Net;
using TcpIpSharp.Net.Ipv6;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>
/// Issue 19's ICMP errors from the host side, without root: which error a failure becomes (a connect's timeout, a
/// SOCKS5 proxy's reply, a UDP flow's refusal, an echo flow's unreachable host), the address it comes from (a port
/// unreachable from the destination, the rest from the gateway: the router) and what it quotes, in both families.
/// </summary>
public class GatewayErrorTests
{
    private static readonly LinkCapabilities IpLink = new(1500, 1500, CarriesEthernet: false);
    private static readonly Ipv6Address Gateway6 = Ipv6Address.Parse("2001:db8:1::1"), Guest6 = Ipv6Address.Parse("2001:db8:1::2"), Far6 = Ipv6Address.Parse("2001:db8:2::7");

    // The guest's link, keeping a copy of every ICMP or ICMPv6 packet the guest receives.
    private sealed class IcmpRecorder(ILink inner) : ILink
    {
        public readonly ConcurrentQueue<byte[]> Received = new();
        public LinkCapabilities Capabilities => inner.Capabilities;
        public int TryReceive(Span<byte> buffer)
        {
            int n = inner.TryReceive(buffer);
            if (n > 0 && (buffer[0] >> 4 == 4 && buffer[9] == (byte)IpProtocol.Icmp || buffer[0] >> 4 == 6 && buffer[6] == (byte)IpProtocol.Icmpv6))
                Received.Enqueue(buffer[..n].ToArray());
            return n;
        }
        public bool TrySend(ReadOnlySpan<byte> frame) => inner.TrySend(frame);
        public bool WaitReadable(TimeSpan timeout) => inner.WaitReadable(timeout);
        public void Interrupt() => inner.Interrupt();
        public void Dispose() => inner.Dispose();

        public byte[] Next(TimeSpan within)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (watch.Elapsed < within)
            {
                if (Received.TryDequeue(out var packet)) return packet;
                Thread.Sleep(2);
            }
            Assert.Fail("no ICMP error reached the guest");
            return [];
        }
    }

    private static (GatewayTests.Pair Pair, IcmpRecorder Recorder) Start(GatewayOptions options)
    {
        IcmpRecorder? recorder = null;
        var pair = new GatewayTests.Pair(options, link => recorder = new IcmpRecorder(link));
        return (pair, recorder!);
    }

    private static (Ipv4Address Source, IcmpType Type, byte Code, IpProtocol Quoted, ushort QuotedSourcePort, ushort QuotedPort) ReadV4(byte[] packet)
    {
        Assert.That(Ipv4Packet.TryParse(packet, out var ip), Is.EqualTo(WireError.None));
        Assert.That(IcmpPacket.TryParse(ip.Payload, out var icmp), Is.EqualTo(WireError.None));
        Assert.That(icmp.IsChecksumValid, Is.True);
        Assert.That(icmp.TryGetQuote(out var quote), Is.EqualTo(WireError.None));
        var t = quote.Transport;
        return (ip.Source, icmp.Type, icmp.Code, quote.Protocol, BinaryPrimitives.ReadUInt16BigEndian(t), BinaryPrimitives.ReadUInt16BigEndian(t[2..]));
    }

    [Test]
    public void SendUnreachable_ChoosesTypeCodeAndSource_BothFamilies()
    {
        using var h = new StackHarness(new NetworkStackOptions
        {
            Address = Frames.StackIp, PrefixLength = 24, AnnounceOnUp = false,
            Ipv6 = new Ipv6Options { StaticAddresses = [(Gateway6, 64)], DupAddrDetectTransmits = 0, Autoconfigure = false, RouterSolicitations = 0 },
        }, caps: IpLink);
        h.Advance(TimeSpan.FromMilliseconds(10));
        h.Drain();
        var udp = new byte[8 + 4];
        new UdpHeader(40000, 9, (ushort)udp.Length).WriteTo(udp);
        var far = new IpAddress(GatewayTests.Far);
        // (reason, IPv4 type/code, ICMPv6 type/code, from the destination?)
        var cases = new (UnreachableReason Reason, IcmpType T4, byte C4, Icmpv6Type T6, byte C6, bool FromDestination)[]
        {
            (UnreachableReason.Port, IcmpType.DestinationUnreachable, 3, Icmpv6Type.DestinationUnreachable, 4, true),
            (UnreachableReason.Host, IcmpType.DestinationUnreachable, 1, Icmpv6Type.DestinationUnreachable, 3, false),
            (UnreachableReason.Network, IcmpType.DestinationUnreachable, 0, Icmpv6Type.DestinationUnreachable, 0, false),
            (UnreachableReason.Prohibited, IcmpType.DestinationUnreachable, 13, Icmpv6Type.DestinationUnreachable, 1, false),
            (UnreachableReason.HopLimit, IcmpType.TimeExceeded, 0, Icmpv6Type.TimeExceeded, 0, false),
        };
        foreach (var c in cases)
        {
            h.Advance(TimeSpan.FromSeconds(1));   // a fresh token of the error rate limit
            h.Drain();                            // and what the stack sent of its own meanwhile (MLD, ND)
            h.Stack.Internet.SendUnreachable(new IpAddress(Frames.PeerIp), far, IpProtocol.Udp, udp, udp.Length, c.Reason);
            var v4 = ReadV4(h.Drain().Single(f => f[0] >> 4 == 4));
            Assert.That(v4, Is.EqualTo((c.FromDestination ? GatewayTests.Far : Frames.StackIp, c.T4, c.C4, IpProtocol.Udp, (ushort)40000, (ushort)9)), c.Reason.ToString());

            h.Stack.Internet.SendUnreachable(new IpAddress(Guest6), new IpAddress(Far6), IpProtocol.Udp, udp, udp.Length, c.Reason);
            // (Only the error: the stack's own MLD or ND chatter may go out beside it.)
            var sent = h.Drain().Single(f => f[0] >> 4 == 6 && f[6] == (byte)IpProtocol.Icmpv6 && f[Ipv6Header.Size] < 128);
            Assert.That(Ipv6Packet.TryParse(sent, out var ip6), Is.EqualTo(WireError.None));
            Assert.That(Icmpv6Packet.TryParse(ip6.Payload, out var icmp6), Is.EqualTo(WireError.None));
            Assert.That(icmp6.TryGetQuote(out var quote6), Is.EqualTo(WireError.None));
            Assert.That((ip6.Source, ip6.Destination, icmp6.Type, icmp6.Code, quote6.Destination, quote6.DestinationPort),
                Is.EqualTo((c.FromDestination ? Far6 : Gateway6, Guest6, c.T6, c.C6, Far6, (ushort)9)), "IPv6 " + c.Reason);
        }
    }

    [Test]
    [CancelAfter(20_000)]
    public void ConnectTimeout_IsAHostUnreachableFromTheGateway_NotAReset()
    {
        // A destination that never answers: the connector waits until the gateway gives up (ConnectTimeout). A real path
        // says nothing, or a last router says "host unreachable" when its ARP fails; a reset would say "refused".
        var (pair, recorder) = Start(new GatewayOptions
        {
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
            Rule = (in GatewayFlow _) => GatewayDecision.Handle(async (_, token) => { await Task.Delay(Timeout.Infinite, token); return null; }),
        });
        using (pair)
        {
            var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(new IpAddress(GatewayTests.Far), 81));
            var icmp = ReadV4(recorder.Next(TimeSpan.FromSeconds(5)));
            Assert.That(icmp, Is.EqualTo((Frames.PeerIp, IcmpType.DestinationUnreachable, (byte)1, IpProtocol.Tcp, connection.LocalPort, (ushort)81)));
            Assert.That(pair.GuestDriver.Invoke(_ => connection.State), Is.EqualTo(TcpState.SynSent), "a reset came too");
            Assert.That(pair.Host.Statistics.IcmpErrorsToGuest, Is.EqualTo(1));
        }
    }

    // A SOCKS5 proxy on loopback that answers every CONNECT (by IPv4 address) with the reply code destination port - 1000.
    private static async Task ServeRefusingSocks5(System.Net.Sockets.TcpListener listener, CancellationToken token)
    {
        try
        {
            while (true)
            {
                using var client = await listener.AcceptSocketAsync(token);
                var buffer = new byte[16];
                for (int got = 0; got < 3;) got += await client.ReceiveAsync(buffer.AsMemory(got, 3 - got), token);
                await client.SendAsync(new byte[] { 5, 0 }, token);
                for (int got = 0; got < 10;) got += await client.ReceiveAsync(buffer.AsMemory(got, 10 - got), token);
                byte reply = (byte)(BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(8)) - 1000);
                await client.SendAsync(new byte[] { 5, reply, 0, 1, 0, 0, 0, 0, 0, 0 }, token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException) { }
    }

    [Test]
    [CancelAfter(30_000)]
    public void Socks5Replies_BecomeTheErrorsTheyStandFor()
    {
        using var proxy = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        proxy.Start();
        using var stop = new CancellationTokenSource();
        var serving = ServeRefusingSocks5(proxy, stop.Token);
        var (pair, recorder) = Start(new GatewayOptions { Socks5Proxy = proxy.LocalEndpoint });
        using (pair)
        {
            // RFC 1928 6: 2 not allowed by ruleset, 3 network unreachable, 4 host unreachable, 6 TTL expired.
            foreach (var (reply, type, code) in new[] { (2, IcmpType.DestinationUnreachable, 13), (3, IcmpType.DestinationUnreachable, 0),
                         (4, IcmpType.DestinationUnreachable, 1), (6, IcmpType.TimeExceeded, 0) })
            {
                ushort port = (ushort)(1000 + reply);
                var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(new IpAddress(GatewayTests.Far), port));
                var icmp = ReadV4(recorder.Next(TimeSpan.FromSeconds(5)));
                Assert.That(icmp, Is.EqualTo((Frames.PeerIp, type, (byte)code, IpProtocol.Tcp, connection.LocalPort, port)), $"reply {reply}");
                Assert.That(pair.GuestDriver.Invoke(_ => connection.State), Is.EqualTo(TcpState.SynSent), $"reply {reply}: a reset came too");
                pair.GuestDriver.Invoke(_ => { connection.Abort(); return 0; });
                Thread.Sleep(1100);   // the ICMP error rate limit's next token
            }
            // 5 connection refused (what the destination's own reset says) and 1 general failure: a reset.
            foreach (int reply in new[] { 5, 1 })
            {
                var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(new IpAddress(GatewayTests.Far), (ushort)(1000 + reply)));
                var watch = System.Diagnostics.Stopwatch.StartNew();
                while (pair.GuestDriver.Invoke(_ => connection.State) != TcpState.Closed && watch.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(2);
                Assert.That((connection.State, connection.Error), Is.EqualTo((TcpState.Closed, NetError.ConnectionRefused)), $"reply {reply}");
            }
            Assert.That(recorder.Received, Is.Empty, "an ICMP error for a refusal");
            Assert.That(pair.Host.Statistics.IcmpErrorsToGuest, Is.EqualTo(4));
        }
        stop.Cancel();
        proxy.Stop();
        serving.Wait(TimeSpan.FromSeconds(5));
    }

    [Test]
    [CancelAfter(20_000)]
    public void UdpPortUnreachable_ComesFromTheDestination_QuotingTheDatagram()
    {
        // The flow's host socket is connected to a closed loopback port: the kernel's port unreachable makes it report
        // ECONNREFUSED, and the guest hears it from the address it sent to (the destination said it has no such port).
        var (pair, recorder) = Start(new GatewayOptions());
        using (pair)
        {
            pair.GatewayDriver.Stop();   // from here the test is the stack's thread: the flow is pumped by hand
            using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var target = (IPEndPoint)closed.LocalEndPoint!;
            closed.Close();   // nothing listens there now
            var flow = new GatewayFlow(GatewayProtocol.Udp, new IpAddress(Frames.StackIp), 4000, new IpAddress(GatewayTests.Far), 9);
            var relay = new UdpRelay(pair.Host, flow, UdpRelay.Open(pair.Host.Options, target), 2048, TimeSpan.Zero);
            try
            {
                relay.Start();
                relay.SendUp("hello, port 9"u8, TimeSpan.Zero);
                var watch = System.Diagnostics.Stopwatch.StartNew();
                while (recorder.Received.IsEmpty && watch.Elapsed < TimeSpan.FromSeconds(5))
                {
                    relay.Pump(pair.Gateway.Internet, TimeSpan.Zero);
                    Thread.Sleep(5);
                }
                var icmp = ReadV4(recorder.Next(TimeSpan.FromSeconds(1)));
                Assert.That(icmp, Is.EqualTo((GatewayTests.Far, IcmpType.DestinationUnreachable, (byte)3, IpProtocol.Udp, (ushort)4000, (ushort)9)));
            }
            finally
            {
                relay.Close();
            }
        }
    }

    [Test]
    [CancelAfter(20_000)]
    public void EchoFlowError_IsFromTheGateway_QuotingTheEchoRequest()
    {
        // What an echo flow sends when its socket says the host is unreachable: the quote is the guest's echo request
        // (identifier and sequence number: what ping matches), from the gateway's address.
        var (pair, recorder) = Start(new GatewayOptions { RelayEcho = false });
        using (pair)
        {
            var echo = new byte[16];
            IcmpHeader.Echo(IcmpType.EchoRequest, 0x4242, 7).WriteTo(echo);
            IcmpHeader.FillChecksum(echo);
            var flow = new GatewayFlow(GatewayProtocol.Icmp, new IpAddress(Frames.StackIp), 0x4242, new IpAddress(GatewayTests.Far), 0);
            pair.GatewayDriver.Invoke(_ => { UdpRelay.SendError(pair.Host, flow, UnreachableReason.Host, echo, echo.Length); return 0; });
            var packet = recorder.Next(TimeSpan.FromSeconds(5));
            Assert.That(Ipv4Packet.TryParse(packet, out var ip), Is.EqualTo(WireError.None));
            Assert.That(IcmpPacket.TryParse(ip.Payload, out var icmp), Is.EqualTo(WireError.None));
            Assert.That(icmp.TryGetQuote(out var quote), Is.EqualTo(WireError.None));
            Assert.That((ip.Source, icmp.Type, icmp.Code, quote.Protocol, quote.Destination), Is.EqualTo((Frames.PeerIp, IcmpType.DestinationUnreachable, (byte)1, IpProtocol.Icmp, GatewayTests.Far)));
            Assert.That(quote.Transport[..8].ToArray(), Is.EqualTo(echo[..8]), "the echo request's header (type, code, checksum, identifier, sequence)");
        }
    }
}
