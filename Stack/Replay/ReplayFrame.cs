using System.Buffers.Binary;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Replay;

/// <summary>The few facts about a frame the replay sorts and rewrites by, read once (bounds checked; a malformed frame
/// leaves the later fields at their defaults).</summary>
internal readonly struct ReplayFrame
{
    public const ushort EtherTypeIpv6 = 0x86DD;

    public readonly MacAddress Destination, Source;
    public readonly ushort EtherType;
    public readonly bool IsArp, IsArpRequest, IsIpv4, IsTcp;
    public readonly Ipv4Address IpSource, IpDestination, ArpSender;
    public readonly MacAddress ArpSenderMac;
    public readonly byte TimeToLive;
    public readonly int IpOffset, IpHeaderLength, IpTotalLength, TcpOffset, TcpHeaderLength;
    public readonly ushort SourcePort, DestinationPort;
    public readonly uint Sequence, Acknowledgment;
    public readonly TcpFlags Flags;
    public readonly int PayloadLength;

    public ReplayFrame(ReadOnlySpan<byte> frame)
    {
        this = default;
        if (EthernetFrame.TryParse(frame, out var eth) != WireError.None) return;
        Destination = eth.Destination;
        Source = eth.Source;
        EtherType = (ushort)eth.EtherType;
        if (eth.EtherType == Wire.EtherType.Arp && ArpPacket.TryParse(eth.Payload, out var arp) == WireError.None)
        {
            IsArp = true;
            IsArpRequest = arp.Operation == ArpOperation.Request;
            ArpSender = arp.SenderProtocolAddress;
            ArpSenderMac = arp.SenderHardwareAddress;
            return;
        }
        if (eth.EtherType != Wire.EtherType.Ipv4 || Ipv4Packet.TryParse(eth.Payload, out var ip) != WireError.None) return;
        IsIpv4 = true;
        IpOffset = eth.HeaderLength;
        IpHeaderLength = ip.HeaderLength;
        IpTotalLength = ip.TotalLength;
        IpSource = ip.Source;
        IpDestination = ip.Destination;
        TimeToLive = ip.TimeToLive;
        if (ip.Protocol != IpProtocol.Tcp || ip.FragmentOffset != 0 || ip.MoreFragments) return;
        if (TcpSegment.TryParse(ip.Payload, out var tcp) != WireError.None) return;
        IsTcp = true;
        TcpOffset = IpOffset + IpHeaderLength;
        TcpHeaderLength = tcp.HeaderLength;
        SourcePort = tcp.SourcePort;
        DestinationPort = tcp.DestinationPort;
        Sequence = tcp.SequenceNumber;
        Acknowledgment = tcp.AcknowledgmentNumber;
        Flags = tcp.Flags;
        PayloadLength = tcp.Payload.Length;
    }

    public bool IsIpv6 => EtherType == EtherTypeIpv6;

    /// <summary>Sequence space the segment takes (SYN and FIN count one each).</summary>
    public int SequenceLength => PayloadLength + ((Flags & TcpFlags.Syn) != 0 ? 1 : 0) + ((Flags & TcpFlags.Fin) != 0 ? 1 : 0);

    /// <summary>The TCP timestamp option's value and echo, when the segment has one.</summary>
    public static bool TryTimestamp(ReadOnlySpan<byte> frame, in ReplayFrame f, out int optionOffset)
    {
        optionOffset = -1;
        if (!f.IsTcp) return false;
        var options = frame.Slice(f.TcpOffset + TcpHeader.MinimumSize, f.TcpHeaderLength - TcpHeader.MinimumSize);
        for (int at = 0; at < options.Length;)
        {
            byte kind = options[at];
            if (kind == 0) break;
            if (kind == 1) { at++; continue; }
            if (at + 1 >= options.Length) break;
            int length = options[at + 1];
            if (length < 2 || at + length > options.Length) break;
            if (kind == 8 && length == 10) { optionOffset = f.TcpOffset + TcpHeader.MinimumSize + at; return true; }
            at += length;
        }
        return false;
    }

    /// <summary>Adds <paramref name="delta"/> to the SACK blocks' edges (option 5) of a TCP segment in place.</summary>
    public static void ShiftSackBlocks(Span<byte> frame, in ReplayFrame f, uint delta)
    {
        var options = frame.Slice(f.TcpOffset + TcpHeader.MinimumSize, f.TcpHeaderLength - TcpHeader.MinimumSize);
        for (int at = 0; at < options.Length;)
        {
            byte kind = options[at];
            if (kind == 0) break;
            if (kind == 1) { at++; continue; }
            if (at + 1 >= options.Length) break;
            int length = options[at + 1];
            if (length < 2 || at + length > options.Length) break;
            if (kind == 5)
                for (int edge = at + 2; edge + 4 <= at + length; edge += 4)
                    BinaryPrimitives.WriteUInt32BigEndian(options[edge..], BinaryPrimitives.ReadUInt32BigEndian(options[edge..]) + delta);
            at += length;
        }
    }
}
