namespace TcpIpSharp.Tests.Wire;

/// <summary>Locates ../shared/captures beside the repository root (the folder holding TcpIpSharp.sln).</summary>
internal static class SharedCaptures
{
    /// <summary>The captures folder; ignores the calling test when it is absent (the one allowed skip).</summary>
    public static string Folder()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory != null && !File.Exists(Path.Combine(directory.FullName, "TcpIpSharp.sln")))
            directory = directory.Parent;
        Assert.That(directory, Is.Not.Null, "no TcpIpSharp.sln above " + TestContext.CurrentContext.TestDirectory);
        string folder = Path.GetFullPath(Path.Combine(directory!.FullName, "..", "shared", "captures"));
        if (!Directory.Exists(folder)) Assert.Ignore("../shared/captures not present: " + folder);
        return folder;
    }
}
