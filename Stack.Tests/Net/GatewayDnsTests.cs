using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using TcpIpSharp.Gateway;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>
/// Issue 19's DNS to the gateway's own address, without root: a guest stack asks the gateway stack over an in-memory IP
/// link, over UDP and over TCP (RFC 7766, pipelined), and gets A answers from the host's resolver (/etc/hosts:
/// localhost) while other types are relayed to a loopback server that marks its answers (AA) so the two are told apart.
/// </summary>
public class GatewayDnsTests
{
    private static readonly IpAddress GatewayAddress = new(Frames.PeerIp);

    // A loopback DNS server on one port for UDP and TCP that answers every query with its own header flipped to a
    // response with AA set (the mark of a relayed answer) and no records.
    private sealed class MarkingServer : IDisposable
    {
        private readonly Socket _udp;
        private readonly System.Net.Sockets.TcpListener _tcp;
        private readonly CancellationTokenSource _stop = new();
        public int UdpQueries, TcpQueries;

        public MarkingServer()
        {
            _tcp = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            _tcp.Start();
            EndPoint = (IPEndPoint)_tcp.LocalEndpoint;
            _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _udp.Bind(EndPoint);
            _ = Task.Run(ServeUdpAsync);
            _ = Task.Run(ServeTcpAsync);
        }

        public IPEndPoint EndPoint { get; }

        private static void Mark(Span<byte> message) => BinaryPrimitives.WriteUInt16BigEndian(message[2..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(message[2..]) | 0x8400));

        private async Task ServeUdpAsync()
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var got = await _udp.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                    Interlocked.Increment(ref UdpQueries);
                    Mark(buffer);
                    await _udp.SendToAsync(buffer.AsMemory(0, got.ReceivedBytes), got.RemoteEndPoint);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        }

        private async Task ServeTcpAsync()
        {
            try
            {
                while (true)
                {
                    using var client = await _tcp.AcceptSocketAsync(_stop.Token);
                    var length = new byte[2];
                    await client.ReceiveAsync(length);
                    var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
                    for (int got = 0; got < message.Length;) got += await client.ReceiveAsync(message.AsMemory(got));
                    Interlocked.Increment(ref TcpQueries);
                    Mark(message);
                    await client.SendAsync(length);
                    await client.SendAsync(message);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _udp.Dispose();
            _tcp.Stop();
            _stop.Dispose();
        }
    }

    private static byte[] Query(ushort id, string name, DnsType type)
    {
        var buffer = new byte[512];
        var writer = new DnsWriter(buffer);
        writer.WriteHeader(new DnsHeader(id, IsRecursionDesired: true));
        writer.WriteQuestion(name, type);
        return buffer.AsSpan(0, writer.Finish()).ToArray();
    }

    private readonly record struct Answer(ushort Id, DnsResponseCode Code, bool Authoritative, bool Truncated, string[] Addresses, uint[] Ttls);

    private static Answer Parse(ReadOnlySpan<byte> bytes)
    {
        Assert.That(DnsMessage.TryParse(bytes, out var message), Is.EqualTo(WireError.None));
        Assert.That(message.IsResponse, Is.True);
        var reader = new DnsReader(message);
        var addresses = new List<string>();
        var ttls = new List<uint>();
        while (reader.TryReadRecord(out var record))
        {
            if (record.Type == DnsType.A) addresses.Add(record.Address.ToString());
            else if (record.Type == DnsType.Aaaa) addresses.Add(new IPAddress(record.Ipv6Address).ToString());
            ttls.Add(record.TimeToLive);
        }
        Assert.That(reader.Error, Is.EqualTo(WireError.None));
        return new Answer(message.Id, message.ResponseCode, message.IsAuthoritativeAnswer, message.IsTruncated, [.. addresses], [.. ttls]);
    }

    internal static byte[] AskUdp(GatewayTests.Pair pair, byte[] query)
    {
        var endpoint = pair.GuestDriver.Invoke(s => s.OpenUdp(0));
        pair.GuestDriver.Invoke(_ => endpoint.SendTo(query, GatewayAddress, 53));
        var buffer = new byte[2048];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(8))
        {
            int n = pair.GuestDriver.Invoke(_ => endpoint.Receive(buffer, out IpAddress _, out ushort _));
            if (n > 0) return buffer.AsSpan(0, n).ToArray();
            Thread.Sleep(2);
        }
        Assert.Fail("no DNS answer over UDP");
        return [];
    }

