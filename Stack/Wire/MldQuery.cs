using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// A view over a multicast listener query (RFC 3810 5.1), of either version: 24 bytes is an MLDv1 query, 28 or more an
/// MLDv2 query with its source list; any other length is not a query (RFC 3810 8.1).
/// </summary>
public readonly ref struct MldQuery
{
    internal static class Field
    {
        public const int MaximumResponseCode = 4;   // 4..6
        public const int Reserved = 6;              // 6..8
        public const int MulticastAddress = 8;      // 8..24
        public const int Flags = 24;                // reserved 4 bits, S 0x08, QRV 0x07
        public const int Qqic = 25;
        public const int NumberOfSources = 26;      // 26..28
        public const int Sources = 28;
    }

    /// <summary>Size of an MLDv2 query without sources.</summary>
    public const int MinimumVersion2Size = Field.Sources;

    private readonly ReadOnlySpan<byte> _bytes;
    private MldQuery(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks the type and the length rules of RFC 3810 8.1, and that the source list fits.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> message, out MldQuery query)
    {
        query = default;
        if (message.Length < Icmpv6Packet.MinimumSize) return WireError.Truncated;
        if (message[Icmpv6Packet.Field.Type] != (byte)Icmpv6Type.MulticastListenerQuery) return WireError.BadMessage;
        if (message.Length < MldV1Message.Size) return WireError.Truncated;
        if (message.Length != MldV1Message.Size)
        {
            if (message.Length < MinimumVersion2Size) return WireError.BadMessage;
            int sources = BinaryPrimitives.ReadUInt16BigEndian(message[Field.NumberOfSources..]);
            if (MinimumVersion2Size + sources * Ipv6Address.Size > message.Length) return WireError.BadLength;
            message = message[..(MinimumVersion2Size + sources * Ipv6Address.Size)];
        }
        query = new MldQuery(message);
        return WireError.None;
    }

    /// <summary>The whole query (up to the end of its source list).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>True for a 24-byte MLDv1 query (RFC 2710).</summary>
    public bool IsVersion1 => _bytes.Length == MldV1Message.Size;
    /// <summary>The Maximum Response Code field as sent.</summary>
    public ushort MaximumResponseCode => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.MaximumResponseCode..]);
    /// <summary>Maximum response delay in milliseconds (RFC 3810 5.1.3: an exponential form from 32768 up, MLDv2 only).</summary>
    public uint MaximumResponseDelay
    {
        get
        {
            uint code = MaximumResponseCode;
            if (IsVersion1 || code < 0x8000) return code;
            return (code & 0xFFF | 0x1000) << (int)((code >> 12 & 7) + 3);
        }
    }
    /// <summary>The group queried; :: for a general query.</summary>
    public Ipv6Address MulticastAddress => Ipv6Address.Read(_bytes[Field.MulticastAddress..]);
    /// <summary>S flag: suppress router-side processing (MLDv2; false for MLDv1).</summary>
    public bool SuppressRouterSideProcessing => !IsVersion1 && (_bytes[Field.Flags] & 0x08) != 0;
    /// <summary>Querier's robustness variable (MLDv2; 0 for MLDv1 or unset).</summary>
    public byte QuerierRobustnessVariable => IsVersion1 ? (byte)0 : (byte)(_bytes[Field.Flags] & 0x07);
    /// <summary>Querier's Query Interval Code as sent (MLDv2; 0 for MLDv1).</summary>
    public byte QueryIntervalCode => IsVersion1 ? (byte)0 : _bytes[Field.Qqic];
    /// <summary>Querier's query interval in seconds (RFC 3810 5.1.9: an exponential form from 128 up).</summary>
    public uint QueryInterval
    {
        get
        {
            uint code = QueryIntervalCode;
            return code < 0x80 ? code : (code & 0xF | 0x10) << (int)((code >> 4 & 7) + 3);
        }
    }
    /// <summary>The sources of a source-specific query (empty for MLDv1).</summary>
    public Ipv6AddressList Sources => IsVersion1 ? default : new Ipv6AddressList(_bytes[Field.Sources..]);
}
