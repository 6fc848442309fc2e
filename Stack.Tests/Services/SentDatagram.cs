using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services;

/// <summary>A UDP datagram the stack sent, with the addresses of every layer, parsed from its frame.</summary>
internal sealed record SentDatagram(MacAddress EthernetDestination, MacAddress EthernetSource, Ipv4Address Source, Ipv4Address Destination,
    ushort SourcePort, ushort DestinationPort, byte[] Payload)
{
    public static SentDatagram? TryParse(byte[] frame) => TryParse(frame, verifyChecksum: true);

    /// <summary>Parses a frame; a recorded one may carry checksums broken by offload, so checking them is optional.</summary>
    public static SentDatagram? TryParse(byte[] frame, bool verifyChecksum)
    {
        if (EthernetFrame.TryParse(frame, out var eth) != WireError.None || eth.EtherType != EtherType.Ipv4) return null;
        if (Ipv4Packet.TryParse(eth.Payload, out var ip) != WireError.None || ip.Protocol != IpProtocol.Udp) return null;
        if (UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None) return null;
        if (verifyChecksum) Assert.That(udp.IsChecksumValid(ip.Source, ip.Destination), Is.True, "the stack's UDP checksum verifies");
        return new SentDatagram(eth.Destination, eth.Source, ip.Source, ip.Destination, udp.SourcePort, udp.DestinationPort, udp.Payload.ToArray());
    }

    /// <summary>The payload as a DHCP message (the test fails if it does not parse).</summary>
    public DhcpMessage Dhcp
    {
        get
        {
            Assert.That(DhcpMessage.TryParse(Payload, out var message), Is.EqualTo(WireError.None), "the client's DHCP message parses");
            return message;
        }
    }

    /// <summary>The payload as a DNS message.</summary>
    public DnsMessage Dns
    {
        get
        {
            Assert.That(DnsMessage.TryParse(Payload, out var message), Is.EqualTo(WireError.None), "the resolver's query parses");
            return message;
        }
    }
}
