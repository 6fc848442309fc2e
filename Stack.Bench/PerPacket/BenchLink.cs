using System.Buffers.Binary;
using TcpIpSharp.Links;

namespace TcpIpSharp.Bench.PerPacket;

/// <summary>
/// A link for the per-packet suites. While <see cref="Connected"/> it joins two stacks (setup: handshakes, ARP);
/// afterwards it is a sink that drops what the stack sends (counting it) and hands the stack one injected frame per
/// <see cref="Feed"/>, lent in place (<see cref="ILink.Lend"/>) as the in-memory pair and the TAP lend the frames in
/// their receive buffers; <see cref="TryReceive"/> still copies, for callers that want their own buffer.
/// </summary>
internal sealed class BenchLink : ILink
{
    private readonly Queue<byte[]> _queue = new();
    private BenchLink? _peer;
    private byte[] _feed = [];
    private bool _fed;

    public static (BenchLink A, BenchLink B) CreatePair()
    {
        var a = new BenchLink();
        var b = new BenchLink();
        a._peer = b;
        b._peer = a;
        return (a, b);
    }

    public LinkCapabilities Capabilities => LinkCapabilities.Ethernet;

    /// <summary>True: frames go to the peer; false: they are dropped (counted).</summary>
    public bool Connected { get; set; } = true;
    /// <summary>When set, every frame sent is copied here, delivered or not (setup takes its templates from it).</summary>
    public List<byte[]>? Recorded { get; set; }
    /// <summary>Frames dropped by the sink.</summary>
    public long SinkFrames { get; private set; }
    /// <summary>The highest TCP sequence number sent (sequence + payload length), over every TCP frame the sink saw.</summary>
    public uint TcpSentTo { get; set; }
    /// <summary>The family whose TCP frames <see cref="TcpSentTo"/> follows.</summary>
    public Frames Layout { get; set; } = Frames.V4;

    /// <summary>The next <see cref="TryReceive"/> returns this frame (once).</summary>
    public void Feed(byte[] frame)
    {
        _feed = frame;
        _fed = true;
    }

    private byte[][] _batch = [];
    private int _batchNext, _batchCount;

    /// <summary>The next <see cref="TryReceive"/> calls return the first <paramref name="count"/> of these frames, in order (one poll takes them all, as a link read in a batch).</summary>
    public void FeedBatch(byte[][] frames, int count)
    {
        _batch = frames;
        _batchNext = 0;
        _batchCount = count;
    }

    public int TryReceive(Span<byte> buffer)
    {
        if (_fed)
        {
            _fed = false;
            _feed.CopyTo(buffer);
            return _feed.Length;
        }
        if (_batchNext < _batchCount)
        {
            var next = _batch[_batchNext++];
            next.CopyTo(buffer);
            return next.Length;
        }
        if (_queue.Count == 0) return 0;
        var frame = _queue.Dequeue();
        frame.CopyTo(buffer);
        return frame.Length;
    }

    /// <summary>
    /// True: <see cref="Lend"/> copies one frame per call into the batch's copy buffer, as <see cref="ILink.Lend"/>'s
    /// default does for a link that only copies (and as every link did before lending): the "before" of an in-process A/B.
    /// </summary>
    public bool CopyFrames { get; set; }

    public int Lend(FrameBatch batch)
    {
        batch.CheckEmpty();
        if (CopyFrames)
        {
            int length = TryReceive(batch.CopyBuffer);
            if (length > 0) batch.Add(this, batch.CopiedFrame(length), 0);
            return batch.Count;
        }
        if (_fed && !batch.IsFull)
        {
            _fed = false;
            batch.Add(this, _feed, 0);
        }
        while (_batchNext < _batchCount && !batch.IsFull) batch.Add(this, _batch[_batchNext++], 0);
        while (!batch.IsFull && _queue.TryDequeue(out var frame)) batch.Add(this, frame, 0);
        if (!_fed && _batchNext >= _batchCount && _queue.Count == 0) batch.MarkDrained();   // as the in-memory link and the TAP say it
        return batch.Count;
    }

    public void Return(FrameBatch batch)
    {
        batch.CheckLentBy(this);
        batch.Clear();
    }

    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        if (Recorded is not null || Connected)
        {
            var copy = frame.ToArray();
            Recorded?.Add(copy);
            if (Connected) _peer!._queue.Enqueue(copy);
            return true;
        }
        SinkFrames++;
        // IPv4 without options or IPv6 without extension headers, carrying TCP: remember how far the sequence space went.
        var f = Layout;
        if (frame.Length >= f.TcpHeader + 20 && frame[f.IpProtocol] == 6 && f.IsFamily(frame))
        {
            int tcpHeader = (frame[f.TcpHeader + 12] >> 4) * 4;
            uint end = BinaryPrimitives.ReadUInt32BigEndian(frame[f.TcpSequence..]) + (uint)(f.IpPayloadLength(frame) - tcpHeader);
            if ((int)(end - TcpSentTo) > 0) TcpSentTo = end;
        }
        return true;
    }

    public bool WaitReadable(TimeSpan timeout) => _fed || _queue.Count > 0;

    public void Interrupt() { }

    public void Dispose() { }
}
