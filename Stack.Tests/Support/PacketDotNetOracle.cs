using System.Net.NetworkInformation;
using PacketDotNet;

namespace TcpIpSharp.Tests.Support;

/// <summary>
/// PacketDotNet's reading of a frame in decode's key names. PacketDotNet is the test oracle only (it allocates); a layer
/// whose properties throw is left out, and <see cref="Read"/> returns null when PacketDotNet cannot parse the frame at all.
/// </summary>
internal static class PacketDotNetOracle
{
    /// <summary>The keys this oracle can give, to compare with decode's.</summary>
    public static readonly string[] Keys =
    [
        "eth.src", "eth.dst", "eth.type", "eth.len", "eth.vlan",
        "arp.op", "arp.sha", "arp.spa", "arp.tha", "arp.tpa",
        "ipv4.src", "ipv4.dst", "ipv4.ttl", "ipv4.proto", "ipv4.id", "ipv4.df", "ipv4.mf", "ipv4.offset", "ipv4.len", "ipv4.checksum_ok",
        "icmp.type", "icmp.code", "icmp.checksum_ok",
        "udp.src_port", "udp.dst_port", "udp.len", "udp.checksum_ok",
        "tcp.src_port", "tcp.dst_port", "tcp.seq", "tcp.ack", "tcp.flags", "tcp.window", "tcp.checksum_ok",
        "dhcp.op", "dhcp.xid", "dhcp.msg_type", "dhcp.ciaddr", "dhcp.yiaddr", "dhcp.siaddr", "dhcp.chaddr",
    ];

    public static FrameFields? Read(byte[] frame)
    {
        Packet packet;
        try { packet = Packet.ParsePacket(LinkLayers.Ethernet, frame); }
        catch (Exception e) when (e is not AssertionException) { return null; }
        if (packet is not EthernetPacket eth) return null;

        var fields = new FrameFields();
        Packet? inner = null;
        Try(() =>
        {
            fields.Set("eth.src", Mac(eth.SourceHardwareAddress));
            fields.Set("eth.dst", Mac(eth.DestinationHardwareAddress));
            if (eth.PayloadPacket is Ieee8021QPacket vlan)
            {
                fields.Set("eth.vlan", vlan.VlanIdentifier);
                SetType(fields, (ushort)vlan.Type);
                inner = vlan.PayloadPacket;
            }
            else
            {
                SetType(fields, (ushort)eth.Type);
                inner = eth.PayloadPacket;
            }
        });
        if (inner is ArpPacket arp)
        {
            Try(() =>
            {
                fields.Set("arp.op", (ushort)arp.Operation);
                fields.Set("arp.sha", Mac(arp.SenderHardwareAddress));
                fields.Set("arp.spa", arp.SenderProtocolAddress);
                fields.Set("arp.tha", Mac(arp.TargetHardwareAddress));
                fields.Set("arp.tpa", arp.TargetProtocolAddress);
            });
        }
        if (inner is IPv4Packet ip)
        {
            Try(() =>
            {
                fields.Set("ipv4.src", ip.SourceAddress);
                fields.Set("ipv4.dst", ip.DestinationAddress);
                fields.Set("ipv4.ttl", ip.TimeToLive);
                fields.Set("ipv4.proto", (byte)ip.Protocol);
                fields.Set("ipv4.id", ip.Id);
                fields.Set("ipv4.df", (ip.FragmentFlags & 0x2) != 0);
                fields.Set("ipv4.mf", (ip.FragmentFlags & 0x1) != 0);
                fields.Set("ipv4.offset", ip.FragmentOffset * 8);
                fields.Set("ipv4.len", ip.TotalLength);
                fields.Set("ipv4.checksum_ok", ip.ValidIPChecksum);
            });
            Packet? transport = null;
            Try(() => transport = ip.PayloadPacket);
            if (transport is IcmpV4Packet icmp)
            {
                Try(() =>
                {
                    fields.Set("icmp.type", (ushort)icmp.TypeCode >> 8);
                    fields.Set("icmp.code", (ushort)icmp.TypeCode & 0xFF);
                });
                Try(() => fields.Set("icmp.checksum_ok", icmp.ValidIcmpChecksum));
            }
            if (transport is UdpPacket udp)
            {
                Try(() =>
                {
                    fields.Set("udp.src_port", udp.SourcePort);
                    fields.Set("udp.dst_port", udp.DestinationPort);
                    fields.Set("udp.len", udp.Length);
                });
                Try(() => fields.Set("udp.checksum_ok", udp.Checksum == 0 || udp.ValidUdpChecksum));
                Packet? application = null;
                Try(() => application = udp.PayloadPacket);
                if (application is DhcpV4Packet dhcp)
                {
                    Try(() =>
                    {
                        fields.Set("dhcp.op", (byte)dhcp.Operation);
                        fields.Set("dhcp.xid", dhcp.TransactionId);
                        fields.Set("dhcp.ciaddr", dhcp.ClientAddress);
                        fields.Set("dhcp.yiaddr", dhcp.YourAddress);
                        fields.Set("dhcp.siaddr", dhcp.ServerAddress);
                        fields.Set("dhcp.chaddr", Mac(dhcp.ClientHardwareAddress));
                    });
                    Try(() => fields.Set("dhcp.msg_type", (byte)dhcp.MessageType));
                }
            }
            if (transport is TcpPacket tcp)
            {
                Try(() =>
                {
                    fields.Set("tcp.src_port", tcp.SourcePort);
                    fields.Set("tcp.dst_port", tcp.DestinationPort);
                    fields.Set("tcp.seq", tcp.SequenceNumber);
                    fields.Set("tcp.ack", tcp.AcknowledgmentNumber);
                    fields.Set("tcp.flags", tcp.Flags & 0x1FF);
                    fields.Set("tcp.window", tcp.WindowSize);
                });
                Try(() => fields.Set("tcp.checksum_ok", tcp.ValidTcpChecksum));
            }
        }
        return fields;
    }

    // Below 0x0600 the field is an IEEE 802.3 length (decode's "eth.len"); PacketDotNet reports it as the type.
    private static void SetType(FrameFields fields, ushort type) => fields.Set(type < 0x0600 ? "eth.len" : "eth.type", type);

    private static void Try(Action read)
    {
        try { read(); }
        catch (Exception e) when (e is not AssertionException) { /* PacketDotNet could not read this layer */ }
    }

    private static string Mac(PhysicalAddress address) => string.Join(':', address.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
}
