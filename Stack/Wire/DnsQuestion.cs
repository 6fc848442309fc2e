namespace TcpIpSharp.Wire;

/// <summary>A DNS question (RFC 1035 4.1.2); write it with <see cref="DnsWriter.WriteQuestion(DnsQuestion)"/>.</summary>
/// <param name="Name">QNAME as dotted text without a trailing dot.</param>
/// <param name="Type">QTYPE.</param>
/// <param name="Class">QCLASS.</param>
public readonly record struct DnsQuestion(string Name, DnsType Type, DnsClass Class = DnsClass.Internet)
{
    /// <summary>Reads a question from a parsed message (allocates the name's string).</summary>
    public static DnsQuestion From(DnsQuestionView question) => new(question.Name.ToString(), question.Type, question.Class);
}
