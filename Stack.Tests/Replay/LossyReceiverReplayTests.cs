using TcpIpSharp.Capture;
using TcpIpSharp.Replay;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Replay;

/// <summary>
/// tcp-loss-rx.pcap (tools/record-captures.sh --tcp-loss-rx): the 1 MiB GET through a router that dropped 2% of b's
/// segments toward a, captured at the receiver a. The stack plays a (curl's side, <see cref="RecordedTcpClient"/>):
/// it gets exactly the segments a got, gaps included, and its ACKs must carry the SACK blocks a's did.
/// </summary>
public class LossyReceiverReplayTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("192.0.2.1");

    private static ReplayOptions Options(NetworkStackOptions? stack = null) => new() { Host = A, ConnectRecordedTcp = true, Stack = stack };

    [Test]
    public void Receiver_of_a_lossy_conversation_replays_clean()
    {
        var result = CaptureReplay.Run(TcpConversationReplayTests.Own("tcp-loss-rx.pcap"), Options());
        TestContext.Out.WriteLine(result.ToString());
        if (Environment.GetEnvironmentVariable("LOSS_DUMP") is string dump)
            using (var output = File.Create(dump)) PcapWriter.Write(output, CaptureFile.LinkTypeEthernet, 65535, result.Sent.Select(f => (f.Time, f.Data, 0)));
        Assert.That(result.Differences, Is.Empty, string.Join('\n', result.ToString().Split('\n').Take(40)));
    }
}
