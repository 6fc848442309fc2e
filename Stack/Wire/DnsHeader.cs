using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A DNS message header (RFC 1035 4.1.1).</summary>
/// <param name="Id">Identifier that matches responses to queries.</param>
/// <param name="IsResponse">QR.</param>
/// <param name="Opcode">Kind of query.</param>
/// <param name="IsAuthoritativeAnswer">AA.</param>
/// <param name="IsTruncated">TC.</param>
/// <param name="IsRecursionDesired">RD.</param>
/// <param name="IsRecursionAvailable">RA.</param>
/// <param name="ResponseCode">RCODE.</param>
/// <param name="QuestionCount">QDCOUNT.</param>
/// <param name="AnswerCount">ANCOUNT.</param>
/// <param name="AuthorityCount">NSCOUNT.</param>
/// <param name="AdditionalCount">ARCOUNT.</param>
/// <param name="IsAuthenticData">AD (RFC 4035).</param>
/// <param name="IsCheckingDisabled">CD (RFC 4035).</param>
public readonly record struct DnsHeader(ushort Id, bool IsResponse = false, DnsOpcode Opcode = DnsOpcode.Query,
    bool IsAuthoritativeAnswer = false, bool IsTruncated = false, bool IsRecursionDesired = false, bool IsRecursionAvailable = false,
    DnsResponseCode ResponseCode = DnsResponseCode.NoError, ushort QuestionCount = 0, ushort AnswerCount = 0, ushort AuthorityCount = 0,
    ushort AdditionalCount = 0, bool IsAuthenticData = false, bool IsCheckingDisabled = false)
{
    /// <summary>Size of the header.</summary>
    public const int Size = 12;

    /// <summary>Reads the header of a parsed message (the reserved Z bit is dropped).</summary>
    public static DnsHeader From(DnsMessage message) => new(message.Id, message.IsResponse, message.Opcode, message.IsAuthoritativeAnswer,
        message.IsTruncated, message.IsRecursionDesired, message.IsRecursionAvailable, message.ResponseCode, message.QuestionCount,
        message.AnswerCount, message.AuthorityCount, message.AdditionalCount, message.IsAuthenticData, message.IsCheckingDisabled);

    /// <summary>The flags word this header writes.</summary>
    public ushort Flags => (ushort)((IsResponse ? DnsMessage.Bits.Response : 0)
        | ((int)Opcode & 0xF) << DnsMessage.Bits.OpcodeShift
        | (IsAuthoritativeAnswer ? DnsMessage.Bits.Authoritative : 0)
        | (IsTruncated ? DnsMessage.Bits.Truncated : 0)
        | (IsRecursionDesired ? DnsMessage.Bits.RecursionDesired : 0)
        | (IsRecursionAvailable ? DnsMessage.Bits.RecursionAvailable : 0)
        | (IsAuthenticData ? DnsMessage.Bits.AuthenticData : 0)
        | (IsCheckingDisabled ? DnsMessage.Bits.CheckingDisabled : 0)
        | ((int)ResponseCode & DnsMessage.Bits.ResponseCodeMask));

    /// <summary>Writes the 12-byte header; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        BinaryPrimitives.WriteUInt16BigEndian(destination[DnsMessage.Field.Id..], Id);
        BinaryPrimitives.WriteUInt16BigEndian(destination[DnsMessage.Field.Flags..], Flags);
        BinaryPrimitives.WriteUInt16BigEndian(destination[DnsMessage.Field.QuestionCount..], QuestionCount);
        BinaryPrimitives.WriteUInt16BigEndian(destination[DnsMessage.Field.AnswerCount..], AnswerCount);
        BinaryPrimitives.WriteUInt16BigEndian(destination[DnsMessage.Field.AuthorityCount..], AuthorityCount);
        BinaryPrimitives.WriteUInt16BigEndian(destination[DnsMessage.Field.AdditionalCount..], AdditionalCount);
        return Size;
    }
}
