using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// The TCP options the stack uses, parsed from or to be written into an options area, held without allocation.
/// Unknown kinds are skipped when parsing; when an option appears twice the last one counts.
/// </summary>
public readonly record struct TcpOptions
{
    /// <summary>Largest options area: a 60-byte header less the 20 fixed bytes.</summary>
    public const int MaximumLength = 40;

    /// <summary>Maximum segment size (RFC 9293 3.7.1), or null when absent.</summary>
    public ushort? MaximumSegmentSize { get; init; }
    /// <summary>Window scale shift count (RFC 7323 2), or null when absent. Values above 14 are kept as received; RFC 7323 2.3 says to use 14.</summary>
    public byte? WindowScale { get; init; }
    /// <summary>True when SACK-permitted is present (RFC 2018 2).</summary>
    public bool SackPermitted { get; init; }
    /// <summary>Timestamps (RFC 7323 3), or null when absent.</summary>
    public TcpTimestamp? Timestamp { get; init; }
    /// <summary>SACK blocks (RFC 2018 3); <see cref="TcpSackBlocks.Count"/> 0 when absent.</summary>
    public TcpSackBlocks SackBlocks { get; init; }

    /// <summary>Parses an options area. Fails with <see cref="WireError.BadOption"/> on the first malformed option (see <see cref="TcpOptionReader"/>).</summary>
    public static WireError TryParse(ReadOnlySpan<byte> options, out TcpOptions parsed)
    {
        // The two layouts nearly every segment of a connection carries, read without the general walk: none, and
        // NOP NOP TS (RFC 7323 appendix A's layout, which Linux and the stack send).
        if (options.IsEmpty) { parsed = default; return WireError.None; }
        if (options.Length == 12 && BinaryPrimitives.ReadUInt32BigEndian(options) == 0x0101_080A)
        {
            parsed = new TcpOptions { Timestamp = new TcpTimestamp(BinaryPrimitives.ReadUInt32BigEndian(options[4..]), BinaryPrimitives.ReadUInt32BigEndian(options[8..])) };
            return WireError.None;
        }
        ushort? mss = null;
        byte? windowScale = null;
        bool sackPermitted = false;
        TcpTimestamp? timestamp = null;
        TcpSackBlocks sack = default;
        var reader = new TcpOptionReader(options);
        while (reader.Read())
        {
            var data = reader.Data;
            switch (reader.Kind)
            {
                case TcpOptionKind.MaximumSegmentSize:
                    mss = BinaryPrimitives.ReadUInt16BigEndian(data);
                    break;
                case TcpOptionKind.WindowScale:
                    windowScale = data[0];
                    break;
                case TcpOptionKind.SackPermitted:
                    sackPermitted = true;
                    break;
                case TcpOptionKind.Timestamps:
                    timestamp = new TcpTimestamp(BinaryPrimitives.ReadUInt32BigEndian(data), BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
                    break;
                case TcpOptionKind.Sack:
                    sack = default;
                    for (int i = 0; i + 8 <= data.Length; i += 8)
                        sack = sack.Add(new TcpSackBlock(BinaryPrimitives.ReadUInt32BigEndian(data[i..]), BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..])));
                    break;
            }
        }
        parsed = reader.Error == WireError.None
            ? new TcpOptions { MaximumSegmentSize = mss, WindowScale = windowScale, SackPermitted = sackPermitted, Timestamp = timestamp, SackBlocks = sack }
            : default;
        return reader.Error;
    }

    /// <summary>The SACK blocks that fit beside the other options in 40 bytes (all four without timestamps, three with them; RFC 2018 3).</summary>
    public int SackBlocksThatFit
    {
        get
        {
            if (SackBlocks.Count == 0) return 0;
            int room = MaximumLength - FixedLength - 4;   // NOP NOP kind length
            return Math.Min(SackBlocks.Count, Math.Max(0, room / 8));
        }
    }

    // Bytes of every option but SACK, in the layout WriteTo uses; each piece is a multiple of 4.
    private int FixedLength
        => (MaximumSegmentSize.HasValue ? 4 : 0)
         + (Timestamp.HasValue ? 12 : SackPermitted ? 4 : 0)
         + (WindowScale.HasValue ? 4 : 0);

    /// <summary>Bytes <see cref="WriteTo"/> writes: a multiple of 4, at most 40.</summary>
    public int Length
    {
        get
        {
            int sack = SackBlocksThatFit;
            return FixedLength + (sack > 0 ? 4 + 8 * sack : 0);
        }
    }

    /// <summary>
    /// Writes the options in Linux's aligned layout (MSS; SACK-permitted with timestamps, or NOPs in its place; NOP and window scale;
    /// NOP NOP and the SACK blocks that fit), so the area is a multiple of 4 with no trailing padding; returns <see cref="Length"/>.
    /// </summary>
    public int WriteTo(Span<byte> destination)
    {
        int p = 0;
        if (MaximumSegmentSize is ushort mss)
        {
            destination[p++] = (byte)TcpOptionKind.MaximumSegmentSize;
            destination[p++] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(destination[p..], mss);
            p += 2;
        }
        if (Timestamp is TcpTimestamp timestamp)
        {
            // RFC 7323 appendix A: a 12-byte block keeps the timestamps 4-byte aligned.
            if (SackPermitted)
            {
                destination[p++] = (byte)TcpOptionKind.SackPermitted;
                destination[p++] = 2;
            }
            else
            {
                destination[p++] = (byte)TcpOptionKind.NoOperation;
                destination[p++] = (byte)TcpOptionKind.NoOperation;
            }
            destination[p++] = (byte)TcpOptionKind.Timestamps;
            destination[p++] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(destination[p..], timestamp.Value);
            BinaryPrimitives.WriteUInt32BigEndian(destination[(p + 4)..], timestamp.EchoReply);
            p += 8;
        }
        else if (SackPermitted)
        {
            destination[p++] = (byte)TcpOptionKind.NoOperation;
            destination[p++] = (byte)TcpOptionKind.NoOperation;
            destination[p++] = (byte)TcpOptionKind.SackPermitted;
            destination[p++] = 2;
        }
        if (WindowScale is byte shift)
        {
            destination[p++] = (byte)TcpOptionKind.NoOperation;
            destination[p++] = (byte)TcpOptionKind.WindowScale;
            destination[p++] = 3;
            destination[p++] = shift;
        }
        int blocks = SackBlocksThatFit;
        if (blocks > 0)
        {
            destination[p++] = (byte)TcpOptionKind.NoOperation;
            destination[p++] = (byte)TcpOptionKind.NoOperation;
            destination[p++] = (byte)TcpOptionKind.Sack;
            destination[p++] = (byte)(2 + 8 * blocks);
            for (int i = 0; i < blocks; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(destination[p..], SackBlocks[i].Left);
                BinaryPrimitives.WriteUInt32BigEndian(destination[(p + 4)..], SackBlocks[i].Right);
                p += 8;
            }
        }
        return p;
    }
}
