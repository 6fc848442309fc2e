using TcpIpSharp.Tests.Support;

namespace TcpIpSharp.Tests.Interop;

/// <summary>The built <c>tcpipsharp</c> program (Stack.Tap's output for the test's own configuration).</summary>
internal static class HostProgram
{
    public static string Path
    {
        get
        {
            // Stack.Tests/bin/CONFIG/net10.0 -> Stack.Tap/bin/CONFIG/net10.0/tcpipsharp
            var testDir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
            string configuration = testDir.Parent!.Name, framework = testDir.Name;
            string path = System.IO.Path.Combine(TestPaths.RepositoryRoot, "Stack.Tap", "bin", configuration, framework, "tcpipsharp");
            if (!File.Exists(path)) Assert.Fail($"the program is not built: {path} is missing (dotnet build Stack.Tap -c {configuration})");
            return path;
        }
    }
}
