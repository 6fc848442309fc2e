using System.Security.Cryptography;

namespace TcpIpSharp.Tests.Interop;

/// <summary>What the tests that run <c>tcpipsharp up</c> in a namespace share: waiting for it, and its HTTP bytes.</summary>
internal static class StackHost
{
    /// <summary>Fails the test unless the stack at <paramref name="address"/> answers ping within 40 tries while <paramref name="host"/> runs.</summary>
    public static void WaitForPing(NetNs ns, NsProcess host, string address)
    {
        bool answered = false;
        for (int i = 0; i < 40 && !answered && !host.HasExited; i++)
            answered = ns.Exec(TimeSpan.FromSeconds(3), "ping", "-c", "1", "-W", "1", address).Succeeded;
        if (!answered) Assert.Fail($"the stack did not answer ping within 40 s: {host.WaitForExit(TimeSpan.FromSeconds(1))}");
    }

    /// <summary>Stops a running <c>up</c> with SIGTERM (it prints its statistics then), and writes its output to the test log; the caller disposes it.</summary>
    public static void Stop(NsProcess? host)
    {
        if (host is { HasExited: false })
        {
            NetNs.RunHost(TimeSpan.FromSeconds(5), "kill", "-TERM", host.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var result = host.WaitForExit(TimeSpan.FromSeconds(10));
            TestContext.Out.WriteLine($"the stack's output:\n{result.StandardOutput}{result.StandardError}");
        }
    }

    /// <summary>The SHA-256 (lower-case hex) of what <c>GET /bytes/N</c> returns: byte i is i % 251.</summary>
    public static string ExpectedBytesHash(long n)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var block = new byte[251 * 1024];
        for (int i = 0; i < block.Length; i++) block[i] = (byte)(i % 251);
        for (long left = n; left > 0; left -= block.Length) sha.AppendData(block, 0, (int)Math.Min(left, block.Length));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
