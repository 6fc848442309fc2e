using TcpIpSharp.Links;
using TcpIpSharp.Tap.Capture;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Tap.Services;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp replay FILE</c>: feeds a capture's frames, one by one at their captured times (virtual time),
/// into a stack configured as the capture's host, and writes the frames it sends back.
/// </summary>
internal static class ReplayCommand
{
    public const string Usage = "replay FILE --ip A.B.C.D/LEN --mac MAC [--gw A.B.C.D] [--services LIST|none] --out FILE";

    public static int Run(string[] args)
    {
        var cl = new CommandLine(args);
        if (cl.Positional.Count != 1) throw new UsageException("replay takes one capture FILE");
        if (!cl.Has("--mac")) throw new UsageException("--mac is required (the capture host's MAC)");
        var output = cl.Require("--out");
        var frames = CaptureFile.ReadEthernet(cl.Positional[0]);
        var sent = Replay(frames, HostSetup.Options(cl), UpCommand.ParseServices(cl.Get("--services")));
        CaptureFile.WriteEthernet(output, sent);
        Console.WriteLine($"replayed {frames.Count} frames; the stack sent {sent.Count} frames to {output}");
        return 0;
    }

    /// <summary>Replays <paramref name="frames"/> into a stack with <paramref name="options"/>; returns what it sent, timed.</summary>
    internal static List<CaptureFile.Frame> Replay(IReadOnlyList<CaptureFile.Frame> frames, NetworkStackOptions options, HashSet<string> services)
    {
        var input = frames.Select(f => (ReadOnlyMemory<byte>)f.Data).ToList();
        var link = new ReplayLink(input) { Allowance = 0 };
        var clock = new ManualClock();
        var start = frames.Count > 0 ? frames[0].Time : DateTime.UnixEpoch;
        using var stack = new NetworkStack(link, options with { AnnounceOnUp = false }, new SeededRandomSource(1));
        var udp = new UdpServices(services.Contains("echo"), services.Contains("discard"), services.Contains("chargen"));
        udp.Start(stack, clock.Now);
        var result = new List<CaptureFile.Frame>();
        int seen = 0;
        void Collect()
        {
            for (; seen < link.Sent.Count; seen++) result.Add(new CaptureFile.Frame(start + clock.Now, link.Sent[seen].Frame));
        }
        foreach (var frame in frames)
        {
            clock.Set(frame.Time - start);
            link.Allowance = 1;
            stack.Poll(clock.Now);
            Collect();
        }
        clock.Advance(TimeSpan.FromMilliseconds(1));
        stack.Poll(clock.Now);
        Collect();
        return result;
    }
}
