namespace TcpIpSharp.Services.Dns;

/// <summary>A record from an answer, for display and for types other than A and AAAA.</summary>
/// <param name="Name">Owner name.</param>
/// <param name="Type">TYPE.</param>
/// <param name="TimeToLive">TTL in seconds, as received.</param>
/// <param name="Data">RDATA as text: an address, a name, "10 mail.example.test" for MX, quoted strings for TXT, SOA fields; hex for other types.</param>
public readonly record struct DnsRecord(string Name, Wire.DnsType Type, uint TimeToLive, string Data);
