namespace TcpIpSharp.Wire;

/// <summary>A question read by <see cref="DnsReader"/> (RFC 1035 4.1.2); its name has been checked.</summary>
public readonly ref struct DnsQuestionView
{
    private readonly ReadOnlySpan<byte> _message;
    private readonly int _nameOffset;

    internal DnsQuestionView(ReadOnlySpan<byte> message, int nameOffset, DnsType type, DnsClass @class)
    {
        _message = message;
        _nameOffset = nameOffset;
        Type = type;
        Class = @class;
    }

    /// <summary>QNAME.</summary>
    public DnsName Name => new(_message, _nameOffset);
    /// <summary>QTYPE.</summary>
    public DnsType Type { get; }
    /// <summary>QCLASS (the top bit is the mDNS unicast-response bit, RFC 6762 5.4).</summary>
    public DnsClass Class { get; }
}
