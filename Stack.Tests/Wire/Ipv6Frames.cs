using System.Buffers.Binary;
using TcpIpSharp.Tests.Support;

namespace TcpIpSharp.Tests.Wire;

/// <summary>Frames of the IPv6 captures in Ipv6Captures/ (kernel-ipv6.pcap: real Linux frames; crafted-ipv6.pcap: tshark-checked crafted ones), read without libpcap.</summary>
internal static class Ipv6Frames
{
    private static readonly Lazy<byte[][]> KernelFrames = new(() => Read("kernel-ipv6.pcap"));
    private static readonly Lazy<byte[][]> CraftedFrames = new(() => Read("crafted-ipv6.pcap"));

    /// <summary>Frame <paramref name="number"/> (from 1) of kernel-ipv6.pcap.</summary>
    public static byte[] Kernel(int number) => KernelFrames.Value[number - 1];
    /// <summary>Frame <paramref name="number"/> (from 1) of crafted-ipv6.pcap.</summary>
    public static byte[] Crafted(int number) => CraftedFrames.Value[number - 1];
    /// <summary>Every frame of both captures.</summary>
    public static IEnumerable<byte[]> All => KernelFrames.Value.Concat(CraftedFrames.Value);

    /// <summary>The IPv6 packet of an untagged frame (after the 14-byte Ethernet header).</summary>
    public static byte[] Packet(byte[] frame) => frame[14..];

    private static byte[][] Read(string name)
    {
        byte[] file = File.ReadAllBytes(Ipv6CaptureAgreementTests.PathOf(name));
        var frames = new List<byte[]>();
        for (int p = 24; p + 16 <= file.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(p + 8));
            frames.Add(file.AsSpan(p + 16, length).ToArray());
            p += 16 + length;
        }
        return [.. frames];
    }
}
