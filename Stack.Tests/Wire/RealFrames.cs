namespace TcpIpSharp.Tests.Wire;

/// <summary>
/// Frames copied byte for byte from captures in ../shared/captures, embedded as hex so the format tests run without
/// the corpus. Each names its file and frame number.
/// </summary>
internal static class RealFrames
{
    /// <summary>zeek testing/btest/Traces/communityid/arp.pcap frame 1: ARP request who-has 192.150.187.20 tell 192.150.187.1, padded to 60 bytes.</summary>
    public static byte[] ArpRequest => Bytes(
        "ffffffffffff00b04a2e1c380806" +
        "0001080006040001" + "00b04a2e1c38c096bb01" + "000000000000c096bb14" +
        "000000000000000000000000000000000000");

    /// <summary>sharppcap Test/capture_files/arp_with_vlan.pcap frame 1: 802.1Q VLAN 2, ARP request who-has 192.168.42.1 tell 192.168.42.2, 46 bytes.</summary>
    public static byte[] VlanArpRequest => Bytes(
        "ffffffffffffabcdef010204" + "81000002" + "0806" +
        "0001080006040001" + "abcdef010204c0a82a02" + "ffffffffffffc0a82a01");

    /// <summary>zeek testing/btest/Traces/icmp/5-pings.pcap frame 1: 172.16.133.2 > 172.217.11.78 ICMP echo request id 1226 seq 1, 64 bytes of ICMP, DF, TTL 64, IP id 37994.</summary>
    public static byte[] IcmpEchoRequest => Bytes(
        "a683e70c9064000c29cf30150800" +
        "45000054946a40004001bd04ac108502acd90b4e" +
        "0800ef2404ca0001" +
        "8bcfcf5f00000000db0d0f0000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637");

    /// <summary>
    /// zeek testing/btest/Traces/icmp/icmp-destunreach-udp.pcap frame 1: 192.168.1.102 > 192.168.1.1 ICMP port unreachable,
    /// quoting the UDP DNS response 192.168.1.1.53 > 192.168.1.102.59207 (its Total Length 163, of which 148 bytes are quoted);
    /// the frame ends with 4 bytes after the IPv4 packet (a link trailer), which Total Length excludes.
    /// </summary>
    public static byte[] IcmpPortUnreachable => Bytes(
        "0019e3e75d23000bdb6358a60800" +
        "450000b0281e000080018e77c0a80166c0a80101" +
        "030303bb00000000" +
        "450000a3371100004011bf81c0a80101c0a80166" +
        "0035e747008f76d2" +
        "98a4818000010001000400000673656375726503656434036e65740000010001c00c000100010000012c0004d05e140ec013000200010000012c" +
        "000f05646e7330320665786f647573c017c013000200010000012c000805646e733031c042c013000200010000012c000805646e733034c042c013000200c9146f2d");

    /// <summary>zeek testing/btest/Traces/chksums/ip4-udp-good-chksum.pcap frame 1: 127.0.0.1.30000 > 127.0.0.1.13000 UDP, 4 bytes "XXXX", good checksum.</summary>
    public static byte[] Udp => Bytes(
        "ffffffffffff0000000000000800" +
        "450000200001000040117cca7f0000017f000001" +
        "753032c8000ca92a" +
        "58585858");

    /// <summary>Every frame above.</summary>
    public static IReadOnlyList<byte[]> All => [ArpRequest, VlanArpRequest, IcmpEchoRequest, IcmpPortUnreachable, Udp];

    public static byte[] Bytes(string hex) => Convert.FromHexString(hex);
}
