using System.Buffers.Binary;
using TcpIpSharp.Services.Dns;
using TcpIpSharp.Tests.Tcp;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Transport.Udp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services;

/// <summary>
/// DNS over TCP after a truncated answer (RFC 1035 4.2.2, RFC 7766): the resolver runs on stack A, and stack B plays the
/// server on UDP and TCP port 53 with scripted answers, both over an in-memory link in virtual time.
/// </summary>
public class DnsOverTcpTests
{
    private const string Name = "big.test";

    /// <summary>Forty A records for one name: 16 bytes each compressed, about 680 bytes in all, more than 512.</summary>
    private static readonly string[] Forty = [.. Enumerable.Range(1, 40).Select(i => $"198.51.100.{i}")];

    /// <summary>A scripted server on stack B: answers UDP queries with <see cref="Udp"/> and TCP queries with <see cref="Tcp"/> (raw bytes, prefix included).</summary>
    private sealed class Server
    {
        private readonly UdpEndpoint _udp;
        private readonly TcpListener _listener;
        private readonly List<TcpConnection> _connections = [];
        private readonly byte[] _buffer = new byte[4096];
        private readonly Dictionary<TcpConnection, MemoryStream> _received = [];

        public Server(NetworkStack stack)
        {
            Assert.That(stack.OpenUdp(53, out var udp), Is.EqualTo(NetError.None));
            _udp = udp!;
            _listener = stack.ListenTcp(53);
        }

        public Func<ushort, byte[]> Udp { get; set; } = id => new DnsReply(Name, DnsType.A) { Id = id, Truncated = true }.Payload();
        public Func<ushort, byte[]> Tcp { get; set; } = id => Prefixed(new DnsReply(Name, DnsType.A) { Id = id }.A(Name, Forty).Payload());
        public List<ushort> UdpIds { get; } = [];
        public List<ushort> TcpIds { get; } = [];
        public int Accepted { get; private set; }
        public IReadOnlyList<TcpConnection> Connections => _connections;

        public void Poll()
        {
            int n;
            while ((n = _udp.Receive(_buffer, out var from, out var port)) >= 0)
            {
                ushort id = IdOf(_buffer.AsSpan(0, n));
                UdpIds.Add(id);
                _udp.SendTo(Udp(id), from, port);
            }
            while (_listener.TryAccept(out var c))
            {
                Accepted++;
                _connections.Add(c);
                _received[c] = new MemoryStream();
            }
            foreach (var c in _connections)
            {
                var stream = _received[c];
                while ((n = c.Receive(_buffer)) > 0) stream.Write(_buffer, 0, n);
                var bytes = stream.GetBuffer().AsSpan(0, (int)stream.Length);
                if (bytes.Length < 2 || bytes.Length < 2 + BinaryPrimitives.ReadUInt16BigEndian(bytes)) continue;
                int length = BinaryPrimitives.ReadUInt16BigEndian(bytes);
                ushort id = IdOf(bytes.Slice(2, length));
                stream.SetLength(0);
                TcpIds.Add(id);
                Assert.That(c.Send(Tcp(id)), Is.GreaterThan(0));
            }
        }

        private static ushort IdOf(ReadOnlySpan<byte> query)
        {
            Assert.That(DnsMessage.TryParse(query, out var message), Is.EqualTo(WireError.None));
            var reader = message.GetReader();
            Assert.That(reader.TryReadQuestion(out var question) && question.Name.Matches(Name) && question.Type == DnsType.A, Is.True, "the question asked is the lookup's");
            return message.Id;
        }
    }

