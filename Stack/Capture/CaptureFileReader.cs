using System.Buffers.Binary;

namespace TcpIpSharp.Capture;

/// <summary>
/// Reads pcap (microsecond and nanosecond, either byte order) and pcapng (sections, several interfaces with their own
/// link types and timestamp resolutions; enhanced, simple and obsolete packet blocks) files record by record, in
/// managed code: no libpcap is needed, and a damaged file ends in a <see cref="CaptureFormatException"/> with a one-line
/// message that names the record, never in another exception. Allocates one array per record (a tool, not the stack's
/// packet path).
/// </summary>
public sealed class CaptureFileReader : IDisposable
{
    private const uint PcapMicroseconds = 0xA1B2C3D4, PcapNanoseconds = 0xA1B23C4D;
    private const uint SectionHeaderBlock = 0x0A0D0D0A, InterfaceBlock = 1, ObsoletePacketBlock = 2, SimplePacketBlock = 3, EnhancedPacketBlock = 6;
    private const uint ByteOrderMagic = 0x1A2B3C4D;
    /// <summary>Largest record accepted (libpcap's limit for most link types is 256 KB; 16 MB leaves room).</summary>
    public const int MaximumRecordBytes = 16 << 20;

    private readonly Stream _stream;
    private readonly string _name;
    private readonly byte[] _header = new byte[32];
    private readonly List<(int LinkType, long UnitsPerSecond, long OffsetSeconds, int SnapLength)> _interfaces = [];
    private bool _bigEndian;
    private long _number;
    private int _pcapLinkType;
    private long _pcapUnitsPerSecond;

