namespace TcpIpSharp.Tests.Interop;

/// <summary><c>tcpipsharp ping</c>: the stack pings the kernel through a TAP.</summary>
[NonParallelizable]
public class PingCommandTests
{
    [Test]
    public void The_stack_pings_the_kernel_plain_and_fragmented()
    {
        using var ns = NetNs.Create("ping");
        ns.AddTap("tap0", "192.0.2.1/24");
        var plain = ns.Exec(TimeSpan.FromSeconds(30), HostProgram.Path, "ping", "192.0.2.1", "-c", "3", "-i", "0.2", "--tap", "tap0", "--ip", "192.0.2.2/24");
        Assert.That(plain.StandardOutput, Does.Contain("3 packets transmitted, 3 received, 0% packet loss"), plain.ToString());
        var big = ns.Exec(TimeSpan.FromSeconds(30), HostProgram.Path, "ping", "192.0.2.1", "-c", "2", "-i", "0.2", "-s", "20000", "--tap", "tap0", "--ip", "192.0.2.2/24");
        Assert.That(big.StandardOutput, Does.Contain("2 packets transmitted, 2 received").And.Contain("20008 bytes from 192.0.2.1"), big.ToString());
        Assert.That(big.StandardOutput, Does.Not.Contain("corrupted"));
    }
}
