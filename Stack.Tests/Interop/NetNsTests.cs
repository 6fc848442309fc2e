using System.Runtime.Versioning;
namespace TcpIpSharp.Tests.Interop;

/// <summary>The namespace helper every interop test stands on (needs root).</summary>
[SupportedOSPlatform("linux")]
[NonParallelizable]
public class NetNsTests
{
    [Test]
    public void Dispose_deletes_the_namespace_and_kills_what_runs_inside()
    {
        string name;
        NsProcess sleeper;
        int sleeperId;
        using (var ns = NetNs.Create("self"))
        {
            name = ns.Name;
            Assert.That(NetNs.RunHost(NetNs.DefaultTimeout, "ip", "netns", "list").StandardOutput, Does.Contain(name));
            ns.AddVethPair("veth0", "veth1", "192.0.2.1/24", "192.0.2.2/24");
            Assert.That(ns.Ip("-4", "addr", "show", "veth0"), Does.Contain("192.0.2.1/24"));
            Assert.That(ns.Exec(NetNs.DefaultTimeout, "ping", "-c", "1", "-W", "2", "192.0.2.2").Succeeded, Is.True, "the pair carries traffic");
            sleeper = ns.Start("sleep", "60");
            sleeperId = sleeper.Id;
        }
        Assert.That(sleeper.WaitForExit(TimeSpan.FromSeconds(5)).Killed, Is.True, "the background process was killed, not left running");
        Assert.That(Directory.Exists($"/proc/{sleeperId}"), Is.False, $"process {sleeperId} is gone");
        Assert.That(NetNs.RunHost(NetNs.DefaultTimeout, "ip", "netns", "list").StandardOutput, Does.Not.Contain(name));
    }

    [Test]
    public void A_command_that_outlives_its_time_limit_is_killed_and_reported()
    {
        using var ns = NetNs.Create("timeout");
        var result = ns.Exec(TimeSpan.FromMilliseconds(300), "sleep", "30");
        Assert.That(result.Killed, Is.True, result.ToString());
        Assert.That(() => result.ThrowIfFailed(), Throws.InvalidOperationException.With.Message.Contains("time limit"));
    }
}
