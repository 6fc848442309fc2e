using TcpIpSharp.Tests.Net;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services;

/// <summary>A DHCP server's reply for tests, built with the wire layer's writer; by default dnsmasq's shape for 192.0.2.0/24.</summary>
internal sealed record DhcpReply(DhcpMessageType Type, uint TransactionId, MacAddress ClientMac, Ipv4Address YourAddress)
{
    public static readonly Ipv4Address ServerIp = Frames.PeerIp;
    public static readonly MacAddress ServerMac = Frames.PeerMac;

    public Ipv4Address Server { get; init; } = ServerIp;
    public bool WithServerIdentifier { get; init; } = true;
    public uint? LeaseSeconds { get; init; } = 600;
    public uint? RenewalSeconds { get; init; }
    public uint? RebindingSeconds { get; init; }
    public Ipv4Address? Mask { get; init; } = Ipv4Address.Parse("255.255.255.0");
    public Ipv4Address? Router { get; init; } = ServerIp;
    public Ipv4Address[] DnsServers { get; init; } = [ServerIp];
    public ushort? Mtu { get; init; }
    public Ipv4Address? Broadcast { get; init; }
    public Ipv4Address ClientAddress { get; init; }
    public DhcpOperation Operation { get; init; } = DhcpOperation.BootReply;
    public bool WithoutMagicCookie { get; init; }

    public byte[] Payload()
    {
        var buffer = new byte[576];
        var w = new DhcpWriter(buffer);
        w.WriteHeader(new DhcpHeader(Operation, TransactionId, ClientMac, ClientAddress: ClientAddress, YourAddress: YourAddress, ServerAddress: Server));
        w.WriteMessageType(Type);
        if (WithServerIdentifier) w.WriteAddress(DhcpOption.ServerIdentifier, Server);
        if (Type != DhcpMessageType.Nak)
        {
            if (LeaseSeconds is { } lease) w.WriteUInt32(DhcpOption.IpAddressLeaseTime, lease);
            if (RenewalSeconds is { } t1) w.WriteUInt32(DhcpOption.RenewalTime, t1);
            if (RebindingSeconds is { } t2) w.WriteUInt32(DhcpOption.RebindingTime, t2);
            if (Mask is { } mask) w.WriteAddress(DhcpOption.SubnetMask, mask);
            if (Broadcast is { } broadcast) w.WriteAddress(DhcpOption.BroadcastAddress, broadcast);
            if (Router is { } router) w.WriteAddresses(DhcpOption.Router, [router]);
            if (DnsServers.Length > 0) w.WriteAddresses(DhcpOption.DomainNameServer, DnsServers);
            if (Mtu is { } mtu) w.WriteUInt16(DhcpOption.InterfaceMtu, mtu);
        }
        int n = w.Finish();
        var bytes = buffer.AsSpan(0, n).ToArray();
        if (WithoutMagicCookie) bytes.AsSpan(DhcpHeader.Size - 4, 4).Clear();
        return bytes;
    }

    /// <summary>The reply in a frame: broadcast (as for a client that set the BROADCAST flag), or unicast to <paramref name="to"/> and the client's MAC.</summary>
    public byte[] Frame(Ipv4Address? to = null)
    {
        var destination = to ?? Ipv4Address.Broadcast;
        var udp = Frames.UdpMessage(Server, destination, DhcpMessage.ServerPort, DhcpMessage.ClientPort, Payload());
        return Frames.Ipv4(Server, destination, IpProtocol.Udp, udp, srcMac: ServerMac, dstMac: to is null ? MacAddress.Broadcast : ClientMac);
    }
}
