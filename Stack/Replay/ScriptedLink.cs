using TcpIpSharp.Links;

namespace TcpIpSharp.Replay;

/// <summary>The replay's link: frames are put in by the replay one poll at a time, and every frame the stack sends is
/// kept with the virtual time it was sent at. A tool: it allocates per frame.</summary>
internal sealed class ScriptedLink(LinkCapabilities capabilities, IClock clock) : ILink
{
    private readonly Queue<byte[]> _input = new();

    public LinkCapabilities Capabilities { get; } = capabilities;
    public List<(TimeSpan Time, byte[] Frame)> Sent { get; } = [];
    public bool HasInput => _input.Count > 0;
    public int Oversize { get; private set; }

    public void Put(byte[] frame) => _input.Enqueue(frame);

    public int TryReceive(Span<byte> buffer)
    {
        while (_input.TryDequeue(out var frame))
        {
            if (frame.Length > buffer.Length) { Oversize++; continue; }
            frame.CopyTo(buffer);
            return frame.Length;
        }
        return 0;
    }

    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        Sent.Add((clock.Now, frame.ToArray()));
        return true;
    }

    public bool WaitReadable(TimeSpan timeout) => HasInput;
    public void Interrupt() { }
    public void Dispose() { }
}
