using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Udp;

/// <summary>What a UDP endpoint is handed to send through (the interface implements it); endpoints never call a link.</summary>
internal interface IUdpOutput
{
    NetError SendUdp(UdpEndpoint endpoint, IpAddress destination, ushort destinationPort, ReadOnlySpan<byte> payload);
}
