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
        // Headers and tails: 32-bit native words in a 64-bit sum (read two at a time: a 20-byte IPv4 header in three
        // reads, a 32-byte TCP header in four, instead of five and eight), then 16-bit big-endian words.
        ulong native = 0;
        for (; data.Length - i >= 8; i += 8)
        {
            ulong pair = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i));
            native += (uint)pair + (pair >> 32);
        }
        if (data.Length - i >= 4)
        {
            native += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, i));
            i += 4;
        }
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

    /// <summary>
    /// Copies <paramref name="source"/> to the start of <paramref name="destination"/> and adds it to a running sum in
    /// the same pass (Linux's csum-and-copy): the result equals <see cref="Add"/> over <paramref name="source"/>, and the
    /// bytes are read once instead of twice. Data of odd length is padded with a zero byte, as in <see cref="Add"/>;
    /// to continue after an odd-length part, sum the next part alone and add it through <see cref="AddAtOddOffset"/>.
    /// </summary>
    public static uint CopyAndSum(ReadOnlySpan<byte> source, Span<byte> destination, uint sum)
    {
        if (destination.Length < source.Length) throw new ArgumentException("The destination is shorter than the source.", nameof(destination));
        // The 32-byte stores are aligned (a ring's write position moves by segment sizes that are rarely multiples of
        // 32, and a store split across two cache lines costs about twice one that is not): the bytes up to the next
        // 32-byte boundary of the destination go first; after an odd number of them the rest is summed at an odd offset.
        int head = 0;
        if (Vector256.IsHardwareAccelerated && source.Length >= 256)
        {
            unsafe { head = (int)(-(nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(destination)) & 31); }
        }
        if (head == 0) return CopyAndSumCore(source, destination, sum);
        uint first = CopyAndSumCore(source[..head], destination, sum);
        uint rest = CopyAndSumCore(source[head..], destination[head..], 0);
        return (head & 1) == 0 ? Combine(first, rest) : AddAtOddOffset(first, rest);
    }

    private static uint CopyAndSumCore(ReadOnlySpan<byte> source, Span<byte> destination, uint sum)
    {
        ulong acc = sum;
        int i = 0;
        int length = source.Length;
        ref byte start = ref MemoryMarshal.GetReference(source);
        ref byte target = ref MemoryMarshal.GetReference(destination);
        // As in Add: 32-bit lanes each adding their two 16-bit words, two accumulators; every vector loaded is stored.
        if (Vector256.IsHardwareAccelerated && length >= 64)
        {
            var low = Vector256.Create(0xFFFFu);
            while (length - i >= 64)
            {
                int stop = i + Math.Min(length - i, 32_000 * 64) - 64;
                var a = Vector256<uint>.Zero;
                var b = Vector256<uint>.Zero;
                for (; i <= stop; i += 64)
                {
                    var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                    var w = Vector256.LoadUnsafe(ref start, (nuint)(i + 32));
                    v.StoreUnsafe(ref target, (nuint)i);
                    w.StoreUnsafe(ref target, (nuint)(i + 32));
                    var v32 = v.AsUInt32();
                    var w32 = w.AsUInt32();
                    a += (v32 & low) + (v32 >> 16);
                    b += (w32 & low) + (w32 >> 16);
                }
                if (length - i >= 32)
                {
                    var v = Vector256.LoadUnsafe(ref start, (nuint)i);
                    v.StoreUnsafe(ref target, (nuint)i);
                    var v32 = v.AsUInt32();
                    a += (v32 & low) + (v32 >> 16);
                    i += 32;
                }
                var (a0, a1) = Vector256.Widen(a);
                var (b0, b1) = Vector256.Widen(b);
                acc += SwapFold(Vector256.Sum(a0 + a1 + b0 + b1));
            }
        }
        ulong native = 0;
        for (; length - i >= 8; i += 8)
        {
            ulong word = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, i), word);
            native += (uint)word;
            native += word >> 32;
        }
        for (; length - i >= 4; i += 4)
        {
            uint word = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, i));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, i), word);
            native += word;
        }
        acc += SwapFold(native);
        if (length - i >= 2)
        {
            ushort word = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref start, i));
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref target, i), word);
            acc += BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(word) : word;
            i += 2;
        }
        if (i < length)
        {
            byte last = Unsafe.Add(ref start, i);
            Unsafe.Add(ref target, i) = last;
            acc += (uint)last << 8;
        }
        return Fold32(acc);
    }

    /// <summary>Adds two running sums (the second of a part that starts at an even offset of the data).</summary>
    public static uint Combine(uint sum, uint partSum) => Fold32((ulong)sum + partSum);

    /// <summary>
    /// Adds to <paramref name="sum"/> the sum <paramref name="partSum"/> of a part (as <see cref="Add"/> gives it, as if it
    /// started on a word boundary) that in fact starts at an odd offset of the data: a ones'-complement sum of bytes
    /// shifted by one is the byte-swapped sum (RFC 1071 2.B), so the part's sum is folded to 16 bits and swapped.
    /// </summary>
    public static uint AddAtOddOffset(uint sum, uint partSum)
    {
        partSum = (partSum & 0xFFFF) + (partSum >> 16);
        partSum = (partSum & 0xFFFF) + (partSum >> 16);
        uint swapped = (partSum >> 8 | partSum << 8) & 0xFFFF;
        return Fold32((ulong)sum + swapped);
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

    /// <summary>
    /// The checksum of a message after one of its 16-bit words changed from <paramref name="oldWord"/> to
    /// <paramref name="newWord"/>, from its old <paramref name="checksum"/> alone (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')),
    /// without summing the message again.
    /// </summary>
    public static ushort Update(ushort checksum, ushort oldWord, ushort newWord)
    {
        uint sum = (uint)(ushort)~checksum + (ushort)~oldWord + newWord;
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
