namespace TcpIpSharp.Wire;

/// <summary>The four sections of a DNS message, in wire order (RFC 1035 4.1).</summary>
public enum DnsSection
{
    /// <summary>The questions.</summary>
    Question = 0,
    /// <summary>Records answering the question.</summary>
    Answer = 1,
    /// <summary>Records naming authoritative servers.</summary>
    Authority = 2,
    /// <summary>Records holding additional information.</summary>
    Additional = 3,
}
