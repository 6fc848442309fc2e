using TcpIpSharp.Wire;

namespace TcpIpSharp.Net;

/// <summary>Called on the stack thread with an ICMP message that arrived: the whole IPv4 packet (header included) and its source.</summary>
internal delegate void RawIcmpHandler(ReadOnlySpan<byte> ipPacket, Ipv4Address source);