    private static byte[] Prefixed(byte[] message)
    {
        var framed = new byte[2 + message.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)message.Length);
        message.CopyTo(framed, 2);
        return framed;
    }

    private static (TwoStacks Net, DnsResolver Resolver, Server Server) Start(DnsResolverOptions? options = null)
    {
        var net = new TwoStacks();
        var resolver = new DnsResolver(options);
        net.A.SetDnsServers([TwoStacks.AddressB]);
        resolver.Start(net.A, net.Clock.Now);
        return (net, resolver, new Server(net.B));
    }

    private static void Run(TwoStacks net, DnsResolver resolver, Server server, Func<bool> done, TimeSpan limit)
        => net.RunUntil(done, limit, () => { resolver.Poll(net.A, net.Clock.Now); server.Poll(); });

    [Test]
    public void A_truncated_udp_answer_is_asked_again_over_tcp_and_the_whole_tcp_answer_is_used_and_cached()
    {
        var (net, resolver, server) = Start();
        using var _n = net;
        Assert.That(new DnsReply(Name, DnsType.A).A(Name, Forty).Payload(), Has.Length.GreaterThan(512), "the full answer does not fit a plain UDP message");
        var lookup = resolver.Resolve(Name, DnsType.A, net.Clock.Now);
        Run(net, resolver, server, () => lookup.IsCompleted, TimeSpan.FromSeconds(10));

        Assert.That(lookup.Error, Is.EqualTo(DnsError.None));
        Assert.That(lookup.Records.Select(r => r.Data), Is.EqualTo(Forty), "every record of the TCP answer, in order");
        Assert.That(lookup.Addresses.Select(a => a.ToString()), Is.EqualTo(Forty));
        Assert.That(lookup.Truncated, Is.False);
        Assert.That((server.UdpIds.Count, server.TcpIds.Count, server.Accepted), Is.EqualTo((1, 1, 1)), "one UDP query, then one TCP query on one connection");
        Assert.That(server.TcpIds[0], Is.Not.EqualTo(server.UdpIds[0]), "the TCP query has a fresh ID (RFC 5452 9.2)");
        Assert.That((resolver.Statistics.Truncated, resolver.Statistics.TcpQueriesSent, resolver.Statistics.TcpFailures), Is.EqualTo((1L, 1L, 0L)));
        Assert.That(resolver.PendingQueries, Is.Zero);

        var again = resolver.Resolve(Name, DnsType.A, net.Clock.Now);
        Assert.That((again.IsCompleted, again.FromCache, again.Records.Count), Is.EqualTo((true, true, 40)), "the TCP answer is cached as usual");
        Span<HostAddress> addresses = stackalloc HostAddress[8];
        Assert.That(resolver.TryResolveCached(Name, DnsType.A, net.Clock.Now, addresses, out int count, out _), Is.True);
        Assert.That(count, Is.EqualTo(8), "the cache keeps its bounded number of addresses");

        net.RunUntil(() => server.Connections[0].State is TcpState.Closed or TcpState.CloseWait or TcpState.LastAck, TimeSpan.FromSeconds(2),
            () => server.Poll());
        Assert.That(server.Connections[0].Error, Is.EqualTo(NetError.None), "the resolver closed its connection cleanly");
    }

    [Test]
    public void A_tcp_answer_with_another_id_is_rejected_and_the_right_one_on_the_same_stream_is_used()
    {
        var (net, resolver, server) = Start();
        using var _n = net;
        server.Tcp = id => [
            .. Prefixed(new DnsReply(Name, DnsType.A) { Id = (ushort)(id + 1) }.A(Name, "192.0.2.66").Payload()),
            .. Prefixed(new DnsReply("other.test", DnsType.A) { Id = id }.A("other.test", "192.0.2.67").Payload()),
            .. Prefixed(new DnsReply(Name, DnsType.A) { Id = id }.A(Name, Forty).Payload()),
        ];
        var lookup = resolver.Resolve(Name, DnsType.A, net.Clock.Now);
        Run(net, resolver, server, () => lookup.IsCompleted, TimeSpan.FromSeconds(10));

        Assert.That(lookup.Error, Is.EqualTo(DnsError.None));
        Assert.That(lookup.Records.Select(r => r.Data), Is.EqualTo(Forty), "neither the answer with another ID nor the one to another question was taken");
        Assert.That((resolver.Statistics.RejectedId, resolver.Statistics.RejectedQuestion), Is.EqualTo((1L, 1L)));
    }

    [Test]
    public void A_tcp_answer_with_only_another_id_is_rejected_and_the_lookup_times_out()
    {
        var options = new DnsResolverOptions { TcpQueryTimeout = TimeSpan.FromSeconds(1), TcpAttempts = 2 };
        var (net, resolver, server) = Start(options);
        using var _n = net;
        server.Tcp = id => Prefixed(new DnsReply(Name, DnsType.A) { Id = (ushort)~id }.A(Name, "192.0.2.66").Payload());
        var lookup = resolver.Resolve(Name, DnsType.A, net.Clock.Now);
        Run(net, resolver, server, () => lookup.IsCompleted, TimeSpan.FromSeconds(10));

        Assert.That((lookup.Error, lookup.Addresses.Count), Is.EqualTo((DnsError.TimedOut, 0)));
        Assert.That((resolver.Statistics.RejectedId, resolver.Statistics.TcpQueriesSent, resolver.Statistics.TcpFailures), Is.EqualTo((2L, 2L, 2L)),
            "each of the two attempts over TCP got only an answer with another ID");
        Assert.That(resolver.CachedNames, Is.Zero);
    }

    [Test]
    public void A_tcp_stream_that_stops_inside_a_message_times_out_cleanly_and_frees_its_connections()
    {
        var options = new DnsResolverOptions { TcpQueryTimeout = TimeSpan.FromSeconds(1), TcpAttempts = 2 };
        var (net, resolver, server) = Start(options);
        using var _n = net;
        // The length says 300 bytes; 100 come, then nothing, and the server keeps the connection open.
        server.Tcp = id => [.. Prefixed(new DnsReply(Name, DnsType.A) { Id = id }.A(Name, Forty).Payload()).AsSpan(0, 2 + 100)];
        var start = net.Clock.Now;
        var lookup = resolver.Resolve(Name, DnsType.A, net.Clock.Now);
        Run(net, resolver, server, () => lookup.IsCompleted, TimeSpan.FromSeconds(10));

        Assert.That(lookup.Error, Is.EqualTo(DnsError.TimedOut));
        Assert.That(net.Clock.Now - start, Is.InRange(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2.5)), "two attempts of one second each");
        Assert.That((resolver.Statistics.TcpQueriesSent, resolver.Statistics.TcpFailures, resolver.Statistics.Timeouts), Is.EqualTo((2L, 2L, 2L)));
        Assert.That(resolver.PendingQueries, Is.Zero);
        // Unread bytes were left, so each connection ends with a reset (RFC 9293 3.6): the server sees both go.
        net.RunUntil(() => server.Connections.All(c => c.State == TcpState.Closed), TimeSpan.FromSeconds(2), () => server.Poll());
        Assert.That(net.A.Tcp.Count, Is.Zero, "the resolver holds no connection");
    }

    [Test]
    public void A_server_that_closes_inside_a_message_or_refuses_tcp_moves_the_query_to_the_next_server_over_tcp()
    {
        var options = new DnsResolverOptions { TcpQueryTimeout = TimeSpan.FromSeconds(3) };
        var (net, resolver, server) = Start(options);
        using var _n = net;
        // The first TCP answer stops short and the server closes; the second connection gets the whole answer.
        int answers = 0;
        server.Tcp = id => ++answers == 1
            ? [.. Prefixed(new DnsReply(Name, DnsType.A) { Id = id }.A(Name, Forty).Payload()).AsSpan(0, 50)]
            : Prefixed(new DnsReply(Name, DnsType.A) { Id = id }.A(Name, Forty).Payload());
        var lookup = resolver.Resolve(Name, DnsType.A, net.Clock.Now);
        var start = net.Clock.Now;
        net.RunUntil(() => lookup.IsCompleted, TimeSpan.FromSeconds(10), () =>
        {
            resolver.Poll(net.A, net.Clock.Now);
            server.Poll();
            if (answers == 1 && server.Connections[0].State == TcpState.Established) server.Connections[0].Shutdown();
        });
        Assert.That(lookup.Error, Is.EqualTo(DnsError.None));
        Assert.That(lookup.Records, Has.Count.EqualTo(40));
        Assert.That(net.Clock.Now - start, Is.LessThan(TimeSpan.FromSeconds(1)), "the close ends the attempt without waiting for the timeout");
        Assert.That((resolver.Statistics.TcpQueriesSent, resolver.Statistics.TcpFailures, server.UdpIds.Count), Is.EqualTo((2L, 1L, 1L)),
            "the retry goes straight to TCP: the answer is known to be large");
    }

    [Test]
    public void An_announced_length_beyond_the_bound_is_refused_without_reading_it()
    {
        var options = new DnsResolverOptions { MaximumTcpMessageSize = 512, TcpAttempts = 1 };
        var (net, resolver, server) = Start(options);
        using var _n = net;
        var lookup = resolver.Resolve(Name, DnsType.A, net.Clock.Now);
        Run(net, resolver, server, () => lookup.IsCompleted, TimeSpan.FromSeconds(10));
        Assert.That(lookup.Error, Is.EqualTo(DnsError.TimedOut));
        Assert.That(resolver.Statistics.RejectedMalformed, Is.EqualTo(1));
    }
}
