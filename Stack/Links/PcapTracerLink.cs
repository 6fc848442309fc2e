using System.Buffers.Binary;

namespace TcpIpSharp.Links;

/// <summary>
/// Wraps a link and writes every frame received and sent to a pcap file (Ethernet link type, microsecond
/// timestamps from the given clock plus the wall-clock time at start). No allocation per frame.
/// </summary>
public sealed class PcapTracerLink : ILink
{
    private readonly ILink _inner;
    private readonly Stream _output;
    private readonly IClock _clock;
    private readonly long _epochMicroseconds;
    private readonly byte[] _record = new byte[16];
    private readonly bool _ownsOutput;

    /// <summary>Wraps <paramref name="inner"/>, writing to <paramref name="output"/>.</summary>
    public PcapTracerLink(ILink inner, Stream output, IClock clock, bool ownsOutput = true)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(output);
        _inner = inner;
        _output = output;
        _clock = clock;
        _ownsOutput = ownsOutput;
        _epochMicroseconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000 - (long)clock.Now.TotalMicroseconds;
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);           // magic, microseconds
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);               // version 2.4
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 262144);         // snap length
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1);              // LINKTYPE_ETHERNET
        _output.Write(header);
    }

    /// <summary>Opens a tracer writing to a new file at <paramref name="path"/>.</summary>
    public static PcapTracerLink ToFile(ILink inner, string path, IClock clock)
        => new(inner, new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16), clock);

    /// <inheritdoc/>
    public LinkCapabilities Capabilities => _inner.Capabilities;

    /// <inheritdoc/>
    public int TryReceive(Span<byte> buffer)
    {
        int n = _inner.TryReceive(buffer);
        if (n > 0) Write(buffer[..n]);
        return n;
    }

    /// <inheritdoc/>
    /// <remarks>Lends the inner link's frames, writing each to the capture as it is lent.</remarks>
    public int Lend(FrameBatch batch)
    {
        int n = _inner.Lend(batch);
        for (int i = 0; i < n; i++) Write(batch[i]);
        return n;
    }

    /// <inheritdoc/>
    public void Return(FrameBatch batch) => _inner.Return(batch);

    /// <inheritdoc/>
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        Write(frame);
        return _inner.TrySend(frame);
    }

    /// <inheritdoc/>
    /// <remarks>The capture holds the frame as the stack handed it over: one large segment with a partial checksum.</remarks>
    public bool TrySendTcpSegments(ReadOnlySpan<byte> frame, int segmentSize)
    {
        Write(frame);
        return _inner.TrySendTcpSegments(frame, segmentSize);
    }

    private void Write(ReadOnlySpan<byte> frame)
    {
        long us = _epochMicroseconds + (long)_clock.Now.TotalMicroseconds;
        BinaryPrimitives.WriteUInt32LittleEndian(_record, (uint)(us / 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(4), (uint)(us % 1_000_000));
        BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(8), (uint)frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(_record.AsSpan(12), (uint)frame.Length);
        _output.Write(_record);
        _output.Write(frame);
    }

    /// <summary>Flushes buffered records to the file.</summary>
    public void Flush() => _output.Flush();

    /// <inheritdoc/>
    public bool WaitReadable(TimeSpan timeout)
    {
        _output.Flush();
        return _inner.WaitReadable(timeout);
    }

    /// <inheritdoc/>
    public void Interrupt() => _inner.Interrupt();

    /// <inheritdoc/>
    public void Dispose()
    {
        _output.Flush();
        if (_ownsOutput) _output.Dispose();
        _inner.Dispose();
    }
}
