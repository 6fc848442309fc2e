using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// A view over an IGMP message of any version (RFC 1112, RFC 2236, RFC 3376): the 8-byte common part (type, Max Resp
/// Code, checksum, group) and, for an IGMPv3 query, its QRV, QQIC and source list. A query's version follows from its
/// length and code (RFC 3376 7.1): 8 bytes with code 0 is v1, 8 bytes with a code is v2, 12 or more is v3; a query of
/// 9 to 11 bytes is not valid.
/// </summary>
public readonly ref struct IgmpMessage
{
    internal static class Field
    {
        public const int Type = 0;
        public const int MaximumResponseCode = 1;
        public const int Checksum = 2;          // 2..4
        public const int Group = 4;             // 4..8
        public const int Flags = 8;             // v3 query: reserved 4 bits, S 0x08, QRV 0x07
        public const int Qqic = 9;
        public const int NumberOfSources = 10;  // 10..12
        public const int Sources = 12;
    }

    /// <summary>Size of the common part (every IGMPv1/v2 message).</summary>
    public const int MinimumSize = 8;
    /// <summary>Size of an IGMPv3 query without sources.</summary>
    public const int MinimumVersion3QuerySize = Field.Sources;

    private readonly ReadOnlySpan<byte> _bytes;
    private IgmpMessage(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks the length (and a v3 query's source list); the checksum is separate: <see cref="IsChecksumValid"/>.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out IgmpMessage message)
    {
        message = default;
        if (bytes.Length < MinimumSize) return WireError.Truncated;
        if (bytes[Field.Type] == (byte)IgmpType.MembershipQuery && bytes.Length != MinimumSize)
        {
            if (bytes.Length < MinimumVersion3QuerySize) return WireError.BadMessage;   // RFC 3376 7.1: ignored
            int sources = BinaryPrimitives.ReadUInt16BigEndian(bytes[Field.NumberOfSources..]);
            if (MinimumVersion3QuerySize + sources * Ipv4Address.Size > bytes.Length) return WireError.BadLength;
        }
        message = new IgmpMessage(bytes);
        return WireError.None;
    }

    /// <summary>The whole message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Message type.</summary>
    public IgmpType Type => (IgmpType)_bytes[Field.Type];
    /// <summary>Max Resp Code (v2/v3 queries; 0 in a v1 query and in reports).</summary>
    public byte MaximumResponseCode => _bytes[Field.MaximumResponseCode];
    /// <summary>Checksum field as stored.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Checksum..]);
    /// <summary>The group (0.0.0.0 in a general query; unused in a v3 report).</summary>
    public Ipv4Address Group => Ipv4Address.Read(_bytes[Field.Group..]);
    /// <summary>True when the checksum over the whole message verifies.</summary>
    public bool IsChecksumValid => InternetChecksum.IsValid(_bytes);
    /// <summary>A query's version (1, 2 or 3, RFC 3376 7.1); 0 for other types.</summary>
    public int QueryVersion => Type != IgmpType.MembershipQuery ? 0 : _bytes.Length > MinimumSize ? 3 : MaximumResponseCode == 0 ? 1 : 2;
    /// <summary>
    /// A query's maximum response time in tenths of a second: 100 (10 s) for v1, the code for v2, and for v3 the code
    /// below 128 or its exponential form (mantissa | 0x10) &lt;&lt; (exponent + 3) from 128 up (RFC 3376 4.1.1).
    /// </summary>
    public int MaximumResponseTenths
    {
        get
        {
            int code = MaximumResponseCode;
            return QueryVersion switch
            {
                1 => 100,
                3 when code >= 128 => ((code & 0xF) | 0x10) << (((code >> 4) & 7) + 3),
                _ => code,
            };
        }
    }
    /// <summary>Querier's Robustness Variable (v3 queries; 0 otherwise or unset).</summary>
    public byte QuerierRobustnessVariable => QueryVersion == 3 ? (byte)(_bytes[Field.Flags] & 0x07) : (byte)0;
    /// <summary>S flag (v3 queries).</summary>
    public bool SuppressRouterSideProcessing => QueryVersion == 3 && (_bytes[Field.Flags] & 0x08) != 0;
    /// <summary>Querier's Query Interval Code as sent (v3 queries; 0 otherwise).</summary>
    public byte QueryIntervalCode => QueryVersion == 3 ? _bytes[Field.Qqic] : (byte)0;
    /// <summary>Number of sources of a v3 query (0 otherwise).</summary>
    public int NumberOfSources => QueryVersion == 3 ? BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.NumberOfSources..]) : 0;
}
