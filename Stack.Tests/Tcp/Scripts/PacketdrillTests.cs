namespace TcpIpSharp.Tests.Tcp.Scripts;

/// <summary>
/// Every <c>*.pkt</c> in this folder, one test case each, run by <see cref="PacketdrillRunner"/>. Scripts in
/// <c>known-failing/</c> describe behaviour the stack does not have yet; they are not part of the suite and run
/// only with TCPIPSHARP_PKT_KNOWN_FAILING=1 (see README.md). Every script runs over IPv4 and over IPv6 (the same file;
/// the runner speaks the family), except the few listed in <see cref="Ipv4Only"/> with their reason.
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
        foreach (var family in new[] { IpFamily.V4, IpFamily.V6 })
        {
            foreach (var name in files.Order(StringComparer.Ordinal))
            {
                if (family == IpFamily.V6 && Ipv4Only.ContainsKey(name!)) continue;
                yield return new TestCaseData(name, family).SetArgDisplayNames(name!, family.ToString());
            }
        }
    }

    /// <summary>Scripts that cannot apply to IPv6, with the reason (keep this short; README.md lists them too).</summary>
    internal static readonly Dictionary<string, string> Ipv4Only = new(StringComparer.Ordinal);

    [TestCaseSource(nameof(Scripts))]
    public void Script(string name, IpFamily family) => PacketdrillRunner.RunFile(Path.Combine(ScriptDirectory, name), family);

    [Test]
    public void The_suite_has_at_least_forty_scripts_per_family()
    {
        Assert.That(Scripts().Count(c => (IpFamily)c.Arguments[1]! == IpFamily.V4), Is.GreaterThanOrEqualTo(40));
        Assert.That(Scripts().Count(c => (IpFamily)c.Arguments[1]! == IpFamily.V6), Is.GreaterThanOrEqualTo(40));
    }
}
