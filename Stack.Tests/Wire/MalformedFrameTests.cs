using System.Buffers.Binary;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>Hand-made malformed frames: each stops at the expected layer with the expected <see cref="WireError"/>, never an exception.</summary>
public class MalformedFrameTests
{
    // Offsets into the untagged frames below.
    private const int Ip = 14;
    private const int IpTotalLength = Ip + 2;
    private const int Transport = Ip + 20;

    private static byte[] Udp => RealFrames.Udp;                        // 14 + 20 + 8 + 4 bytes
    private static byte[] Echo => RealFrames.IcmpEchoRequest;           // 14 + 20 + 64 bytes
    private static byte[] Unreachable => RealFrames.IcmpPortUnreachable; // 14 + 20 + 8 + quoted 148 bytes
    private static byte[] Arp => RealFrames.ArpRequest;                 // 14 + 28 + 18 padding
    private static byte[] VlanArp => RealFrames.VlanArpRequest;         // 18 + 28

    private static byte[] Cut(byte[] frame, int length) => frame[..length];

    private static byte[] Set8(byte[] frame, int offset, byte value)
    {
        var copy = (byte[])frame.Clone();
        copy[offset] = value;
        return copy;
    }

    private static byte[] Set16(byte[] frame, int offset, int value)
    {
        var copy = (byte[])frame.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(offset), (ushort)value);
        return copy;
    }

    /// <summary>Sets the IPv4 Total Length and cuts the frame right after it, so the layer inside is what is short.</summary>
    private static byte[] IpCarrying(byte[] frame, int payloadBytes) => Cut(Set16(frame, IpTotalLength, 20 + payloadBytes), Ip + 20 + payloadBytes);

    private static TestCaseData Case(string name, byte[] frame, string layer, WireError error)
        => new TestCaseData(frame, layer, error).SetName("{m}: " + name);

    public static IEnumerable<TestCaseData> Cases()
    {
        // Ethernet and its tag.
        yield return Case("empty frame", [], "eth", WireError.Truncated);
        yield return Case("13 bytes of Ethernet header", Cut(Udp, 13), "eth", WireError.Truncated);
        yield return Case("802.1Q tag cut after the TPID", Cut(VlanArp, 14), "eth", WireError.Truncated);
        yield return Case("802.1Q tag cut before the inner EtherType ends", Cut(VlanArp, 17), "eth", WireError.Truncated);
        yield return Case("802.1ad tag cut", Cut(Set16(VlanArp, 12, 0x88A8), 16), "eth", WireError.Truncated);

        // IPv4 truncations and bad length fields.
        yield return Case("no IPv4 bytes", Cut(Udp, Ip), "ipv4", WireError.Truncated);
        yield return Case("19 bytes of IPv4 header", Cut(Udp, Ip + 19), "ipv4", WireError.Truncated);
        yield return Case("IPv4 header only, Total Length past the end", Cut(Udp, Transport), "ipv4", WireError.BadLength);
        yield return Case("version 6 under EtherType IPv4", Set8(Udp, Ip, 0x65), "ipv4", WireError.BadVersion);
        yield return Case("IHL 4", Set8(Udp, Ip, 0x44), "ipv4", WireError.BadHeaderLength);
        yield return Case("IHL 0", Set8(Udp, Ip, 0x40), "ipv4", WireError.BadHeaderLength);
        yield return Case("IHL 15 past the end of the bytes", Set16(Set8(Udp, Ip, 0x4F), IpTotalLength, 60), "ipv4", WireError.BadHeaderLength);
        yield return Case("Total Length 19 below IHL", Set16(Udp, IpTotalLength, 19), "ipv4", WireError.BadLength);
        yield return Case("Total Length 0", Set16(Udp, IpTotalLength, 0), "ipv4", WireError.BadLength);
        yield return Case("Total Length 20 below IHL 6", Set16(Set8(Udp, Ip, 0x46), IpTotalLength, 20), "ipv4", WireError.BadLength);
        yield return Case("Total Length one past the bytes", Set16(Udp, IpTotalLength, 33), "ipv4", WireError.BadLength);
        yield return Case("Total Length 65535", Set16(Udp, IpTotalLength, 0xFFFF), "ipv4", WireError.BadLength);

        // UDP.
        yield return Case("no UDP bytes", IpCarrying(Udp, 0), "udp", WireError.Truncated);
        yield return Case("7 bytes of UDP header", IpCarrying(Udp, 7), "udp", WireError.Truncated);
        yield return Case("UDP Length 7", Set16(Udp, Transport + 4, 7), "udp", WireError.BadLength);
        yield return Case("UDP Length 0", Set16(Udp, Transport + 4, 0), "udp", WireError.BadLength);
        yield return Case("UDP Length one past the IPv4 payload", Set16(Udp, Transport + 4, 13), "udp", WireError.BadLength);
        yield return Case("UDP Length 65535", Set16(Udp, Transport + 4, 0xFFFF), "udp", WireError.BadLength);

        // ICMP and the quote of an error.
        yield return Case("no ICMP bytes", IpCarrying(Echo, 0), "icmp", WireError.Truncated);
        yield return Case("7 bytes of ICMP header", IpCarrying(Echo, 7), "icmp", WireError.Truncated);
        yield return Case("error quoting nothing", IpCarrying(Unreachable, 8), "icmp-quote", WireError.Truncated);
        yield return Case("error quoting 19 bytes of IPv4 header", IpCarrying(Unreachable, 8 + 19), "icmp-quote", WireError.Truncated);
        yield return Case("error quoting 7 transport bytes", IpCarrying(Unreachable, 8 + 20 + 7), "icmp-quote", WireError.Truncated);
        yield return Case("error quoting IPv6", Set8(Unreachable, Transport + 8, 0x65), "icmp-quote", WireError.BadVersion);
        yield return Case("error quoting IHL 4", Set8(Unreachable, Transport + 8, 0x44), "icmp-quote", WireError.BadHeaderLength);

        // ARP.
        yield return Case("no ARP bytes", Cut(Arp, Ip), "arp", WireError.Truncated);
        yield return Case("7 bytes of ARP", Cut(Arp, Ip + 7), "arp", WireError.Truncated);
        yield return Case("27 bytes of ARP", Cut(Arp, Ip + 27), "arp", WireError.Truncated);
        yield return Case("27 bytes of tagged ARP", Cut(VlanArp, 18 + 27), "arp", WireError.Truncated);
        yield return Case("ARP hardware type 6 (IEEE 802)", Set16(Arp, Ip, 6), "arp", WireError.Unsupported);
        yield return Case("ARP protocol type IPv6", Set16(Arp, Ip + 2, 0x86DD), "arp", WireError.Unsupported);
        yield return Case("ARP hardware length 8", Set8(Arp, Ip + 4, 8), "arp", WireError.Unsupported);
        yield return Case("ARP protocol length 16", Set8(Arp, Ip + 5, 16), "arp", WireError.Unsupported);
        yield return Case("tagged ARP hardware type 0x3030 (tcpdump arp-too-long-tha)", Set16(VlanArp, 18, 0x3030), "arp", WireError.Unsupported);
    }

    [TestCaseSource(nameof(Cases))]
    public void Stops_at_layer_with_error(byte[] frame, string layer, WireError error)
    {
        WalkResult result = default;
        Assert.DoesNotThrow(() => result = LayerWalk.Walk(frame, out _));
        Assert.That(result, Is.EqualTo(new WalkResult(layer, error)));
    }

    [Test]
    public void Every_prefix_of_every_real_frame_parses_or_errs_without_exception()
    {
        foreach (byte[] frame in RealFrames.All)
        {
            for (int length = 0; length <= frame.Length; length++)
            {
                WalkResult result = default;
                Assert.DoesNotThrow(() => result = LayerWalk.Walk(frame.AsSpan(0, length), out _), $"{Convert.ToHexString(frame[..14])}.. cut to {length}");
                if (length < 42) Assert.That(result.Error, Is.Not.EqualTo(WireError.None), $"cut to {length}");
            }
            Assert.That(LayerWalk.Walk(frame, out _), Is.EqualTo(WalkResult.Ok));
        }
    }

    [Test]
    public void Every_single_byte_corruption_of_every_real_frame_parses_or_errs_without_exception()
    {
        foreach (byte[] original in RealFrames.All)
        {
            for (int offset = 0; offset < original.Length; offset++)
            {
                foreach (byte value in (byte[])[0x00, 0x01, 0x05, 0x0F, 0x40, 0x45, 0x4F, 0x7F, 0x80, 0xFF])
                {
                    byte[] frame = Set8(original, offset, value);
                    Assert.DoesNotThrow(() => LayerWalk.Walk(frame, out _), $"byte {offset} set to {value:x2}");
                }
            }
        }
    }
}
