using System.Diagnostics.Metrics;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

public class MetricsTests
{
    [Test]
    public void Statistics_are_published_on_the_TcpIpSharp_meter_as_observable_counters()
    {
        using var h = new StackHarness();
        h.Stack.PublishMetrics();
        h.Learn(Frames.PeerIp, Frames.PeerMac);
        h.Inject(Frames.Ipv4(Frames.PeerIp, Frames.StackIp, IpProtocol.Icmp, Frames.EchoMessage(IcmpType.EchoRequest, 1, 1, 32)));

        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == StackStatistics.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.That(seen, Contains.Key("tcpipsharp.icmp.echo_replies_sent"));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(seen["tcpipsharp.icmp.echo_replies_sent"], Is.EqualTo(1));
            Assert.That(seen["tcpipsharp.arp.replies_sent"], Is.EqualTo(1));
            Assert.That(seen.Keys.Count(k => k.StartsWith("tcpipsharp.drop.", StringComparison.Ordinal)), Is.EqualTo(Enum.GetValues<DropReason>().Length));
            // RFC 3168's counters beside the other TCP ones (zero here: no TCP ran).
            foreach (var name in new[] { "tcp.ecn_negotiated", "tcp.ecn_ce_received", "tcp.ecn_ece_received", "tcp.ecn_cwr_sent", "tcp.ecn_reductions" })
                Assert.That(seen, Contains.Key("tcpipsharp." + name));
        }
    }
}
