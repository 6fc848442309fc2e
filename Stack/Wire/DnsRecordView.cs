using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// A resource record read by <see cref="DnsReader"/> (RFC 1035 4.1.3). Its name, and the data of the types decoded here
/// (A, AAAA, CNAME, NS, PTR, MX, TXT, SOA), have been checked; any other type is raw <see cref="Data"/>.
/// A type-specific accessor used on another type returns a default value.
/// </summary>
public readonly ref struct DnsRecordView
{
    private const int SoaNumbersLength = 20;   // SERIAL REFRESH RETRY EXPIRE MINIMUM

    private readonly ReadOnlySpan<byte> _message;
    private readonly int _nameOffset;
    private readonly int _dataOffset;
    private readonly int _dataLength;

    internal DnsRecordView(ReadOnlySpan<byte> message, int nameOffset, DnsType type, DnsClass @class, uint timeToLive, int dataOffset, int dataLength)
    {
        _message = message;
        _nameOffset = nameOffset;
        Type = type;
        Class = @class;
        TimeToLive = timeToLive;
        _dataOffset = dataOffset;
        _dataLength = dataLength;
    }

    /// <summary>Owner name.</summary>
    public DnsName Name => new(_message, _nameOffset);
    /// <summary>TYPE.</summary>
    public DnsType Type { get; }
    /// <summary>CLASS (the UDP payload size in an OPT record).</summary>
    public DnsClass Class { get; }
    /// <summary>TTL in seconds (extended RCODE and flags in an OPT record).</summary>
    public uint TimeToLive { get; }
    /// <summary>RDATA as stored (names inside it may be pointers into the message).</summary>
    public ReadOnlySpan<byte> Data => _message.Slice(_dataOffset, _dataLength);
    /// <summary>Offset of RDATA in the message.</summary>
    public int DataOffset => _dataOffset;

    // An RDATA that is empty (a DNS UPDATE prerequisite or deletion of class NONE/ANY, RFC 2136 2.4/2.5) has none of
    // its type's fields: every accessor below gives the default for it rather than reading past it.
    private bool HasData => _dataLength > 0;

    /// <summary>The address of an A record.</summary>
    public Ipv4Address Address => Type == DnsType.A && _dataLength >= Ipv4Address.Size ? Ipv4Address.Read(Data) : default;
    /// <summary>The 16 address bytes of an AAAA record (empty for other types).</summary>
    public ReadOnlySpan<byte> Ipv6Address => Type == DnsType.Aaaa ? Data : default;
    /// <summary>The name a CNAME, NS or PTR record holds (CNAME, NSDNAME, PTRDNAME).</summary>
    public DnsName DomainName => Type is DnsType.Cname or DnsType.Ns or DnsType.Ptr && HasData ? new(_message, _dataOffset) : default;
    /// <summary>PREFERENCE of an MX record (lower is preferred).</summary>
    public ushort Preference => Type == DnsType.Mx && _dataLength >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Data) : (ushort)0;
    /// <summary>EXCHANGE of an MX record.</summary>
    public DnsName MailExchange => Type == DnsType.Mx && _dataLength > 2 ? new(_message, _dataOffset + 2) : default;
    /// <summary>The strings of a TXT record.</summary>
    public DnsCharacterStrings Text => new(Type == DnsType.Txt ? Data : default);
    /// <summary>MNAME of an SOA record: the zone's primary server.</summary>
    public DnsName PrimaryNameServer => Type == DnsType.Soa && HasData ? new(_message, _dataOffset) : default;
    /// <summary>RNAME of an SOA record: the mailbox of the person responsible, as a name.</summary>
    public DnsName ResponsibleMailbox => Type == DnsType.Soa && HasData ? new(_message, SoaSecondNameOffset) : default;
    /// <summary>SERIAL of an SOA record.</summary>
    public uint Serial => SoaNumber(0);
    /// <summary>REFRESH of an SOA record, seconds.</summary>
    public uint Refresh => SoaNumber(1);
    /// <summary>RETRY of an SOA record, seconds.</summary>
    public uint Retry => SoaNumber(2);
    /// <summary>EXPIRE of an SOA record, seconds.</summary>
    public uint Expire => SoaNumber(3);
    /// <summary>MINIMUM of an SOA record: the negative-caching TTL (RFC 2308 4).</summary>
    public uint Minimum => SoaNumber(4);

    private int SoaSecondNameOffset => DnsName.Measure(_message, _dataOffset, out int end, out _) == WireError.None ? end : _dataOffset;

    private uint SoaNumber(int index)
        => Type == DnsType.Soa && _dataLength >= SoaNumbersLength ? BinaryPrimitives.ReadUInt32BigEndian(Data[(_dataLength - SoaNumbersLength + 4 * index)..]) : 0;

    /// <summary>Checks RDATA for the types decoded here: fixed sizes, and names that are valid and end exactly where RDATA ends.</summary>
    internal static WireError CheckData(ReadOnlySpan<byte> message, DnsType type, int offset, int length)
    {
        int end = offset + length;
        switch (type)
        {
            case DnsType.A:
                return length == Ipv4Address.Size ? WireError.None : WireError.BadLength;
            case DnsType.Aaaa:
                return length == 16 ? WireError.None : WireError.BadLength;
            case DnsType.Cname or DnsType.Ns or DnsType.Ptr:
                return NameFills(CheckName(message, offset, end, out int afterName), afterName, end);
            case DnsType.Mx:
                return length < 3 ? WireError.BadLength : NameFills(CheckName(message, offset + 2, end, out int afterExchange), afterExchange, end);
            case DnsType.Txt:
                return DnsCharacterStrings.AreWellFormed(message.Slice(offset, length)) ? WireError.None : WireError.BadLength;
            case DnsType.Soa:
            {
                var error = CheckName(message, offset, end, out int next);
                if (error != WireError.None) return error;
                error = CheckName(message, next, end, out next);
                if (error != WireError.None) return error;
                return end - next == SoaNumbersLength ? WireError.None : WireError.BadLength;
            }
            default:
                return WireError.None;
        }
    }

    private static WireError NameFills(WireError error, int afterName, int dataEnd)
        => error != WireError.None ? error : afterName == dataEnd ? WireError.None : WireError.BadLength;

    // A name inside RDATA must be valid and its in-place bytes must stay inside RDATA; pointers may lead anywhere in the message.
    private static WireError CheckName(ReadOnlySpan<byte> message, int offset, int dataEnd, out int next)
    {
        next = offset;
        if (offset >= dataEnd) return WireError.BadLength;
        var error = DnsName.Measure(message, offset, out next, out _);
        if (error != WireError.None) return error;
        return next <= dataEnd ? WireError.None : WireError.BadLength;
    }
}
