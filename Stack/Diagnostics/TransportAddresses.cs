using TcpIpSharp.Wire;

namespace TcpIpSharp.Diagnostics;

/// <summary>The addresses of the IP header around a UDP datagram or TCP segment, of either family, for its pseudo-header checksum.</summary>
internal readonly struct TransportAddresses
{
    private readonly Ipv4Address _source4, _destination4;
    private readonly Ipv6Address _source6, _destination6;
    private readonly bool _isIpv6;

    public TransportAddresses(Ipv4Address source, Ipv4Address destination)
    {
        _source4 = source;
        _destination4 = destination;
    }

    public TransportAddresses(Ipv6Address source, Ipv6Address destination)
    {
        _source6 = source;
        _destination6 = destination;
        _isIpv6 = true;
    }

    /// <summary>UDP checksum over the family's pseudo-header (a zero checksum is valid over IPv4 only, RFC 8200 8.1).</summary>
    public bool IsValid(UdpDatagram udp) => _isIpv6 ? udp.IsChecksumValid(_source6, _destination6) : udp.IsChecksumValid(_source4, _destination4);

    /// <summary>TCP checksum over the family's pseudo-header.</summary>
    public bool IsValid(TcpSegment tcp) => _isIpv6 ? tcp.IsChecksumValid(_source6, _destination6) : tcp.IsChecksumValid(_source4, _destination4);
}
