using TcpIpSharp.Wire;

namespace TcpIpSharp.Net;

/// <summary>An echo reply received by an <see cref="EchoClient"/>.</summary>
/// <param name="From">Who answered.</param>
/// <param name="Sequence">The sequence number echoed.</param>
/// <param name="PayloadLength">Bytes of data echoed.</param>
/// <param name="RoundTrip">Time from the request to the reply (from the timestamp the client put in the data).</param>
/// <param name="TimeToLive">TTL (IPv4) or hop limit (IPv6) of the reply.</param>
/// <param name="DataIntact">True when the echoed data equals what was sent.</param>
public readonly record struct EchoReply(IpAddress From, ushort Sequence, int PayloadLength, TimeSpan RoundTrip, byte TimeToLive, bool DataIntact);