    /// <summary>Opens a capture file; throws <see cref="CaptureFormatException"/> when it is missing or not a capture.</summary>
    public static CaptureFileReader Open(string path)
    {
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CaptureFormatException(File.Exists(path) || Directory.Exists(path) ? $"{path}: cannot be read ({e.Message})" : $"{path}: no such file", e);
        }
        try { return new CaptureFileReader(stream, path); }
        catch { stream.Dispose(); throw; }
    }

    /// <summary>Reads a capture from <paramref name="stream"/> (the reader owns it); <paramref name="name"/> names it in errors.</summary>
    public CaptureFileReader(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _name = name;
        if (!ReadExactly(_header.AsSpan(0, 4), allowEndOfFile: true)) throw Error("empty file, not a pcap or pcapng capture");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(_header);
        if (magic == SectionHeaderBlock) { Format = CaptureFormat.PcapNg; ReadSectionHeader(); return; }
        Format = CaptureFormat.Pcap;
        if (magic is PcapMicroseconds or PcapNanoseconds) _bigEndian = false;
        else if (BinaryPrimitives.ReverseEndianness(magic) is PcapMicroseconds or PcapNanoseconds) { _bigEndian = true; magic = BinaryPrimitives.ReverseEndianness(magic); }
        else throw Error($"not a pcap or pcapng capture (magic 0x{BinaryPrimitives.ReadUInt32BigEndian(_header):x8})");
        _pcapUnitsPerSecond = magic == PcapNanoseconds ? 1_000_000_000 : 1_000_000;
        if (!ReadExactly(_header.AsSpan(4, 20), allowEndOfFile: true)) throw Error("cut off in the file header");
        _pcapLinkType = (int)(U32(_header.AsSpan(20)) & 0xFFFF);   // the upper bits carry FCS information
        SnapLength = (int)Math.Min(U32(_header.AsSpan(16)), int.MaxValue);
    }

    /// <summary>pcap or pcapng.</summary>
    public CaptureFormat Format { get; }
    /// <summary>The pcap file's link type, or the first pcapng interface's (0 when none was described yet).</summary>
    public int LinkType => Format == CaptureFormat.Pcap ? _pcapLinkType : _interfaces.Count > 0 ? _interfaces[0].LinkType : 0;
    /// <summary>The pcap file's snap length (pcapng: the first interface's).</summary>
    public int SnapLength { get; private set; }
    /// <summary>Records read so far.</summary>
    public long RecordsRead => _number;

    /// <summary>Reads the next record; false at the end of the file. Throws <see cref="CaptureFormatException"/> on a damaged record.</summary>
    public bool TryRead(out CaptureRecord record)
    {
        record = null!;
        return Format == CaptureFormat.Pcap ? TryReadPcap(out record) : TryReadPcapNg(out record);
    }

    /// <summary>Reads every remaining record.</summary>
    public List<CaptureRecord> ReadAll()
    {
        var list = new List<CaptureRecord>();
        while (TryRead(out var record)) list.Add(record);
        return list;
    }

    private bool TryReadPcap(out CaptureRecord record)
    {
        record = null!;
        long number = _number + 1;
        if (!ReadExactly(_header.AsSpan(0, 16), allowEndOfFile: true)) return false;
        uint seconds = U32(_header), fraction = U32(_header.AsSpan(4)), captured = U32(_header.AsSpan(8)), original = U32(_header.AsSpan(12));
        if (captured > MaximumRecordBytes) throw Error($"record {number} claims {captured} captured bytes (damaged file?)");
        var data = new byte[captured];
        if (!ReadExactly(data, allowEndOfFile: true)) throw Error($"cut off in record {number} ({captured} bytes announced)");
        _number = number;
        long ticks = fraction * TimeSpan.TicksPerSecond / _pcapUnitsPerSecond;
        var time = DateTime.UnixEpoch.AddTicks(seconds * TimeSpan.TicksPerSecond + ticks);
        record = new CaptureRecord(number, time, data, (int)Math.Max(captured, Math.Min(original, int.MaxValue)), _pcapLinkType, 0);
        return true;
    }

    private bool TryReadPcapNg(out CaptureRecord record)
    {
        record = null!;
        while (true)
        {
            if (!ReadExactly(_header.AsSpan(0, 8), allowEndOfFile: true)) return false;
            uint type = _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(_header) : BinaryPrimitives.ReadUInt32LittleEndian(_header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(_header) == SectionHeaderBlock)
            {
                ReadSectionHeader(lengthRead: true);
                continue;
            }
            uint length = U32(_header.AsSpan(4));
            long number = _number + 1;
            if (length < 12 || length % 4 != 0 || length > MaximumRecordBytes + 64)
                throw Error($"block of type {type} before record {number} has a bad length {length}");
            var body = new byte[length - 12];
            if (!ReadExactly(body, allowEndOfFile: true) || !ReadExactly(_header.AsSpan(8, 4), allowEndOfFile: true))
                throw Error($"cut off in a block of type {type} (record {number})");
            switch (type)
            {
                case InterfaceBlock:
                    AddInterface(body);
                    continue;
                case EnhancedPacketBlock:
                case ObsoletePacketBlock:
                {
                    bool enhanced = type == EnhancedPacketBlock;
                    if (body.Length < 20) throw Error($"record {number}: packet block too short ({body.Length} bytes)");
                    int iface = enhanced ? (int)Math.Min(U32(body), int.MaxValue) : U16(body);
                    if (iface >= _interfaces.Count) throw Error($"record {number}: interface {iface} was never described");
                    ulong stamp = ((ulong)U32(body.AsSpan(4)) << 32) | U32(body.AsSpan(8));
                    uint captured = U32(body.AsSpan(12)), original = U32(body.AsSpan(16));
                    if (captured > body.Length - 20) throw Error($"record {number}: {captured} captured bytes in a block of {body.Length}");
                    var info = _interfaces[iface];
                    record = new CaptureRecord(number, Time(stamp, info.UnitsPerSecond, info.OffsetSeconds), body.AsSpan(20, (int)captured).ToArray(),
                        (int)Math.Max(captured, Math.Min(original, int.MaxValue)), info.LinkType, iface);
                    _number = number;
                    return true;
                }
                case SimplePacketBlock:
                {
                    if (body.Length < 4) throw Error($"record {number}: simple packet block too short");
                    if (_interfaces.Count == 0) throw Error($"record {number}: no interface was described");
                    var info = _interfaces[0];
                    uint original = U32(body);
                    int captured = (int)Math.Min(Math.Min(original, (uint)(body.Length - 4)), (uint)Math.Max(info.SnapLength, 0) is 0 ? uint.MaxValue : (uint)info.SnapLength);
                    record = new CaptureRecord(number, DateTime.UnixEpoch, body.AsSpan(4, captured).ToArray(), (int)Math.Max((uint)captured, Math.Min(original, int.MaxValue)), info.LinkType, 0);
                    _number = number;
                    return true;
                }
                default:
                    continue;   // name resolution, statistics, custom and other blocks carry no frames
            }
        }
    }

    private void ReadSectionHeader(bool lengthRead = false)
    {
        // Block type (read), total length, byte-order magic, version, section length, options.
        if (!lengthRead && !ReadExactly(_header.AsSpan(4, 4), allowEndOfFile: true)) throw Error("cut off in the section header");
        if (!ReadExactly(_header.AsSpan(8, 4), allowEndOfFile: true)) throw Error("cut off in the section header");
        uint order = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(8));
        if (order == ByteOrderMagic) _bigEndian = false;
        else if (order == BinaryPrimitives.ReverseEndianness(ByteOrderMagic)) _bigEndian = true;
        else throw Error("pcapng section header with a bad byte-order magic");
        uint length = U32(_header.AsSpan(4));
        if (length < 28 || length % 4 != 0 || length > 1 << 20) throw Error($"pcapng section header with a bad length {length}");
        var rest = new byte[length - 12];
        if (!ReadExactly(rest, allowEndOfFile: true)) throw Error("cut off in the section header");
        _interfaces.Clear();   // interface numbers start again in each section
    }

    private void AddInterface(byte[] body)
    {
        if (body.Length < 8) throw Error("interface description block too short");
        int linkType = U16(body);
        int snap = (int)Math.Min(U32(body.AsSpan(4)), int.MaxValue);
        long unitsPerSecond = 1_000_000, offset = 0;
        // Options: code (2), length (2), value padded to 4. if_tsresol (9) and if_tsoffset (14) matter here.
        for (int at = 8; at + 4 <= body.Length;)
        {
            int code = U16(body.AsSpan(at)), size = U16(body.AsSpan(at + 2));
            if (code == 0 || at + 4 + size > body.Length) break;
            var value = body.AsSpan(at + 4, size);
            if (code == 9 && size >= 1)
            {
                int exponent = value[0] & 0x7F;
                if ((value[0] & 0x80) != 0) unitsPerSecond = exponent < 63 ? 1L << exponent : long.MaxValue;
                else unitsPerSecond = exponent <= 18 ? (long)Math.Pow(10, exponent) : long.MaxValue;
            }
            else if (code == 14 && size >= 8) offset = (long)(_bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(value) : BinaryPrimitives.ReadUInt64LittleEndian(value));
            at += 4 + (size + 3) / 4 * 4;
        }
        if (_interfaces.Count == 0) SnapLength = snap;
        _interfaces.Add((linkType, unitsPerSecond, offset, snap));
    }

    private static DateTime Time(ulong stamp, long unitsPerSecond, long offsetSeconds)
    {
        ulong seconds = stamp / (ulong)unitsPerSecond, remainder = stamp % (ulong)unitsPerSecond;
        long ticks = (long)((decimal)remainder * TimeSpan.TicksPerSecond / unitsPerSecond);
        long total = (long)Math.Min(seconds + (ulong)Math.Max(offsetSeconds, 0), 253_402_300_799UL - 62_135_596_800UL);
        return DateTime.UnixEpoch.AddTicks(total * TimeSpan.TicksPerSecond + ticks);
    }

    private uint U32(ReadOnlySpan<byte> bytes) => _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt32LittleEndian(bytes);
    private ushort U16(ReadOnlySpan<byte> bytes) => _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes);

    private bool ReadExactly(Span<byte> buffer, bool allowEndOfFile)
    {
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int n = _stream.Read(buffer[total..]);
                if (n == 0) break;
                total += n;
            }
        }
        catch (IOException e) { throw Error($"read error after record {_number} ({e.Message})"); }
        if (total == buffer.Length) return true;
        if (total == 0 && allowEndOfFile) return false;
        throw Error($"cut off after record {_number} ({total} of {buffer.Length} bytes of the next header or record)");
    }

    private CaptureFormatException Error(string what) => new($"{_name}: {what}");

    /// <inheritdoc/>
    public void Dispose() => _stream.Dispose();
}