    [Test]
    [CancelAfter(30_000)]
    public void Udp_AddressQuestionsAnsweredByTheHostsResolver_OtherTypesRelayed()
    {
        using var upstream = new MarkingServer();
        using var pair = new GatewayTests.Pair(new GatewayOptions { DnsServer = upstream.EndPoint });
        var a = Parse(AskUdp(pair, Query(0x1234, "localhost", DnsType.A)));
        Assert.That(a, Is.EqualTo(a with { Id = 0x1234, Code = DnsResponseCode.NoError, Authoritative = false, Truncated = false }));
        Assert.That(a.Addresses, Does.Contain("127.0.0.1"), "localhost from /etc/hosts (the host's resolver)");
        Assert.That(a.Ttls, Is.All.EqualTo(GatewayDns.HostAnswerTimeToLive));
        var txt = Parse(AskUdp(pair, Query(0x4321, "anything.test", DnsType.Txt)));
        Assert.That((txt.Id, txt.Authoritative), Is.EqualTo(((ushort)0x4321, true)), "a TXT question goes to the DNS server");
        Assert.That(upstream.UdpQueries, Is.EqualTo(1), "only the TXT question reached the DNS server");
        var stats = pair.Host.Statistics;
        Assert.That((stats.DnsQueries, stats.DnsHostLookups, stats.DnsRelayed), Is.EqualTo((2L, 1L, 1L)));
    }

