using System.Net;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Gateway;

/// <summary>A flow a guest opened: its protocol, the guest's address and port, and the destination it asked for.</summary>
public readonly record struct GatewayFlow(GatewayProtocol Protocol, IpAddress Source, ushort SourcePort, IpAddress Destination, ushort DestinationPort)
{
    /// <summary>The original destination as a .NET endpoint (allocates).</summary>
    public IPEndPoint DestinationEndPoint => new(Destination.ToIPAddress(), DestinationPort);

    /// <summary>"tcp 192.0.2.2:40000 -> 198.51.100.1:80"; "icmp 192.0.2.2 id 7 -> 198.51.100.1" for an echo flow.</summary>
    public override string ToString() => Protocol switch
    {
        GatewayProtocol.Icmp => $"icmp {Source} id {SourcePort} -> {Destination}",
        _ => $"{(Protocol == GatewayProtocol.Tcp ? "tcp" : "udp")} {Format(Source, SourcePort)} -> {Format(Destination, DestinationPort)}",
    };

    private static string Format(IpAddress address, ushort port) => address.IsIpv4 ? $"{address}:{port}" : $"[{address}]:{port}";
}
