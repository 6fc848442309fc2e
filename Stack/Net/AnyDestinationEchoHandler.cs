using TcpIpSharp.Wire;

namespace TcpIpSharp.Net;

/// <summary>Gateway mode's taker of echo requests sent to an address not ours (see <see cref="InternetLayer.AnyDestinationEcho"/>): the ICMP or ICMPv6 message; false when the stack answers it itself.</summary>
internal delegate bool AnyDestinationEchoHandler(IpAddress source, IpAddress destination, ReadOnlySpan<byte> message);
