using TcpIpSharp.Wire;

namespace TcpIpSharp.Net;

/// <summary>Gateway mode's taker of UDP datagrams sent anywhere (see <see cref="InternetLayer.AnyDestinationUdp"/>); false when nobody takes it.</summary>
internal delegate bool AnyDestinationUdpHandler(IpAddress source, ushort sourcePort, IpAddress destination, ushort destinationPort, ReadOnlySpan<byte> payload);
