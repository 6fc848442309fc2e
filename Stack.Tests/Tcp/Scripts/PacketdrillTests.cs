namespace TcpIpSharp.Tests.Tcp.Scripts;

/// <summary>
/// Every <c>*.pkt</c> in this folder, one test case each, run by <see cref="PacketdrillRunner"/>. Scripts in
/// <c>known-failing/</c> describe behaviour the stack does not have yet; they are not part of the suite and run
/// only with TCPIPSHARP_PKT_KNOWN_FAILING=1 (see README.md).
/// </summary>
public class PacketdrillTests
{
    // TCPIPSHARP_PKT_DIR points at the source folder while editing scripts, to run them without a rebuild.
    private static string ScriptDirectory => Environment.GetEnvironmentVariable("TCPIPSHARP_PKT_DIR") is { Length: > 0 } dir
        ? dir : Path.Combine(AppContext.BaseDirectory, "Tcp", "Scripts");

    public static IEnumerable<TestCaseData> Scripts()
    {
        var files = Directory.GetFiles(ScriptDirectory, "*.pkt").Select(Path.GetFileName).ToList();
        if (Environment.GetEnvironmentVariable("TCPIPSHARP_PKT_KNOWN_FAILING") == "1" && Directory.Exists(Path.Combine(ScriptDirectory, "known-failing")))
            files.AddRange(Directory.GetFiles(Path.Combine(ScriptDirectory, "known-failing"), "*.pkt").Select(f => "known-failing/" + Path.GetFileName(f)));
        foreach (var name in files.Order(StringComparer.Ordinal))
            yield return new TestCaseData(name).SetArgDisplayNames(name!);
    }

    [TestCaseSource(nameof(Scripts))]
    public void Script(string name) => PacketdrillRunner.RunFile(Path.Combine(ScriptDirectory, name));

    [Test]
    public void The_suite_has_at_least_forty_scripts() => Assert.That(Scripts().Count(), Is.GreaterThanOrEqualTo(40));
}
