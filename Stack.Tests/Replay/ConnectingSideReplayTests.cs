using TcpIpSharp.Capture;
using TcpIpSharp.Replay;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Replay;

/// <summary>
/// The stack as the connecting side of a recorded TCP conversation (issue 15 item 3): the recorded host sent the SYN, the
/// stack opens the same connection and the replay drives the recorded server, its acknowledgements and SACK blocks moved
/// by the stack's ISN less the host's (the server's own ISN kept), its timestamp echoes the stack's.
/// </summary>
public class ConnectingSideReplayTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("192.0.2.1");

    [Test]
    public void Curl_side_of_the_http_recording_replays_clean()
    {
        var frames = TcpConversationReplayTests.Own("http.pcap");
        var result = CaptureReplay.Run(frames, new ReplayOptions { Host = A, ConnectRecordedTcp = true });
        TestContext.Out.WriteLine(result.ToString());
        Assert.That(result.Differences, Is.Empty, result.ToString());
        // Every frame curl sent was compared (SYN, ACKs, GET, FIN): nothing left out.
        Assert.That(result.Compared, Is.EqualTo(frames.Count(f => MacAddress.Read(f.Data.AsSpan(6)) == MacAddress.Parse("02:00:00:00:00:01") && !IsArpRequest(f))));
        Assert.That(result.Matched, Is.EqualTo(result.Compared));
    }

    [Test]
    public void Without_a_client_the_curl_side_misses_every_tcp_frame()
    {
        var result = CaptureReplay.Run(TcpConversationReplayTests.Own("http.pcap"), new ReplayOptions { Host = A });
        TestContext.Out.WriteLine(result.ToString());
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Differences.Count(d => d.Kind == ReplayDifferenceKind.Missing && d.Description.Contains("192.0.2.1.55292 >", StringComparison.Ordinal)),
            Is.EqualTo(8), "SYN, ACK, GET, four ACKs and FIN: the stack never connected");
    }

    [Test]
    public void The_peers_acknowledgements_are_moved_to_the_stacks_isn_and_its_own_isn_kept()
    {
        var frames = TcpConversationReplayTests.Own("http.pcap");
        var result = CaptureReplay.Run(frames, new ReplayOptions { Host = A, ConnectRecordedTcp = true, Seed = 7 });
        Assert.That(result.Passed, Is.True, result.ToString());
        var stackSyn = Segments(result.Sent).First(s => (s.Flags & TcpFlags.Syn) != 0);
        var recordedSyn = Segments(frames).First(s => s.Source == A && (s.Flags & TcpFlags.Syn) != 0);
        var recordedSynAck = Segments(frames).First(s => s.Source != A && (s.Flags & TcpFlags.Syn) != 0);
        Assert.That(stackSyn.Sequence, Is.Not.EqualTo(recordedSyn.Sequence), "the stack picks its own ISN");
        // The stack's ACK of the SYN-ACK acknowledges the server's recorded ISN + 1: the server's ISN went in unchanged.
        var stackAck = Segments(result.Sent).First(s => s.Flags == TcpFlags.Ack);
        Assert.That(stackAck.Acknowledgment, Is.EqualTo(recordedSynAck.Sequence + 1));
        Assert.That(stackAck.Sequence, Is.EqualTo(stackSyn.Sequence + 1));
    }

    /// <summary>
    /// Compared one by one, curl's pure ACKs differ from the stack's by delayed-ACK policy only: Linux, in its quick-ACK
    /// mode at the start of a connection, ACKed each of the server's four segments (frames 9, 13, 14, 15) where the
    /// stack ACKs every second one (1,637 and 3,629 bytes), and Linux, in its ping-pong mode after the server's FIN,
    /// let its own FIN carry the ACK of it while the stack ACKs the FIN at once. That is why the verdict compares runs
    /// of pure ACKs by how far they acknowledge (docs/replay.md).
    /// </summary>
    [Test]
    public void Compared_one_by_one_curls_acks_differ_only_by_ack_policy()
    {
        var result = CaptureReplay.Run(TcpConversationReplayTests.Own("http.pcap"), new ReplayOptions { Host = A, ConnectRecordedTcp = true, PureAcksOneByOne = true });
        TestContext.Out.WriteLine(result.ToString());
        Assert.That(result.Differences.Where(d => d.Kind == ReplayDifferenceKind.Missing).Select(d => d.RecordedNumber), Is.EqualTo(new[] { 9L, 14L }));
        var extra = result.Differences.Where(d => d.Kind == ReplayDifferenceKind.Extra).ToList();
        Assert.That(extra, Has.Count.EqualTo(1), result.ToString());
        Assert.That(extra[0].Description, Does.Contain("Flags [.]").And.Contain("length 0"), "the stack's ACK of the server's FIN");
        Assert.That(result.Differences, Has.Count.EqualTo(3));
    }

    [Test]
    public void Mutation_no_sack_turns_the_curl_side_verdict()
    {
        var result = CaptureReplay.Run(TcpConversationReplayTests.Own("http.pcap"), new ReplayOptions
        {
            Host = A, ConnectRecordedTcp = true, Stack = new NetworkStackOptions { Tcp = new TcpConnectionOptions { SelectiveAcknowledgments = false } },
        });
        TestContext.Out.WriteLine(result.ToString());
        Assert.That(result.Passed, Is.False);
        // curl's SYN (frame 3) offered SACK: missing; the stack's SYN without sackOK: extra. The rest goes on.
        Assert.That(result.Differences.Where(d => d.Kind == ReplayDifferenceKind.Missing).Select(d => d.RecordedNumber), Is.EqualTo(new[] { 3L }));
        var extra = result.Differences.Where(d => d.Kind == ReplayDifferenceKind.Extra).ToList();
        Assert.That(extra, Has.Count.EqualTo(1), result.ToString());
        Assert.That(extra[0].Description, Does.Contain("Flags [S]").And.Not.Contain("sackOK"));
    }

    [Test]
    public void A_tests_own_client_service_replays_the_curl_side()
    {
        // What a user's test would do instead of the built-in client: open the connection itself (the recorded local
        // port), send its request once connected, read the answer and close at the end of the stream.
        var client = new CurlLikeClient();
        var result = CaptureReplay.Run(TcpConversationReplayTests.Own("http.pcap"), new ReplayOptions { Host = A, Services = [client] });
        TestContext.Out.WriteLine(result.ToString());
        Assert.That(client.Sent, Is.EqualTo(CurlLikeClient.Request.Length));
        Assert.That(client.Received, Is.EqualTo(188 + 3440), "the recorded headers and body");
        Assert.That(result.Differences, Is.Empty, result.ToString());
    }

    /// <summary>A client as a test writes it: the request curl 7.88.1 sent, written from the service's poll once the
    /// connection is up (after the stack's poll, as an application's write follows the kernel's handshake ACK).</summary>
    private sealed class CurlLikeClient : IStackService
    {
        public static readonly byte[] Request = "GET /small.txt HTTP/1.1\r\nHost: 192.0.2.2\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"u8.ToArray();
        private readonly byte[] _buffer = new byte[8192];
        private TcpConnection? _connection;
        public int Sent;
        public long Received;

        public TimeSpan? NextDeadline => null;

        public void Start(NetworkStack stack, TimeSpan now)
        {
            _connection = stack.ConnectTcp(Ipv4Address.Parse("192.0.2.2"), 80, localPort: 55292);
            _connection.NoDelay = true;
        }

        public void Poll(NetworkStack stack, TimeSpan now)
        {
            var c = _connection!;
            if (c.State == TcpState.Established && Sent < Request.Length) Sent += c.Send(Request.AsSpan(Sent));
            int n;
            while ((n = c.Receive(_buffer)) > 0) Received += n;
            if (c.IsEndOfStream && c.State == TcpState.CloseWait) c.Close();
        }
    }

    /// <summary>http6.pcap (curl -6 of the small file): the IPv6 conversation replays clean as either host. As the curl
    /// side it needs two things an IPv4 replay of b's capture did not: the connection opens after the stack's first
    /// poll (its static IPv6 addresses are usable only then), and the FINs crossed on the wire (curl's FIN does not
    /// acknowledge b's, though b's comes first in b's capture), so curl closes on the bytes it acknowledged and b's FIN
    /// waits for the stack's.</summary>
    [TestCase("2001:db8::2")]
    [TestCase("2001:db8::1")]
    public void Ipv6_http_recording_replays_clean_from_either_side(string host)
    {
        var result = CaptureReplay.Run(TcpConversationReplayTests.Own("http6.pcap"), new ReplayOptions
        {
            Host = IpAddress.Parse(host), ServeRecordedTcp = true, ConnectRecordedTcp = true,
        });
        TestContext.Out.WriteLine(result.ToString());
        Assert.That(result.Differences, Is.Empty, result.ToString());
        Assert.That(result.Compared, Is.GreaterThanOrEqualTo(8));
    }

    /// <summary>A connection the stack will not open (here: a table of no connections) is given up after a second of
    /// retries and shows in the verdict as curl's frames missing, not as an exception.</summary>
    [Test]
    public void A_connection_the_stack_will_not_open_is_a_verdict_not_an_exception()
    {
        var result = CaptureReplay.Run(TcpConversationReplayTests.Own("http.pcap"), new ReplayOptions
        {
            Host = A, ConnectRecordedTcp = true, Stack = new NetworkStackOptions { TcpMaxConnections = 0 },
        });
        TestContext.Out.WriteLine(result.ToString());
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Matched, Is.Zero);
        Assert.That(result.Differences.Count(d => d.Kind == ReplayDifferenceKind.Missing), Is.EqualTo(8));
    }

    private static bool IsArpRequest(CaptureFrame f)
        => EthernetFrame.TryParse(f.Data, out var eth) == WireError.None && eth.EtherType == EtherType.Arp
           && ArpPacket.TryParse(eth.Payload, out var arp) == WireError.None && arp.Operation == ArpOperation.Request;

    private static IEnumerable<(Ipv4Address Source, uint Sequence, uint Acknowledgment, TcpFlags Flags)> Segments(IEnumerable<CaptureFrame> frames)
    {
        foreach (var f in frames)
        {
            if (EthernetFrame.TryParse(f.Data, out var eth) != WireError.None || Ipv4Packet.TryParse(eth.Payload, out var ip) != WireError.None
                || ip.Protocol != IpProtocol.Tcp || TcpSegment.TryParse(ip.Payload, out var tcp) != WireError.None) continue;
            yield return (ip.Source, tcp.SequenceNumber, tcp.AcknowledgmentNumber, tcp.Flags);
        }
    }
}
