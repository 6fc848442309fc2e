using TcpIpSharp.Tests.Support;
namespace TcpIpSharp.Tests.Tcp;

public class TcpAllocationTests
{
    // With ECN negotiated (RFC 3168) too: every data segment then takes the ECN hooks (ECT(0) and the flags).
    [Test]
    public void The_tcp_data_path_allocates_nothing_after_warm_up([Values] bool ecn)
    {
        using var net = new TwoStacks(options: ecn ? new NetworkStackOptions { Tcp = new TcpIpSharp.Transport.Tcp.TcpConnectionOptions { Ecn = TcpIpSharp.Transport.Tcp.TcpEcnMode.Request } } : null);
        var (client, server) = net.Connect();
        Assert.That(client.EcnNegotiated && server.EcnNegotiated, Is.EqualTo(ecn), "ECN negotiated as configured");
        var pump = new DataPump(net, client, server);

        pump.Run(2000);                                   // warm-up: rings, lists, tiered JIT
        long segments = 0;
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            long segmentsBefore = net.A.Statistics.TcpDetail.SegmentsSentCount_ForTests;
            pump.Run(2000);                               // 16 MB: over 10,000 data segments and their ACKs
            segments = net.A.Statistics.TcpDetail.SegmentsSentCount_ForTests - segmentsBefore;
        });

        TestContext.Out.WriteLine($"{segments} data segments, {pump.Received} bytes received, {allocated} bytes allocated");
        Assert.That(segments, Is.GreaterThan(10_000));
        Assert.That(allocated, Is.Zero, "bytes allocated on the TCP data path");
    }

    // RACK-TLP (RFC 8985) after warm-up: losses and reordering keep its transmit records splitting, marking and
    // resending, the reordering timer and the tail probe running; none of it may allocate (the records live in a ring
    // grown during warm-up).
    [Test]
    public void The_tcp_data_path_with_loss_and_reordering_allocates_nothing_after_warm_up()
    {
        var faults = new TcpIpSharp.Links.FaultOptions { DropRate = 0.01, ReorderRate = 0.02, ReorderDelay = TimeSpan.FromMilliseconds(2), Delay = TimeSpan.FromMilliseconds(1) };
        using var net = new TwoStacks(faults, seed: 7);
        var (client, server) = net.Connect();
        var pump = new DataPump(net, client, server);

        pump.Run(4000);                                   // warm-up, losses included
        long segments = 0, rackLosses = 0;
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            long segmentsBefore = net.A.Statistics.TcpDetail.SegmentsSentCount_ForTests, lossesBefore = net.A.Statistics.TcpDetail.RackLossesCount;
            pump.Run(4000);
            segments = net.A.Statistics.TcpDetail.SegmentsSentCount_ForTests - segmentsBefore;
            rackLosses = net.A.Statistics.TcpDetail.RackLossesCount - lossesBefore;
        });

        TestContext.Out.WriteLine($"{segments} segments, {rackLosses} marked lost by RACK, {pump.Received} bytes received, {allocated} bytes allocated");
        Assert.That(segments, Is.GreaterThan(10_000));
        Assert.That(rackLosses, Is.GreaterThan(0), "RACK marked losses in the measured window");
        Assert.That(allocated, Is.Zero, "bytes allocated on the TCP data path with RACK at work");
    }

    // Issue 18 (1 KB per idle connection): what only loss uses (PRR, F-RTO, undo, RACK's timeout and D-SACK state) is
    // made on a connection's first loss signal. A clean transfer never makes it at either end: its ACK and data paths
    // do not touch it. Under loss the sender makes it (and keeps it: the test above allocates nothing after warm-up).
    [Test]
    public void Only_loss_makes_a_connection_hold_its_loss_state()
    {
        using (var clean = new TwoStacks())
        {
            var (client, server) = clean.Connect();
            var pump = new DataPump(clean, client, server);
            pump.Run(500);   // 4 MB
            Assert.That(pump.Received, Is.GreaterThan(1_000_000), "data moved");
            Assert.That(client.HoldsLossState || server.HoldsLossState, Is.False, "a loss-free transfer made the loss state");
        }
        using var lossy = new TwoStacks(new TcpIpSharp.Links.FaultOptions { DropRate = 0.02 }, seed: 11);
        var (sender, receiver) = lossy.Connect();
        var lossyPump = new DataPump(lossy, sender, receiver);
        lossyPump.Run(500);
        Assert.That(sender.Retransmits, Is.GreaterThan(0), "the faults dropped data");
        Assert.That(sender.HoldsLossState, Is.True, "the sender met loss");
    }

    // 8 KB sent by A and read by B per 1 ms round, both polled on each side of the read.
    private sealed class DataPump(TwoStacks net, TcpIpSharp.Transport.Tcp.TcpConnection client, TcpIpSharp.Transport.Tcp.TcpConnection server)
    {
        private readonly byte[] _chunk = new byte[8192], _sink = new byte[65536];
        public long Received { get; private set; }

        public void Run(int rounds)
        {
            var now = net.Clock.Now;
            for (int i = 0; i < rounds; i++)
            {
                client.Send(_chunk);
                net.A.Poll(now);
                net.B.Poll(now);
                int n;
                while ((n = server.Receive(_sink)) > 0) Received += n;
                net.B.Poll(now);
                net.A.Poll(now);
                now += TimeSpan.FromMilliseconds(1);
                net.Clock.Set(now);
            }
        }
    }
}
