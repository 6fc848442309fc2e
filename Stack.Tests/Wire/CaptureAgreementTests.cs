using System.Text.Json;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Tests.Support;

namespace TcpIpSharp.Tests.Wire;

/// <summary>
/// Every capture (the shared corpus and the project's own) decodes with only the errors listed here, and agrees frame by
/// frame and field by field with PacketDotNet and with tshark. Mismatches are counted per file; the count must be 0
/// unless this file documents why not.
/// </summary>
// Parallelizable (Parallelism.cs): reads captures and runs tshark on them; nothing static is written, no time is asserted.
[Parallelizable(ParallelScope.Self)]
public class CaptureAgreementTests
{
    /// <summary>The errors decode reports, by design of the capture (MANIFEST.tsv: malformed / anomalies "short"); any other error fails.</summary>
    private static readonly Dictionary<string, (int Frame, string Error)[]> ExpectedErrors = new(StringComparer.Ordinal)
    {
        // (tcpdump/tests/arp-too-long-tha.pcap, an 802.1ad-tagged ARP whose hardware type is 0x3030 with addresses of 14
        // bytes, decodes as far as its sizes allow, as tshark does: no error.)
        // UDP Length 8 to port 53: an empty DNS message, and bytes after it in the IPv4 payload (tcpdump's dns-zlip test).
        ["shared/tcpdump/tests/dns-zlip-1.pcap"] = [(1, "dns: Truncated")],
        // IHL 4: a 16-byte header.
        ["shared/tcpdump/tests/ipv4_invalid_hdr_length.pcap"] = [(1, "ipv4: BadHeaderLength")],
        // Snap length 38: the UDP header is cut after 4 bytes (tshark: short).
        ["shared/tcpdump/tests/udp-length-heapoverflow.pcap"] = [(1, "udp: Truncated")],
        // Snap length 46: 12 bytes of TCP header captured (tshark: short).
        ["shared/tcpdump/tests/tcp_header_heapoverflow.pcap"] = [(1, "tcp: Truncated")],
        // IPv4 Total Length 0.
        ["shared/zeek/testing/btest/Traces/ip-bogus-header-len.pcap"] = [(1, "ipv4: BadLength")],
        // A 46-byte frame of which 20 bytes were captured: 6 bytes of IPv4 header.
        ["shared/zeek/testing/btest/Traces/trunc/ip4-trunc.pcap"] = [(1, "ipv4: Truncated")],
    };

    /// <summary>Documented mismatches with PacketDotNet: file -> (count, why).</summary>
    private static readonly Dictionary<string, (int Count, string Why)> PacketDotNetExceptions = new(StringComparer.Ordinal)
    {
    };

    /// <summary>Documented mismatches with tshark: file -> (count, why).</summary>
    private static readonly Dictionary<string, (int Count, string Why)> TsharkExceptions = new(StringComparer.Ordinal)
    {
    };

    public static IEnumerable<TestCaseData> Captures() => CaptureCorpus.Ids().Select(id => new TestCaseData(id).SetArgDisplayNames(id));

    [TestCaseSource(nameof(Captures))]
    public void Decodes_with_only_the_expected_errors(string id)
    {
        var frames = Decode(CaptureCorpus.Resolve(id));
        var actual = frames.Where(f => f.Get("error") is not null)
            .Select(f => (Frame: int.Parse(f["n"], System.Globalization.CultureInfo.InvariantCulture), Error: f["error"])).ToList();
        var expected = ExpectedErrors.GetValueOrDefault(id, []);
        TestContext.Out.WriteLine($"{id}: {frames.Count} frames, {actual.Count} with an error");
        foreach (var (frame, error) in actual) TestContext.Out.WriteLine($"  frame {frame}: {error}");
        Assert.That(actual.Select(a => (a.Frame, Prefix(a.Error))), Is.EquivalentTo(expected),
            "errors: " + string.Join("; ", actual.Select(a => $"{a.Frame}: {a.Error}")));
    }

    [TestCaseSource(nameof(Captures))]
    public void Agrees_with_PacketDotNet(string id)
    {
        string path = CaptureCorpus.Resolve(id);
        var captured = CaptureReader.ReadFrames(path);
        var ours = Decode(captured);
        var report = new AgreementReport(id, "PacketDotNet");
        for (int i = 0; i < captured.Count; i++)
            report.Compare(i + 1, ours[i], PacketDotNetOracle.Read(captured[i].Data), PacketDotNetOracle.Keys);
        report.AssertWithin(PacketDotNetExceptions);
    }

    [TestCaseSource(nameof(Captures))]
    public void Agrees_with_tshark(string id)
    {
        string path = CaptureCorpus.Resolve(id);
        var ours = Decode(path);
        var theirs = TsharkOracle.Read(path);
        Assert.That(theirs, Has.Count.EqualTo(ours.Count), "tshark and decode see the same number of frames");
        var report = new AgreementReport(id, "tshark");
        for (int i = 0; i < ours.Count; i++)
            report.Compare(i + 1, ours[i], theirs.GetValueOrDefault(i + 1), TsharkOracle.Keys);
        report.AssertWithin(TsharkExceptions);
    }

    private static string Prefix(string error) => error.Split(" (")[0];

    internal static List<FrameFields> Decode(string path) => Decode(CaptureReader.ReadFrames(path));

    internal static List<FrameFields> Decode(List<CapturedFrame> frames)
    {
        var result = new List<FrameFields>(frames.Count);
        for (int i = 0; i < frames.Count; i++)
        {
            string json = FrameFormatter.FormatJson(frames[i].Data, i + 1, frames[i].OriginalLength);
            using var document = JsonDocument.Parse(json);
            result.Add(FrameFields.FromJson(document.RootElement));
        }
        return result;
    }
}
