using BenchmarkDotNet.Attributes;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>
/// Per-packet cost of the receive and send paths through <see cref="NetworkStack.Poll(TimeSpan)"/>: one frame handed
/// to the stack by its link (one copy into the stack's buffer), parsed, checksummed, demultiplexed and answered; the
/// answer goes to a sink link. At 1 connection and with 10,000 established TCP connections in the stack's tables
/// (see <see cref="PerPacketHost"/>). Every frame is new to the stack: TCP data segments carry the next in-order
/// sequence number and the ring is drained.
/// </summary>
[MemoryDiagnoser]
public class PerPacketBenchmark
{
    private const int Segments = 32;
    private PerPacketHost _host = null!;

    /// <summary>The host under test (the profile command's lend/copy comparison reaches its link).</summary>
    internal PerPacketHost Host => _host;
    private readonly byte[] _udpPayload = new byte[64];
    private readonly byte[] _drain = new byte[Segments * PerPacketHost.Ipv4Payload];
    private readonly byte[] _datagram = new byte[2048];
    private byte[] _segment = [];

    /// <summary>Established TCP connections in the stack under test.</summary>
    [Params(1, 10_000, 100_000)]
    public int Connections { get; set; }

    /// <summary>The family of every frame, connection and answer (see <see cref="PerPacketHost"/>).</summary>
    [Params(IpFamily.IPv4, IpFamily.IPv6)]
    public IpFamily Family { get; set; } = IpFamily.IPv4;

    [GlobalSetup]
    public void Setup()
    {
        _host = new PerPacketHost(Connections, Family);
        _segment = _host.DataSegment.AsSpan(_host.Layout.TcpHeader).ToArray();
        // Check that each path does what it claims before measuring it.
        long replies = _host.LinkA.SinkFrames;
        ArpReply();
        IcmpEchoReply();
        if (_host.LinkA.SinkFrames != replies + 2) throw new InvalidOperationException("ARP request (neighbour solicitation) or echo request not answered");
        if (UdpReceive() != _udpPayload.Length) throw new InvalidOperationException("UDP datagram not received");
        for (int i = 0; i < 3; i++)
        {
            TcpDataReceived();
            if (_host.Connection.Available != 0) throw new InvalidOperationException("ring not drained");
        }
        long received = _host.A.Statistics.Tcp.ReceivedCount, fast = _host.A.Statistics.TcpDetail.FastPathDataCount;
        TcpDataReceivedBatch();
        if (_host.A.Statistics.Tcp.ReceivedCount - received != Segments || _host.Connection.Available != 0) throw new InvalidOperationException("the batch was not taken in order and drained");
        if (_host.A.Statistics.TcpDetail.FastPathDataCount - fast != Segments) throw new InvalidOperationException("the in-order segments did not take the fast path");
        if (_host.A.Statistics.Tcp.ReceivedCount == 0) throw new InvalidOperationException("no TCP segment counted");
        _host.Connection.Send([]);
    }

    [GlobalCleanup]
    public void Cleanup() => _host.Dispose();

    /// <summary>An ARP request for our address in, the reply out; over IPv6 a neighbour solicitation for our address in, the advertisement out (the name kept so that the rows line up with earlier sessions').</summary>
    [Benchmark]
    public void ArpReply() => _host.Inject(_host.ArpRequest);

    /// <summary>An ICMP (ICMPv6) echo request (56 data bytes) in, the echo reply out.</summary>
    [Benchmark]
    public void IcmpEchoReply() => _host.Inject(_host.EchoRequest);

    /// <summary>A 64-byte UDP datagram in, queued on its endpoint, and read by the application.</summary>
    [Benchmark]
    public int UdpReceive()
    {
        _host.Inject(_host.UdpDatagram);
        return _host.Udp.Receive(_datagram, out _, out _);
    }

    /// <summary>A 64-byte UDP datagram from the application, built, checksummed and handed to the link.</summary>
    [Benchmark]
    public NetError UdpSend() => _host.Udp.SendTo(_udpPayload, _host.AddressB, 7001);

    /// <summary>
    /// A full in-order TCP segment (1460 bytes over IPv4, 1440 over IPv6: a 1514-byte frame either way) in (checksum verified, payload copied into the receive ring, an ACK out every
    /// second segment); per segment, of 32 followed by one read that drains the ring.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Segments)]
    public void TcpDataReceived()
    {
        for (int i = 0; i < Segments; i++) _host.InjectData();
        while (_host.Connection.Receive(_drain) > 0) { }
    }

    /// <summary>
    /// The same 32 segments taken by one poll, as a link read in a batch delivers them under load: per segment, with
    /// the ACKs the stack then coalesces (one for the batch) and the per-poll work shared.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Segments)]
    public void TcpDataReceivedBatch()
    {
        _host.InjectDataBatch(Segments);
        while (_host.Connection.Receive(_drain) > 0) { }
    }

    /// <summary>The TCP checksum alone (pseudo-header and the 1480-byte, or over IPv6 1460-byte, segment), as the receive path computes it (named so that test.sh's *Checksum* smoke filter does not pick this suite).</summary>
    [Benchmark]
    public ushort TcpCsumAlone() => InternetChecksum.ComputeTransport(_host.AddressB, _host.AddressA, IpProtocol.Tcp, _segment);

    private readonly byte[] _ringLike = new byte[65536];
    private int _ringAt;

    /// <summary>
    /// Issue 18 item 2, before: the TCP checksum of the segment, then its payload copied into a 64 KB buffer at a moving
    /// position (as a receive ring takes it): two passes over the payload.
    /// </summary>
    [Benchmark]
    public ushort TcpCsumThenCopy()
    {
        ushort checksum = InternetChecksum.ComputeTransport(_host.AddressB, _host.AddressA, IpProtocol.Tcp, _segment);
        var payload = _segment.AsSpan(TcpSegmentHeader);
        if (_ringAt + payload.Length > _ringLike.Length) _ringAt = 0;
        payload.CopyTo(_ringLike.AsSpan(_ringAt));
        _ringAt += payload.Length;
        return checksum;
    }

    /// <summary>Issue 18 item 2, after: the pseudo-header and header summed, the payload copied and summed in one pass.</summary>
    [Benchmark]
    public ushort TcpCsumAndCopy()
    {
        uint sum = InternetChecksum.Add(InternetChecksum.PseudoHeaderSum(_host.AddressB, _host.AddressA, IpProtocol.Tcp, _segment.Length), _segment.AsSpan(0, TcpSegmentHeader));
        var payload = _segment.AsSpan(TcpSegmentHeader);
        if (_ringAt + payload.Length > _ringLike.Length) _ringAt = 0;
        sum = InternetChecksum.CopyAndSum(payload, _ringLike.AsSpan(_ringAt), sum);
        _ringAt += payload.Length;
        return InternetChecksum.Finish(sum);
    }

    private int TcpSegmentHeader => (_segment[12] >> 4) * 4;
}
