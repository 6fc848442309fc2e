using TcpIpSharp.Capture;
using TcpIpSharp.Replay;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Replay;

/// <summary>
/// TCP conversations replayed with the stack as the recorded Linux server, its bytes served by
/// <see cref="RecordedTcpServer"/> (issue 15 item 3), and the mutations that must turn their verdicts.
/// </summary>
public class TcpConversationReplayTests
{
    private static readonly Ipv4Address B = Ipv4Address.Parse("192.0.2.2");

    internal static IReadOnlyList<CaptureFrame> Own(string file)
    {
        string path = Path.Combine(TestPaths.OwnCaptures, file);
        if (!File.Exists(path)) Assert.Fail(path + " is missing (tools/record-captures.sh records it)");
        return CaptureFile.ReadEthernet(path).Frames;
    }

    [Test]
    public void The_projects_http_recording_replays_clean_against_the_recorded_bytes()
    {
        var result = CaptureReplay.Run(Own("http.pcap"), new ReplayOptions { Host = B, ServeRecordedTcp = true });
        TestContext.Out.WriteLine(result.ToString());
        Assert.That(result.Differences, Is.Empty, result.ToString());
        Assert.That(result.Passed, Is.True);
    }
}