    [Test]
    [CancelAfter(30_000)]
    public void Udp_WithoutTheHostResolver_EverythingIsRelayed()
    {
        using var upstream = new MarkingServer();
        using var pair = new GatewayTests.Pair(new GatewayOptions { DnsServer = upstream.EndPoint, ResolveOnHost = false });
        Assert.That(Parse(AskUdp(pair, Query(7, "localhost", DnsType.A))).Authoritative, Is.True);
        Assert.That(upstream.UdpQueries, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(30_000)]
    public void Tcp_PipelinedQueriesAreAnswered_ThenTheIdleConnectionIsClosed()
    {
        using var upstream = new MarkingServer();
        using var pair = new GatewayTests.Pair(new GatewayOptions { DnsServer = upstream.EndPoint, DnsTcpIdleTimeout = TimeSpan.FromSeconds(1) });
        var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(GatewayAddress, 53));
        // Three queries in one write, each behind its two-byte length (RFC 7766 8): two to the host, one relayed over TCP.
        var stream = new MemoryStream();
        foreach (var query in new[] { Query(1, "localhost", DnsType.A), Query(2, "relayed.test", DnsType.Mx), Query(3, "localhost", DnsType.A) })
        {
            stream.WriteByte((byte)(query.Length >> 8));
            stream.WriteByte((byte)query.Length);
            stream.Write(query);
        }
        var bytes = stream.ToArray();
        int sent = 0;
        var received = new MemoryStream();
        var buffer = new byte[4096];
        var answers = new Dictionary<ushort, Answer>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        bool closed = false;
        TimeSpan lastAnswer = default;
        while (!closed && watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            int r = pair.GuestDriver.Invoke(_ =>
            {
                if (sent < bytes.Length && connection.State == TcpState.Established) sent += connection.Send(bytes.AsSpan(sent));
                return connection.Receive(buffer);
            });
            if (r > 0) received.Write(buffer, 0, r);
            else if (r == 0) closed = true;
            else Thread.Sleep(2);
            // Take every whole answer out of what arrived.
            var all = received.ToArray();
            int p = 0;
            while (all.Length - p >= 2 && all.Length - p - 2 >= BinaryPrimitives.ReadUInt16BigEndian(all.AsSpan(p)))
            {
                int n = BinaryPrimitives.ReadUInt16BigEndian(all.AsSpan(p));
                var answer = Parse(all.AsSpan(p + 2, n));
                answers[answer.Id] = answer;
                lastAnswer = watch.Elapsed;
                p += 2 + n;
            }
            received = new MemoryStream();
            received.Write(all, p, all.Length - p);
        }
        Assert.That(answers.Keys, Is.EquivalentTo(new ushort[] { 1, 2, 3 }), "every pipelined query answered");
        Assert.That(answers[1].Addresses, Does.Contain("127.0.0.1"));
        Assert.That(answers[3].Addresses, Does.Contain("127.0.0.1"));
        Assert.That(answers[2].Authoritative, Is.True, "the MX question relayed");
        Assert.That(upstream.TcpQueries, Is.EqualTo(1), "relayed over TCP for a TCP query");
        Assert.That(closed, Is.True, "the idle connection was not closed by the gateway");
        Assert.That(watch.Elapsed - lastAnswer, Is.GreaterThan(TimeSpan.FromSeconds(0.8)), "closed before the idle timeout");
        Assert.That(pair.Host.Statistics.DnsTcpSessions, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(20_000)]
    public void Tcp_SessionsBeyondTheBound_AreRefused()
    {
        using var pair = new GatewayTests.Pair(new GatewayOptions { MaxDnsTcpSessions = 1, DnsServer = new IPEndPoint(IPAddress.Loopback, 9) });
        var first = pair.GuestDriver.Invoke(s => s.ConnectTcp(GatewayAddress, 53));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (pair.GuestDriver.Invoke(_ => first.State) != TcpState.Established && watch.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(2);
        var second = pair.GuestDriver.Invoke(s => s.ConnectTcp(GatewayAddress, 53));
        while (pair.GuestDriver.Invoke(_ => second.State) != TcpState.Closed && watch.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(2);
        Assert.That(pair.GuestDriver.Invoke(_ => (first.State, second.State, second.Error)), Is.EqualTo((TcpState.Established, TcpState.Closed, NetError.ConnectionRefused)));
        Assert.That((pair.Host.Statistics.DnsTcpSessions, pair.Host.Statistics.DnsDropped), Is.EqualTo((1L, 1L)));
    }

    [Test]
    [CancelAfter(20_000)]
    public void Tcp_AStraySegmentToPort53_LeavesTheNextConnectionToItsRelay()
    {
        // A segment for no connection to the gateway's port 53 (a late ACK of a DNS connection already gone) goes through
        // the any-destination filter but opens nothing: the next SYN, to anywhere, must still be relayed, not taken for DNS.
        using var server = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        server.Start();
        int port = ((IPEndPoint)server.LocalEndpoint).Port;
        var serving = Task.Run(async () =>
        {
            using var client = await server.AcceptSocketAsync();
            await client.SendAsync("hello"u8.ToArray());
            client.Shutdown(SocketShutdown.Send);
            var sink = new byte[64];
            while (await client.ReceiveAsync(sink) > 0) { }
        });
        using var pair = new GatewayTests.Pair(new GatewayOptions
        {
            DnsServer = new IPEndPoint(IPAddress.Loopback, 9),
            Rule = (in GatewayFlow _) => GatewayDecision.Handle(async (_, token) =>
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), token);
                return s;
            }),
        });
        var ack = GatewayTests.TcpPacket(Frames.StackIp, Frames.PeerIp, 40053, 53, 1000, 2000, TcpFlags.Ack);
        pair.GatewayDriver.Invoke(s => { s.Interface.ProcessFrame(ack, s.Interface.Now); return 0; });
        var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(new IpAddress(GatewayTests.Far), 80));
        var received = new MemoryStream();
        var buffer = new byte[64];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (received.Length < 5 && watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            int n = pair.GuestDriver.Invoke(_ => connection.Receive(buffer));
            if (n > 0) received.Write(buffer, 0, n);
            else Thread.Sleep(2);
        }
        Assert.That(pair.Host.Statistics.DnsTcpSessions, Is.Zero, "the connection to 198.51.100.7:80 was taken for a DNS session");
        Assert.That(System.Text.Encoding.ASCII.GetString(received.ToArray()), Is.EqualTo("hello"), "nothing came through the relay");
        Assert.That(pair.Host.Statistics.TcpFlowsOpened, Is.EqualTo(1));
        pair.GuestDriver.Invoke(_ => { connection.Close(); return 0; });
    }

    [Test]
    [CancelAfter(40_000)]
    public void Tcp_AGuestThatNeverReadsItsAnswers_DoesNotHoldTheDnsSlotsPastTheIdleTimeout()
    {
        // Pipelined 4 KB queries (relayed, echoed back as 4 KB answers) from a guest that never reads: the answers fill
        // the guest's window and the gateway's send ring, and the session's queries stay answered but unwritten. Those
        // hold MaxDnsInFlight slots; past the idle timeout they must be given back, or no query is answered again.
        using var upstream = new MarkingServer();
        using var pair = new GatewayTests.Pair(new GatewayOptions
        {
            DnsServer = upstream.EndPoint, MaxDnsInFlight = DnsTcpSession.MaximumOutstanding, DnsTcpIdleTimeout = TimeSpan.FromSeconds(1),
        });
        var one = new byte[2 + 4000];
        BinaryPrimitives.WriteUInt16BigEndian(one, 4000);
        Query(0x77, "big.test", DnsType.Txt).CopyTo(one, 2);   // the rest is padding nobody reads
        var connection = pair.GuestDriver.Invoke(s => s.ConnectTcp(GatewayAddress, 53));
        int offset = 0, lastCount = -1;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var still = System.Diagnostics.Stopwatch.StartNew();
        // Until the relayed answers stop for good: well past the first 64 (a pause on a loaded machine is not the end).
        while (watch.Elapsed < TimeSpan.FromSeconds(20) && (still.Elapsed < TimeSpan.FromSeconds(2) || lastCount <= 64))
        {
            pair.GuestDriver.Invoke(_ =>
            {
                while (connection.State == TcpState.Established && connection.Send(one.AsSpan(offset)) is int n && n > 0) offset = (offset + n) % one.Length;
                return 0;
            });
            int count = upstream.TcpQueries;
            if (count != lastCount) { lastCount = count; still.Restart(); }
            Thread.Sleep(10);
        }
        TestContext.Out.WriteLine($"{upstream.TcpQueries} queries relayed before the guest's window closed");
        Assert.That(upstream.TcpQueries, Is.GreaterThan(64), "the answers never filled the guest's window");
        Thread.Sleep(1500);   // past the idle timeout
        Assert.That(AskOverUdp(pair, 0x1234), Is.GreaterThan(0), "no UDP query answered: the DNS slots are still held by the session that does not read");
        Assert.That(pair.GuestDriver.Invoke(_ => connection.State), Is.EqualTo(TcpState.Closed), "the stuck session was not ended");
    }

    [Test]
    [CancelAfter(30_000)]
    public void Tcp_GuestsThatSendOnlyLengths_HoldNoDnsSlots()
    {
        // As many DNS-over-TCP connections as there are slots, each sending a query's length and nothing more: before,
        // each took a slot on reading the length and kept it until its idle timeout (and again on the next length), so
        // no other query was answered meanwhile. Slots are now taken only when a whole query has arrived.
        using var upstream = new MarkingServer();
        const int Slots = 4;
        using var pair = new GatewayTests.Pair(new GatewayOptions
        {
            DnsServer = upstream.EndPoint, MaxDnsInFlight = Slots, DnsTcpIdleTimeout = TimeSpan.FromSeconds(20),
        });
        var length = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, 100);
        var connections = pair.GuestDriver.Invoke(s => Enumerable.Range(0, Slots).Select(_ => s.ConnectTcp(GatewayAddress, 53)).ToArray());
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var lengthSent = new bool[Slots];
        int sent = 0;
        while (sent < Slots && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            sent = pair.GuestDriver.Invoke(_ =>
            {
                for (int i = 0; i < Slots; i++)
                    if (!lengthSent[i] && connections[i].State == TcpState.Established) lengthSent[i] = connections[i].Send(length) == 2;
                return lengthSent.Count(b => b);
            });
            Thread.Sleep(20);
        }
        Assert.That(sent, Is.EqualTo(Slots), "the DNS-over-TCP connections did not open");
        Thread.Sleep(300);   // the lengths are in and read
        Assert.That(AskOverUdp(pair, 0x4321), Is.GreaterThan(0), "no UDP query answered: connections that sent only a length hold the DNS slots");
    }

    // A query for localhost over UDP from the guest, asked again every 500 ms for up to 6 s: the answer's length, or -1.
    private static int AskOverUdp(GatewayTests.Pair pair, ushort id)
    {
        var endpoint = pair.GuestDriver.Invoke(s => s.OpenUdp(0));
        var query = Query(id, "localhost", DnsType.A);
        var buffer = new byte[2048];
        int got = -1;
        for (var watch = System.Diagnostics.Stopwatch.StartNew(); got <= 0 && watch.Elapsed < TimeSpan.FromSeconds(6);)
        {
            pair.GuestDriver.Invoke(_ => endpoint.SendTo(query, GatewayAddress, 53));
            for (var wait = System.Diagnostics.Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromMilliseconds(500) && got <= 0; Thread.Sleep(5))
                got = pair.GuestDriver.Invoke(_ => endpoint.Receive(buffer, out IpAddress _, out ushort _));
        }
        return got;
    }

    [Test]
    public void WriteAnswer_SetsTruncatedWhenTheAddressesDoNotFitInAUdpAnswer()
    {
        var query = Query(9, "many.test", DnsType.A);
        Assert.That(GatewayDns.TryGetAddressQuestion(query, out var name, out var family, out int end), Is.True);
        Assert.That((name, family, end), Is.EqualTo(("many.test", AddressFamily.InterNetwork, query.Length)));
        var addresses = Enumerable.Range(1, 40).Select(i => IPAddress.Parse($"192.0.2.{i}")).Append(IPAddress.Parse("2001:db8::1")).ToArray();
        var response = new byte[65536];
        int n = GatewayDns.WriteAnswer(query, end, DnsResponseCode.NoError, addresses, 512, response);
        Assert.That(n, Is.LessThanOrEqualTo(512));
        var udp = Parse(response.AsSpan(0, n));
        Assert.That((udp.Truncated, udp.Addresses.Length > 0, udp.Addresses.Length < 40), Is.EqualTo((true, true, true)));
        n = GatewayDns.WriteAnswer(query, end, DnsResponseCode.NoError, addresses, 65534, response);
        var tcp = Parse(response.AsSpan(0, n));
        Assert.That((tcp.Truncated, tcp.Addresses.Length), Is.EqualTo((false, 40)), "only the asked family");
        n = GatewayDns.WriteError(query, DnsResponseCode.NameError, response);
        Assert.That(Parse(response.AsSpan(0, n)) is { Code: DnsResponseCode.NameError, Addresses.Length: 0 }, Is.True);
        Assert.That(GatewayDns.TryGetAddressQuestion(Query(9, "many.test", DnsType.Mx), out _, out _, out _), Is.False);
        Assert.That(GatewayDns.WriteError(new byte[5], DnsResponseCode.FormatError, response), Is.Zero, "no header, no answer");
    }
}
