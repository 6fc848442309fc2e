using System.Runtime.Versioning;
using TcpIpSharp.Linux;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Tests.Interop;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tap;

/// <summary>
/// The TAP's transmit queue as the program sets it (HostSetup.Link, shared by every command that opens a link): 10,000
/// on a TAP it creates, the creator's on one it attaches to, --txqueuelen N on either. In a namespace each test makes (root).
/// </summary>
[SupportedOSPlatform("linux")]
[NonParallelizable]
public class TransmitQueueTests
{
    private static int OpenAndReadQueue(NetNs ns, string tap, params string[] more)
    {
        var result = App.Build().Parse(["up", "--tap", tap, "--ip", "192.0.2.2/24", "--no-offload", "--no-uring", .. more]);
        Assert.That(result.Errors, Is.Empty);
        var cl = new CommandLine(result);
        return ns.Enter(() =>
        {
            using var link = (TapLink)HostSetup.Link(cl, new SystemClock(), MacAddress.Parse("02:00:00:00:00:02"));
            return link.TransmitQueueLength;
        });
    }

    [Test]
    public void A_tap_the_program_creates_gets_ten_thousand_and_one_it_attaches_to_keeps_its_own()
    {
        using var ns = NetNs.Create("txq");
        ns.AddTap("tap0");
        string before = ns.Ip("link", "show", "tap0");
        Assert.Multiple(() =>
        {
            Assert.That(OpenAndReadQueue(ns, "txqnew0"), Is.EqualTo(HostSetup.CreatedTapTransmitQueue));
            Assert.That(OpenAndReadQueue(ns, "tap0"), Is.EqualTo(int.Parse(System.Text.RegularExpressions.Regex.Match(before, @"qlen (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(OpenAndReadQueue(ns, "tap0", "--txqueuelen", "3000"), Is.EqualTo(3000));
            Assert.That(ns.Ip("link", "show", "tap0"), Does.Contain("qlen 3000"), "the setting outlives the attachment, as ip link set's");
            Assert.That(OpenAndReadQueue(ns, "txqnew1", "--txqueuelen", "200"), Is.EqualTo(200), "asked for, on a created TAP too");
        });
    }
}
