namespace TcpIpSharp.Tests.Support;

/// <summary>
/// Every capture the agreement tests run on: the shared third-party corpus (../shared/captures, ids "shared/...") and the
/// project's own recordings (Stack.Tests/Captures, ids "own/...").
/// </summary>
internal static class CaptureCorpus
{
    /// <summary>The id given when ../shared/captures is absent; a test receiving it calls <see cref="Resolve"/>, which ignores it.</summary>
    public const string SharedAbsent = "shared (absent)";

    /// <summary>Capture ids, shared first, each sorted by path.</summary>
    public static IEnumerable<string> Ids()
    {
        if (Directory.Exists(TestPaths.SharedCaptures))
            foreach (string file in TestPaths.CaptureFilesUnder(TestPaths.SharedCaptures))
                yield return "shared/" + Relative(TestPaths.SharedCaptures, file);
        else
            yield return SharedAbsent;
        foreach (string file in TestPaths.CaptureFilesUnder(TestPaths.OwnCaptures))
            yield return "own/" + Relative(TestPaths.OwnCaptures, file);
    }

    /// <summary>The file behind an id; ignores the test when the shared corpus is absent.</summary>
    public static string Resolve(string id)
    {
        if (id == SharedAbsent) TestPaths.RequireSharedCaptures();
        if (id.StartsWith("shared/", StringComparison.Ordinal)) return Path.Combine(TestPaths.RequireSharedCaptures(), id["shared/".Length..]);
        if (id.StartsWith("own/", StringComparison.Ordinal)) return Path.Combine(TestPaths.OwnCaptures, id["own/".Length..]);
        throw new ArgumentException("unknown capture id " + id, nameof(id));
    }

    private static string Relative(string root, string file) => Path.GetRelativePath(root, file).Replace('\\', '/');
}
