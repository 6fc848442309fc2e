using TcpIpSharp.Tests.Support;

namespace TcpIpSharp.Tests.Wire;

/// <summary>
/// The IPv6 captures beside these tests (Ipv6Captures/: real kernel frames from record.sh, crafted ND/MLD/ICMPv6-error
/// frames from craft.py) decode without an error and agree field by field with tshark, as CaptureAgreementTests checks the
/// shared corpus (which holds IPv6 frames too).
/// </summary>
public class Ipv6CaptureAgreementTests
{
    public static IEnumerable<TestCaseData> Captures() => new[] { "kernel-ipv6.pcap", "crafted-ipv6.pcap" }
        .Select(name => new TestCaseData(name).SetArgDisplayNames(name));

    internal static string PathOf(string name) => Path.Combine(TestPaths.RepositoryRoot, "Stack.Tests", "Wire", "Ipv6Captures", name);

    [TestCaseSource(nameof(Captures))]
    public void Decodes_every_frame_without_an_error(string name)
    {
        var frames = CaptureAgreementTests.Decode(PathOf(name));
        Assert.That(frames, Is.Not.Empty);
        Assert.That(frames.Where(f => f.Get("error") is not null).Select(f => $"{f["n"]}: {f["error"]}"), Is.Empty);
        Assert.That(frames.All(f => f.Get("ipv6.src") is not null), Is.True, "every frame is IPv6");
    }

    [TestCaseSource(nameof(Captures))]
    public void Agrees_with_tshark(string name)
    {
        string path = PathOf(name);
        var ours = CaptureAgreementTests.Decode(path);
        var theirs = TsharkOracle.Read(path);
        Assert.That(theirs, Has.Count.EqualTo(ours.Count));
        var report = new AgreementReport(name, "tshark");
        for (int i = 0; i < ours.Count; i++)
            report.Compare(i + 1, ours[i], theirs.GetValueOrDefault(i + 1), TsharkOracle.Keys);
        report.AssertWithin([]);
    }
}
