using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TcpIpSharp.Wire;

/// <summary>
/// The internet checksum of RFC 1071: a ones'-complement sum of 16-bit big-endian words.
/// One vectorised routine (256-bit lanes, then 32-bit words, then a 16-bit tail) serves IPv4, ICMP, UDP and TCP.
/// </summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> to a running 32-bit-folded sum. Data of odd length is padded with a zero byte (RFC 1071 4.1).</summary>
    /// <remarks>Sums only compose when every part but the last has even length, as every header does.</remarks>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        ulong acc = sum;
        int i = 0;
        ref byte start = ref MemoryMarshal.GetReference(data);
        // The ones'-complement sum is byte-order independent (RFC 1071 2.B): sum 16-bit words in native order and
        // swap once at the end. Wide: each 32-bit lane adds its two 16-bit words (a mask and a shift, no cross-lane
        // widening), into two accumulators so that consecutive iterations do not wait on each other.
        if (Vector256.IsHardwareAccelerated && data.Length >= 64)
        {
            var low = Vector256.Create(0xFFFFu);
            while (data.Length - i >= 64)
            {
                // A lane grows by at most 2 x 0xFFFF per 32 bytes: 32,000 iterations (about 2 MB) and one more 32 bytes
                // stay below 2^32; longer data is summed in such chunks.
                int stop = i + Math.Min(data.Length - i, 32_000 * 64) - 64;
                var a = Vector256<uint>.Zero;
                var b = Vector256<uint>.Zero;
                for (; i <= stop; i += 64)
                {
                    var v = Vector256.LoadUnsafe(ref start, (nuint)i).AsUInt32();
                    var w = Vector256.LoadUnsafe(ref start, (nuint)(i + 32)).AsUInt32();
                    a += (v & low) + (v >> 16);
                    b += (w & low) + (w >> 16);
                }
                if (data.Length - i >= 32)
                {
                    var v = Vector256.LoadUnsafe(ref start, (nuint)i).AsUInt32();
                    a += (v & low) + (v >> 16);
                    i += 32;
                }
                var (a0, a1) = Vector256.Widen(a);
                var (b0, b1) = Vector256.Widen(b);
                acc += SwapFold(Vector256.Sum(a0 + a1 + b0 + b1));
            }
        }
        // Headers and tails: 32-bit native words in a 64-bit sum, then 16-bit big-endian words.
        ulong native = 0;
        for (; data.Length - i >= 4; i += 4)
            native += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, i));
        acc += SwapFold(native);
        if (data.Length - i >= 2)
        {
            acc += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
            i += 2;
        }
        if (i < data.Length)
            acc += (uint)data[i] << 8;
        return Fold32(acc);
    }

    // Folds a sum of native-order 32-bit words to 16 bits, then swaps it to big-endian word order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SwapFold(ulong nativeSum)
    {
        ulong s = (nativeSum & 0xFFFF_FFFF) + (nativeSum >> 32);
        s = (s & 0xFFFF_FFFF) + (s >> 32);
        uint t = (uint)s;
        t = (t & 0xFFFF) + (t >> 16);
        t = (t & 0xFFFF) + (t >> 16);
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((ushort)t) : t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Fold32(ulong acc)
    {
        acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
        acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
        return (uint)acc;
    }

    /// <summary>Folds a running sum to 16 bits and complements it: the value to store in a checksum field.</summary>
    public static ushort Finish(uint sum)
    {
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>The checksum of <paramref name="data"/> alone (the value to store in a zeroed checksum field).</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>True when <paramref name="data"/>, checksum field included, sums to all ones.</summary>
    public static bool IsValid(ReadOnlySpan<byte> data) => Compute(data) == 0;

    /// <summary>The sum of the IPv4 pseudo-header for UDP and TCP (RFC 768, RFC 9293 3.1).</summary>
    public static uint PseudoHeaderSum(Ipv4Address source, Ipv4Address destination, IpProtocol protocol, int transportLength)
    {
        ulong acc = (source.Value >> 16) + (source.Value & 0xFFFF)
                  + (destination.Value >> 16) + (destination.Value & 0xFFFF)
                  + (uint)(byte)protocol + (uint)transportLength;
        return Fold32(acc);
    }

    /// <summary>
    /// The sum of the pseudo-header of either family: IPv4's (above), or IPv6's (RFC 8200 8.1: both addresses, the
    /// upper-layer length as 32 bits, three zero bytes and the next header).
    /// </summary>
    public static uint PseudoHeaderSum(IpAddress source, IpAddress destination, IpProtocol protocol, int transportLength)
        => source.IsIpv4 ? PseudoHeaderSum(source.AsIpv4, destination.AsIpv4, protocol, transportLength)
                         : PseudoHeaderSum(source.AsIpv6, destination.AsIpv6, protocol, transportLength);

    /// <summary>The checksum of a UDP or TCP segment with its pseudo-header; zero means the segment is intact when the field is included.</summary>
    public static ushort ComputeTransport(IpAddress source, IpAddress destination, IpProtocol protocol, ReadOnlySpan<byte> segment)
        => Finish(Add(PseudoHeaderSum(source, destination, protocol, segment.Length), segment));

    /// <summary>The sum of the IPv6 pseudo-header for UDP, TCP and ICMPv6 (RFC 8200 8.1): addresses, upper-layer length, next header.</summary>
    /// <remarks>With a Routing header, <paramref name="destination"/> is the final destination, not the one in the IPv6 header.</remarks>
    public static uint PseudoHeaderSum(Ipv6Address source, Ipv6Address destination, IpProtocol protocol, int upperLayerLength)
    {
        ulong acc = Words(source.Value) + Words(destination.Value) + (uint)(byte)protocol + (uint)upperLayerLength;
        return Fold32(acc);
    }

    // A sum congruent (mod 0xFFFF, which is all a ones'-complement sum keeps) to that of an address's eight 16-bit
    // words: its four 32-bit words, since 2^16 = 1 (mod 0xFFFF). Fold32 takes the carries out.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Words(UInt128 value)
    {
        ulong high = (ulong)(value >> 64), low = (ulong)value;
        return (high >> 32) + (uint)high + (low >> 32) + (uint)low;
    }

    /// <summary>A plain scalar reference sum (one 16-bit word at a time), for tests and benchmarks only.</summary>
    internal static ushort ComputeScalar(ReadOnlySpan<byte> data)
    {
        ulong sum = 0;   // 64 bits: 32 would wrap (losing carries) past 65,537 words of 0xFFFF
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += (uint)(data[i] << 8 | data[i + 1]);
        if (i < data.Length) sum += (uint)data[i] << 8;
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }
}
