using TcpIpSharp.Wire;

namespace TcpIpSharp.Net;

/// <summary>
/// Called on the stack thread with an ICMP message that arrived and its source: for IPv4 the whole packet, header
/// included (as a Linux raw IPv4 socket reads it); for IPv6 the ICMPv6 message alone (as a raw ICMPv6 socket reads it).
/// </summary>
internal delegate void RawIcmpHandler(ReadOnlySpan<byte> packet, IpAddress source);
