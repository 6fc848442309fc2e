using System.Buffers.Binary;
using TcpIpSharp.Net.Ipv6;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>Builds IPv6 frames for tests (Neighbour Discovery, echo, fragments, extension-header chains) toward a stack with <see cref="Frames.StackMac"/>.</summary>
internal static class V6
{
    public static readonly Ipv6Address StackLinkLocal = new(new UInt128(0xFE80_0000_0000_0000, Ipv6Layer.ModifiedEui64(Frames.StackMac)));
    public static readonly Ipv6Address PeerLinkLocal = Ipv6Address.Parse("fe80::1");
    public static readonly Ipv6Address AllNodes = Ipv6Address.Parse("ff02::1");

    public static Ipv6Address SolicitedNode(Ipv6Address a) => Ipv6Layer.SolicitedNode(a);

    /// <summary>An Ethernet frame with an IPv6 header and <paramref name="payload"/> (extension headers included) as is.</summary>
    public static byte[] Packet(Ipv6Address src, Ipv6Address dst, IpProtocol next, ReadOnlySpan<byte> payload, byte hopLimit = 64, MacAddress? srcMac = null, MacAddress? dstMac = null,
        byte trafficClass = 0)
    {
        var frame = new byte[EthernetHeader.Size + Ipv6Header.Size + payload.Length];
        new EthernetHeader(dstMac ?? (dst.IsMulticast ? Ipv6Layer.MulticastMac(dst) : Frames.StackMac), srcMac ?? Frames.PeerMac, EtherType.Ipv6).WriteTo(frame);
        new Ipv6Header(src, dst, next, (ushort)payload.Length, hopLimit, trafficClass).WriteTo(frame.AsSpan(EthernetHeader.Size));
        payload.CopyTo(frame.AsSpan(EthernetHeader.Size + Ipv6Header.Size));
        return frame;
    }

    /// <summary>An ICMPv6 message (type, code, then <paramref name="body"/> after the 4-byte header) with its checksum.</summary>
    public static byte[] Icmp(Ipv6Address src, Ipv6Address dst, Icmpv6Type type, byte code, ReadOnlySpan<byte> body, byte hopLimit = 255, MacAddress? srcMac = null)
    {
        var message = new byte[4 + body.Length];
        message[0] = (byte)type;
        message[1] = code;
        body.CopyTo(message.AsSpan(4));
        Icmpv6Header.FillChecksum(message, src, dst);
        return Packet(src, dst, IpProtocol.Icmpv6, message, hopLimit, srcMac);
    }

    public static byte[] Echo(Ipv6Address src, Ipv6Address dst, ushort id, ushort seq, int dataLength = 8, MacAddress? srcMac = null)
    {
        var body = new byte[4 + dataLength];
        BinaryPrimitives.WriteUInt16BigEndian(body, id);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2), seq);
        return Icmp(src, dst, Icmpv6Type.EchoRequest, 0, body, 64, srcMac);
    }

    /// <summary>A neighbour solicitation for <paramref name="target"/> (with a source link-layer option unless from ::).</summary>
    public static byte[] Ns(Ipv6Address src, Ipv6Address dst, Ipv6Address target, MacAddress mac)
    {
        var body = new List<byte>(new byte[4]);
        body.AddRange(target.ToBytes());
        if (!src.IsUnspecified) body.AddRange(LinkLayerOption(1, mac));
        return Icmp(src, dst, Icmpv6Type.NeighborSolicitation, 0, body.ToArray(), srcMac: mac);
    }

    /// <summary>A neighbour advertisement for <paramref name="target"/> with the target link-layer option.</summary>
    public static byte[] Na(Ipv6Address src, Ipv6Address dst, Ipv6Address target, MacAddress mac, bool solicited, bool overrideFlag = true)
    {
        var body = new List<byte>(new byte[4]);
        body[0] = (byte)((solicited ? 0x40 : 0) | (overrideFlag ? 0x20 : 0));
        body.AddRange(target.ToBytes());
        body.AddRange(LinkLayerOption(2, mac));
        return Icmp(src, dst, Icmpv6Type.NeighborAdvertisement, 0, body.ToArray(), srcMac: mac);
    }

    public static byte[] LinkLayerOption(byte type, MacAddress mac)
    {
        var o = new byte[8];
        o[0] = type;
        o[1] = 1;
        mac.WriteTo(o.AsSpan(2));
        return o;
    }

    /// <summary>A prefix information option (RFC 4861 4.6.2).</summary>
    public static byte[] PrefixOption(Ipv6Address prefix, int length, uint valid, uint preferred, bool onLink = true, bool autonomous = true)
    {
        var o = new byte[32];
        o[0] = 3;
        o[1] = 4;
        o[2] = (byte)length;
        o[3] = (byte)((onLink ? 0x80 : 0) | (autonomous ? 0x40 : 0));
        BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(4), valid);
        BinaryPrimitives.WriteUInt32BigEndian(o.AsSpan(8), preferred);
        prefix.ToBytes().CopyTo(o.AsSpan(16));
        return o;
    }

    public static byte[] RdnssOption(uint lifetime, params Ipv6Address[] servers)
    {
        var o = new byte[Math.Max(24, 8 + 16 * servers.Length)];
        int n = NdOptionWriter.WriteRecursiveDnsServers(o, lifetime, servers);
        return o[..n];
    }

    public static byte[] MtuOption(uint mtu)
    {
        var o = new byte[8];
        NdOptionWriter.WriteMtu(o, mtu);
        return o;
    }

    /// <summary>A router advertisement from <paramref name="router"/> to all nodes with the given options.</summary>
    public static byte[] Ra(Ipv6Address router, MacAddress mac, ushort routerLifetime, params byte[][] options)
    {
        var body = new List<byte> { 64, 0 };
        body.Add((byte)(routerLifetime >> 8));
        body.Add((byte)routerLifetime);
        body.AddRange(new byte[8]);   // reachable time, retrans timer: unspecified
        body.AddRange(LinkLayerOption(1, mac));
        foreach (var o in options) body.AddRange(o);
        return Icmp(router, AllNodes, Icmpv6Type.RouterAdvertisement, 0, body.ToArray(), srcMac: mac);
    }

    /// <summary>A fragment of a datagram whose upper layer is <paramref name="next"/>: <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public static byte[] Fragment(Ipv6Address src, Ipv6Address dst, uint id, int offset, bool more, ReadOnlySpan<byte> data, IpProtocol next = IpProtocol.Icmpv6, MacAddress? srcMac = null,
        byte trafficClass = 0)
    {
        var payload = new byte[Ipv6FragmentHeader.Size + data.Length];
        new Ipv6FragmentHeader(next, offset, more, id).WriteTo(payload);
        data.CopyTo(payload.AsSpan(Ipv6FragmentHeader.Size));
        return Packet(src, dst, IpProtocol.Ipv6Fragment, payload, 64, srcMac, trafficClass: trafficClass);
    }

    /// <summary>An echo request of <paramref name="dataLength"/> bytes, whole (its ICMPv6 message, checksum filled), to cut into fragments.</summary>
    public static byte[] EchoMessage(Ipv6Address src, Ipv6Address dst, ushort id, ushort seq, int dataLength)
    {
        var message = new byte[8 + dataLength];
        message[0] = (byte)Icmpv6Type.EchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), seq);
        for (int i = 8; i < message.Length; i++) message[i] = (byte)(i * 7);
        Icmpv6Header.FillChecksum(message, src, dst);
        return message;
    }

    private static byte[] ToBytes(this Ipv6Address a)
    {
        var b = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(b, a.Value);
        return b;
    }
}
