using TcpIpSharp.Fuzz;
using TcpIpSharp.Tests.Support;

namespace TcpIpSharp.Tests.Fuzz;

/// <summary>
/// Replays every saved fuzz input (fuzz/corpus/TARGET/* and fuzz/crashes/TARGET/*) through its target as a regression
/// test: no exception, every invariant holding after every frame (issue 8, item 1).
/// </summary>
public class CorpusReplayTests
{
    private static IEnumerable<TestCaseData> Inputs()
    {
        foreach (var folder in new[] { "corpus", "crashes" })
        {
            string root = Path.Combine(TestPaths.RepositoryRoot, "fuzz", folder);
            if (!Directory.Exists(root)) continue;
            foreach (var dir in Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal))
                foreach (var file in Directory.GetFiles(dir).OrderBy(f => f, StringComparer.Ordinal))
                    yield return new TestCaseData(Path.GetFileName(dir), Path.GetRelativePath(TestPaths.RepositoryRoot, file)).SetName($"{folder}/{Path.GetFileName(dir)}/{Path.GetFileName(file)}");
        }
    }

    [TestCaseSource(nameof(Inputs))]
    public void A_saved_input_runs_cleanly(string target, string relativePath)
    {
        Assert.That(FuzzTargets.All.TryGetValue(target, out var run), Is.True, $"no fuzz target named {target}");
        var input = File.ReadAllBytes(Path.Combine(TestPaths.RepositoryRoot, relativePath));
        Assert.DoesNotThrow(() => run!(input));
    }

    [Test]
    public void Every_target_has_a_seed_corpus()
    {
        foreach (var target in FuzzTargets.All.Keys)
            Assert.That(Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "fuzz", "corpus", target)), Is.Not.Empty, target);
    }

    [Test]
    public void Every_frame_of_the_shared_captures_runs_cleanly_through_the_receive_target()
    {
        string captures = TestPaths.SharedCaptures;
        if (!Directory.Exists(captures)) Assert.Ignore("../shared/captures not present: the receive target is not replayed over the captures");
        var run = FuzzTargets.All["receive"];
        int frames = 0;
        foreach (string file in TestPaths.CaptureFilesUnder(captures))
            foreach (var frame in CaptureReader.ReadFrames(file))
            {
                frames++;
                var data = frame.Data;
                Assert.DoesNotThrow(() => run(data), $"{Path.GetFileName(file)} frame {frames}");
            }
        TestContext.Out.WriteLine($"{frames} captured frames through the receive target (a dual-stack stack with a listener, a UDP echo endpoint and an open connection per family), every invariant checked after each");
        Assert.That(frames, Is.GreaterThan(100));
    }
}
