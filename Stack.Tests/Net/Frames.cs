using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>Builds whole frames for tests from the wire layer's header records.</summary>
internal static class Frames
{
    public static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:01");
    public static readonly MacAddress StackMac = MacAddress.Parse("02:00:00:00:00:02");
    public static readonly Ipv4Address PeerIp = Ipv4Address.Parse("192.0.2.1");
    public static readonly Ipv4Address StackIp = Ipv4Address.Parse("192.0.2.2");

    public static byte[] Arp(ArpOperation op, MacAddress sha, Ipv4Address spa, MacAddress tha, Ipv4Address tpa, MacAddress? ethDst = null)
    {
        var frame = new byte[EthernetHeader.Size + ArpHeader.Size];
        new EthernetHeader(ethDst ?? (op == ArpOperation.Request ? MacAddress.Broadcast : tha), sha, EtherType.Arp).WriteTo(frame);
        new ArpHeader(op, sha, spa, tha, tpa).WriteTo(frame.AsSpan(EthernetHeader.Size));
        return frame;
    }

    /// <summary>An IPv4 packet (or fragment) carrying <paramref name="payload"/> as is.</summary>
    public static byte[] Ipv4(Ipv4Address src, Ipv4Address dst, IpProtocol proto, ReadOnlySpan<byte> payload,
        ushort id = 1, bool more = false, int offset = 0, MacAddress? srcMac = null, MacAddress? dstMac = null, byte ttl = 64, byte tos = 0)
    {
        var frame = new byte[EthernetHeader.Size + Ipv4Header.MinimumSize + payload.Length];
        new EthernetHeader(dstMac ?? StackMac, srcMac ?? PeerMac, EtherType.Ipv4).WriteTo(frame);
        new Ipv4Header(src, dst, proto, (ushort)(Ipv4Header.MinimumSize + payload.Length), id, ttl, false, more, offset, tos).WriteTo(frame.AsSpan(EthernetHeader.Size));
        payload.CopyTo(frame.AsSpan(EthernetHeader.Size + Ipv4Header.MinimumSize));
        return frame;
    }

    public static byte[] EchoMessage(IcmpType type, ushort id, ushort seq, int dataLength, byte seed = 0)
    {
        var message = new byte[IcmpHeader.Size + dataLength];
        IcmpHeader.Echo(type, id, seq).WriteTo(message);
        for (int i = 0; i < dataLength; i++) message[IcmpHeader.Size + i] = (byte)(i * 7 + seed);
        IcmpHeader.FillChecksum(message);
        return message;
    }

    public static byte[] UdpMessage(Ipv4Address src, Ipv4Address dst, ushort srcPort, ushort dstPort, ReadOnlySpan<byte> payload)
    {
        var datagram = new byte[UdpHeader.Size + payload.Length];
        new UdpHeader(srcPort, dstPort, (ushort)datagram.Length).WriteTo(datagram);
        payload.CopyTo(datagram.AsSpan(UdpHeader.Size));
        UdpHeader.FillChecksum(datagram, src, dst);
        return datagram;
    }

    /// <summary>Splits an IP payload into fragments of <paramref name="piece"/> bytes (a multiple of 8), as frames.</summary>
    public static List<byte[]> Fragments(Ipv4Address src, Ipv4Address dst, IpProtocol proto, byte[] payload, int piece, ushort id)
    {
        var list = new List<byte[]>();
        for (int off = 0; off < payload.Length; off += piece)
        {
            int len = Math.Min(piece, payload.Length - off);
            list.Add(Ipv4(src, dst, proto, payload.AsSpan(off, len), id, off + len < payload.Length, off));
        }
        return list;
    }
}
