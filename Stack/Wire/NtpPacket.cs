using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>An NTP association mode (RFC 5905 7.3).</summary>
public enum NtpMode : byte
{
    /// <summary>Reserved.</summary>
    Reserved = 0,
    /// <summary>Symmetric active.</summary>
    SymmetricActive = 1,
    /// <summary>Symmetric passive.</summary>
    SymmetricPassive = 2,
    /// <summary>Client: what an SNTP request carries.</summary>
    Client = 3,
    /// <summary>Server: what an answer to a client carries.</summary>
    Server = 4,
    /// <summary>Broadcast.</summary>
    Broadcast = 5,
    /// <summary>NTP control message.</summary>
    Control = 6,
    /// <summary>Private use.</summary>
    Private = 7,
}

/// <summary>The leap indicator (RFC 5905 7.3): 3 means the server's clock is not synchronised.</summary>
public enum NtpLeap : byte
{
    /// <summary>No warning.</summary>
    None = 0,
    /// <summary>The last minute of the day has 61 seconds.</summary>
    AddSecond = 1,
    /// <summary>The last minute of the day has 59 seconds.</summary>
    DeleteSecond = 2,
    /// <summary>The clock is unsynchronised (alarm).</summary>
    Unsynchronised = 3,
}

/// <summary>
/// An NTP packet header (RFC 5905 7.3, RFC 4330 4), read in place: 48 bytes, then extension fields or a MAC this stack
/// ignores. Parsing checks only the length; what a reply must hold is the client's business.
/// </summary>
public readonly ref struct NtpPacket
{
    /// <summary>Size of the header without extension fields or MAC.</summary>
    public const int Size = 48;
    /// <summary>The NTP port, for servers and (optionally) clients.</summary>
    public const ushort Port = 123;

    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>LI (2 bits), VN (3), Mode (3).</summary>
        public const int Flags = 0;
        /// <summary>Stratum.</summary>
        public const int Stratum = 1;
        /// <summary>Poll exponent (log2 seconds).</summary>
        public const int Poll = 2;
        /// <summary>Precision exponent (log2 seconds, signed).</summary>
        public const int Precision = 3;
        /// <summary>Root delay, 16.16 seconds.</summary>
        public const int RootDelay = 4;
        /// <summary>Root dispersion, 16.16 seconds.</summary>
        public const int RootDispersion = 8;
        /// <summary>Reference ID (or the kiss code when stratum is 0).</summary>
        public const int ReferenceId = 12;
        /// <summary>Reference timestamp.</summary>
        public const int ReferenceTimestamp = 16;
        /// <summary>Origin timestamp (T1 of the request, echoed).</summary>
        public const int OriginTimestamp = 24;
        /// <summary>Receive timestamp (T2).</summary>
        public const int ReceiveTimestamp = 32;
        /// <summary>Transmit timestamp (T3).</summary>
        public const int TransmitTimestamp = 40;
    }

    private readonly ReadOnlySpan<byte> _bytes;

    private NtpPacket(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Reads a packet; <see cref="WireError.Truncated"/> when shorter than 48 bytes.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out NtpPacket packet)
    {
        packet = default;
        if (bytes.Length < Size) return WireError.Truncated;
        packet = new NtpPacket(bytes);
        return WireError.None;
    }

    /// <summary>The leap indicator.</summary>
    public NtpLeap Leap => (NtpLeap)(_bytes[Field.Flags] >> 6);
    /// <summary>The version number (4 for NTPv4).</summary>
    public int Version => (_bytes[Field.Flags] >> 3) & 7;
    /// <summary>The mode.</summary>
    public NtpMode Mode => (NtpMode)(_bytes[Field.Flags] & 7);
    /// <summary>The stratum: 0 a Kiss-o'-Death, 1 a primary server, 2-15 secondary, 16 unsynchronised.</summary>
    public byte Stratum => _bytes[Field.Stratum];
    /// <summary>The poll exponent.</summary>
    public sbyte Poll => (sbyte)_bytes[Field.Poll];
    /// <summary>The precision exponent.</summary>
    public sbyte Precision => (sbyte)_bytes[Field.Precision];
    /// <summary>Root delay, 16.16 fixed-point seconds.</summary>
    public uint RootDelay => BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.RootDelay..]);
    /// <summary>Root dispersion, 16.16 fixed-point seconds.</summary>
    public uint RootDispersion => BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.RootDispersion..]);
    /// <summary>The reference ID: a kiss code (four ASCII letters) when <see cref="Stratum"/> is 0.</summary>
    public uint ReferenceId => BinaryPrimitives.ReadUInt32BigEndian(_bytes[Field.ReferenceId..]);
    /// <summary>When the server's clock was last set.</summary>
    public NtpTimestamp ReferenceTimestamp => Timestamp(Field.ReferenceTimestamp);
    /// <summary>The request's transmit timestamp as the server echoes it.</summary>
    public NtpTimestamp OriginTimestamp => Timestamp(Field.OriginTimestamp);
    /// <summary>When the request reached the server.</summary>
    public NtpTimestamp ReceiveTimestamp => Timestamp(Field.ReceiveTimestamp);
    /// <summary>When the reply left the server.</summary>
    public NtpTimestamp TransmitTimestamp => Timestamp(Field.TransmitTimestamp);

    private NtpTimestamp Timestamp(int offset) => new(BinaryPrimitives.ReadUInt64BigEndian(_bytes[offset..]));

    /// <summary>Kiss codes RFC 5905 7.4 gives meaning to.</summary>
    public static class KissCode
    {
        /// <summary>"DENY": access denied; stop asking this server.</summary>
        public const uint Deny = 0x44454E59;
        /// <summary>"RSTR": access restricted; stop asking this server.</summary>
        public const uint Restricted = 0x52535452;
        /// <summary>"RATE": asking too often; ask less often.</summary>
        public const uint Rate = 0x52415445;
    }

    /// <summary>
    /// Writes a 48-byte header to <paramref name="destination"/>; returns 48. A client request is mode 3 with every
    /// field zero but the transmit timestamp (RFC 4330 5).
    /// </summary>
    public static int Write(Span<byte> destination, NtpLeap leap, int version, NtpMode mode, byte stratum, sbyte poll, sbyte precision,
        uint rootDelay, uint rootDispersion, uint referenceId, NtpTimestamp reference, NtpTimestamp origin, NtpTimestamp receive, NtpTimestamp transmit)
    {
        var d = destination[..Size];
        d[Field.Flags] = (byte)(((int)leap & 3) << 6 | (version & 7) << 3 | ((int)mode & 7));
        d[Field.Stratum] = stratum;
        d[Field.Poll] = (byte)poll;
        d[Field.Precision] = (byte)precision;
        BinaryPrimitives.WriteUInt32BigEndian(d[Field.RootDelay..], rootDelay);
        BinaryPrimitives.WriteUInt32BigEndian(d[Field.RootDispersion..], rootDispersion);
        BinaryPrimitives.WriteUInt32BigEndian(d[Field.ReferenceId..], referenceId);
        BinaryPrimitives.WriteUInt64BigEndian(d[Field.ReferenceTimestamp..], reference.Value);
        BinaryPrimitives.WriteUInt64BigEndian(d[Field.OriginTimestamp..], origin.Value);
        BinaryPrimitives.WriteUInt64BigEndian(d[Field.ReceiveTimestamp..], receive.Value);
        BinaryPrimitives.WriteUInt64BigEndian(d[Field.TransmitTimestamp..], transmit.Value);
        return Size;
    }
}
