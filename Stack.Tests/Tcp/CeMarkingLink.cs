using System.Buffers.Binary;
using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp;

/// <summary>
/// A link end that marks ECT(0) TCP data frames CE on their way out, as a congested router would (RFC 3168 5): every
/// <c>every</c>-th data frame, or each with probability <c>probability</c> from a seeded generator. It tallies the
/// data frames it sees: how many, how many Not-ECT, how many with CWR, how many it marked. Over IPv4 and IPv6.
/// </summary>
internal sealed class CeMarkingLink(ILink inner, int every = 0, double probability = 0, int seed = 0) : ILink
{
    private readonly Random _random = new(seed);
    public LinkCapabilities Capabilities => inner.Capabilities;
    public int DataFrames, NotEctDataFrames, CwrFrames, Marked;
    public int TryReceive(Span<byte> buffer) => inner.TryReceive(buffer);
    public bool WaitReadable(TimeSpan timeout) => inner.WaitReadable(timeout);
    public void Interrupt() => inner.Interrupt();
    public void Dispose() => inner.Dispose();
    public bool TrySendTcpSegments(ReadOnlySpan<byte> frame, int segmentSize) => inner.TrySendTcpSegments(frame, segmentSize);

    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 14 + 40) return inner.TrySend(frame);
        bool ipv6 = frame[12] == 0x86 && frame[13] == 0xDD, ipv4 = frame[12] == 0x08 && frame[13] == 0x00;
        if (!(ipv4 && frame[14 + 9] == 6) && !(ipv6 && frame[14 + 6] == 6)) return inner.TrySend(frame);
        int ipLength = ipv6 ? 40 : (frame[14] & 0x0F) * 4, tcp = 14 + ipLength;
        if (frame.Length < tcp + 20) return inner.TrySend(frame);
        int payload = frame.Length - tcp - (frame[tcp + 12] >> 4) * 4;
        if (payload <= 0) return inner.TrySend(frame);
        DataFrames++;
        if ((frame[tcp + 13] & 0x80) != 0) CwrFrames++;
        int ecn = ipv6 ? (frame[15] >> 4) & 3 : frame[15] & 3;
        if (ecn == 0) NotEctDataFrames++;
        bool mark = ecn == 2 && (every > 0 ? DataFrames % every == 0 : _random.NextDouble() < probability);
        if (!mark) return inner.TrySend(frame);
        var copy = frame.ToArray();
        Marked++;
        if (ipv6) copy[15] |= 0x30;
        else
        {
            copy[15] |= 3;
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(14 + 10), 0);
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(14 + 10), InternetChecksum.Compute(copy.AsSpan(14, ipLength)));
        }
        return inner.TrySend(copy);
    }
}
