namespace TcpIpSharp.Tests.Support;

/// <summary>Where the repository, the shared capture corpus and the project's own captures are.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    /// <summary>The folder holding TcpIpSharp.sln.</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>../shared/captures beside the repository (third-party captures, never copied into the repo).</summary>
    public static string SharedCaptures => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "captures"));

    /// <summary>The project's own captures, recorded from real Linux peers by tools/record-captures.sh.</summary>
    public static string OwnCaptures => Path.Combine(RepositoryRoot, "Stack.Tests", "Captures");

    /// <summary>The shared corpus folder; ignores the test (the only allowed skip) when it is not beside the repository.</summary>
    public static string RequireSharedCaptures()
    {
        string path = SharedCaptures;
        if (!Directory.Exists(path)) Assert.Ignore($"../shared/captures not present: {path} does not exist");
        return path;
    }

    /// <summary>Every pcap/pcapng file under a folder, sorted by relative path.</summary>
    public static IReadOnlyList<string> CaptureFilesUnder(string folder)
    {
        if (!Directory.Exists(folder)) return [];
        return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".pcap", StringComparison.Ordinal) || f.EndsWith(".pcapng", StringComparison.Ordinal))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
    }

    private static string FindRepositoryRoot()
    {
        // AppContext.BaseDirectory is the test directory, and is known at discovery time too (TestCaseSource).
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TcpIpSharp.sln"))) return dir.FullName;
        throw new InvalidOperationException("TcpIpSharp.sln not found above " + AppContext.BaseDirectory);
    }
}
