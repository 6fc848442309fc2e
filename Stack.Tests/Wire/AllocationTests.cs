using TcpIpSharp.Tests.Support;

namespace TcpIpSharp.Tests.Wire;

/// <summary>Parsing every layer and checksumming allocates nothing (DESIGN.md section 4).</summary>
public class AllocationTests
{
    private const int Frames = 10_000;

    [Test]
    public void Parsing_and_checksumming_10000_frames_allocates_zero_bytes()
    {
        // The embedded real frames, plus every frame of the shared corpus where it is present.
        var frames = new List<byte[]>(RealFrames.All);
        string corpus = TestPaths.SharedCaptures;
        if (Directory.Exists(corpus))
            foreach (string file in TestPaths.CaptureFilesUnder(corpus))
                frames.AddRange(CaptureReader.ReadFrames(file).Select(f => f.Data));
        byte[][] set = [.. frames];

        int sink = Run(set, Frames);   // warm-up: JIT and tiering
        long allocated = AllocationMeter.BytesAllocatedBy(() => sink += Run(set, Frames));

        Assert.That(allocated, Is.Zero, $"{allocated} bytes allocated over {Frames} frames");
        Assert.That(sink, Is.Positive);
    }

    private static int Run(byte[][] frames, int count)
    {
        int valid = 0;
        for (int i = 0; i < count; i++)
        {
            var result = LayerWalk.Walk(frames[i % frames.Length], out int checksums);
            valid += checksums + (result.Error == TcpIpSharp.Wire.WireError.None ? 1 : 0);
        }
        return valid;
    }
}
