using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A view over a DNS message (RFC 1035 4.1): the 12-byte header here, the sections through <see cref="DnsReader"/>.</summary>
public readonly ref struct DnsMessage
{
    internal static class Field
    {
        public const int Id = 0;               // 0..2
        public const int Flags = 2;            // 2..4: QR, Opcode, AA, TC, RD, RA, Z, AD, CD, RCODE
        public const int QuestionCount = 4;    // 4..6
        public const int AnswerCount = 6;      // 6..8
        public const int AuthorityCount = 8;   // 8..10
        public const int AdditionalCount = 10; // 10..12
        public const int Questions = 12;
    }

    internal static class Bits
    {
        public const ushort Response = 0x8000;
        public const int OpcodeShift = 11;
        public const ushort Authoritative = 0x0400;
        public const ushort Truncated = 0x0200;
        public const ushort RecursionDesired = 0x0100;
        public const ushort RecursionAvailable = 0x0080;
        public const ushort AuthenticData = 0x0020;       // RFC 4035 3.2.3
        public const ushort CheckingDisabled = 0x0010;    // RFC 4035 3.2.2
        public const ushort ResponseCodeMask = 0x000F;
    }

    /// <summary>The UDP and TCP port of DNS servers.</summary>
    public const int ServerPort = 53;
    /// <summary>Largest message over UDP without EDNS (RFC 1035 4.2.1).</summary>
    public const int MaximumUdpSize = 512;

    private readonly ReadOnlySpan<byte> _bytes;
    private DnsMessage(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks that the header is present. Names and records are checked as <see cref="DnsReader"/> reaches them.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out DnsMessage message)
    {
        message = default;
        if (bytes.Length < DnsHeader.Size) return WireError.Truncated;
        message = new DnsMessage(bytes);
        return WireError.None;
    }

    /// <summary>The whole message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Identifier that matches responses to queries.</summary>
    public ushort Id => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Id..]);
    /// <summary>The flags word as stored.</summary>
    public ushort Flags => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.Flags..]);
    /// <summary>QR: true for a response.</summary>
    public bool IsResponse => (Flags & Bits.Response) != 0;
    /// <summary>Kind of query.</summary>
    public DnsOpcode Opcode => (DnsOpcode)(Flags >> Bits.OpcodeShift & 0xF);
    /// <summary>AA: the responding server is an authority for the name.</summary>
    public bool IsAuthoritativeAnswer => (Flags & Bits.Authoritative) != 0;
    /// <summary>TC: the message was truncated to fit the transport.</summary>
    public bool IsTruncated => (Flags & Bits.Truncated) != 0;
    /// <summary>RD: the query asks for recursion.</summary>
    public bool IsRecursionDesired => (Flags & Bits.RecursionDesired) != 0;
    /// <summary>RA: the server offers recursion.</summary>
    public bool IsRecursionAvailable => (Flags & Bits.RecursionAvailable) != 0;
    /// <summary>AD: authentic data (RFC 4035 3.2.3).</summary>
    public bool IsAuthenticData => (Flags & Bits.AuthenticData) != 0;
    /// <summary>CD: checking disabled (RFC 4035 3.2.2).</summary>
    public bool IsCheckingDisabled => (Flags & Bits.CheckingDisabled) != 0;
    /// <summary>RCODE (the low four bits; EDNS extends it in the OPT record).</summary>
    public DnsResponseCode ResponseCode => (DnsResponseCode)(Flags & Bits.ResponseCodeMask);
    /// <summary>QDCOUNT.</summary>
    public ushort QuestionCount => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.QuestionCount..]);
    /// <summary>ANCOUNT.</summary>
    public ushort AnswerCount => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.AnswerCount..]);
    /// <summary>NSCOUNT.</summary>
    public ushort AuthorityCount => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.AuthorityCount..]);
    /// <summary>ARCOUNT.</summary>
    public ushort AdditionalCount => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.AdditionalCount..]);

    /// <summary>A reader positioned at the first question.</summary>
    public DnsReader GetReader() => new(this);
}
