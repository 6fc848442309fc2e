using BenchmarkDotNet.Attributes;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>
/// The TCP sender's per-packet cost: a pure ACK of one full segment (1460 bytes over IPv4, 1440 over IPv6) processed (the frame in, the send ring released,
/// RTT and congestion window updated), and a full segment built from the send ring, checksummed and handed to
/// the link. Each iteration is one invocation of <see cref="Operations"/> packets prepared by an
/// <see cref="IterationSetupAttribute"/> (the data to acknowledge already sent, or everything acknowledged), so no
/// other work is measured with them. The congestion window is grown in setup to hold a whole iteration.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
public class TcpSendBenchmark
{
    private const int Operations = 2048;
    private PerPacketHost _host = null!;
    private byte[] _payload = [];
    private uint _step;

    /// <summary>Established TCP connections in the stack under test.</summary>
    [Params(1, 10_000, 100_000)]
    public int Connections { get; set; }

    /// <summary>The family of the connections and frames (see <see cref="PerPacketHost"/>).</summary>
    [Params(IpFamily.IPv4, IpFamily.IPv6)]
    public IpFamily Family { get; set; } = IpFamily.IPv4;

    [GlobalSetup]
    public void Setup()
    {
        _host = new PerPacketHost(Connections, Family);
        _step = (uint)_host.Payload;
        _payload = new byte[_step];
        // Slow start: one ACK per segment doubles the window each round.
        for (int round = 0; round < 20 && _host.Connection.CongestionWindow < 2L * Operations * _step; round++)
        {
            SendAll();
            uint end = _host.LinkA.TcpSentTo;
            for (uint to = _host.AckedTo + _step; (int)(end - to) >= 0; to += _step) _host.InjectAck(to);
            AckEverything();
        }
        if (_host.Connection.CongestionWindow < (long)Operations * _step)
            throw new InvalidOperationException("the congestion window did not grow: " + _host.Connection.CongestionWindow);
        // Check that the batched ACKs are all taken.
        SendForAcks();
        long fast = _host.A.Statistics.TcpDetail.FastPathAcksCount;
        int space = _host.Connection.SendSpace;
        PureAckBatch();
        if (_host.Connection.SendSpace - space != Operations * _step || _host.A.Statistics.TcpDetail.FastPathAcksCount - fast != Operations)
            throw new InvalidOperationException($"the batched ACKs were not all taken on the fast path: send space {space} -> {_host.Connection.SendSpace}");
    }

    [GlobalCleanup]
    public void Cleanup() => _host.Dispose();

    private void SendAll()
    {
        for (int i = 0; i < Operations; i++) _host.Connection.Send(_payload);
        for (int idle = 0; idle < 3;)
        {
            uint before = _host.LinkA.TcpSentTo;
            _host.A.Poll(_host.Now);
            idle = _host.LinkA.TcpSentTo == before ? idle + 1 : 0;
        }
    }

    private void AckEverything()
    {
        if (_host.AckedTo != _host.LinkA.TcpSentTo) _host.InjectAck(_host.LinkA.TcpSentTo);
    }

    [IterationSetup(Target = nameof(PureAck))]
    public void SendForAcks()
    {
        AckEverything();
        SendAll();
        if (_host.LinkA.TcpSentTo - _host.AckedTo != (uint)(Operations * _step))
            throw new InvalidOperationException($"only {_host.LinkA.TcpSentTo - _host.AckedTo} bytes in flight (sent to {_host.LinkA.TcpSentTo}, acked to {_host.AckedTo}): {_host.A.TcpSnapshot()[0]}");
    }

    /// <summary>A pure ACK acknowledging the next full segment.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public void PureAck()
    {
        uint to = _host.AckedTo;
        for (int i = 0; i < Operations; i++) _host.InjectAck(to += _step);
    }

    [IterationSetup(Target = nameof(PureAckBatch))]
    public void SendForAckBatches() => SendForAcks();

    /// <summary>The same ACKs, 32 taken by each poll, as a link read in a batch delivers them while the peer receives a burst.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public void PureAckBatch()
    {
        for (int i = 0; i < Operations; i += 32) _host.InjectAckBatch(32, _step);
    }

    [IterationSetup(Target = nameof(SegmentSent))]
    public void AckAll() => AckEverything();

    /// <summary>A full segment from the application (one copy into the send ring), one segment built and sent on the next poll.</summary>
    [Benchmark(OperationsPerInvoke = Operations)]
    public void SegmentSent()
    {
        for (int i = 0; i < Operations; i++)
        {
            _host.Connection.Send(_payload);
            _host.A.Poll(_host.Now);
        }
    }
}
