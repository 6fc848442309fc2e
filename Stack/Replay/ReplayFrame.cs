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
    public readonly bool IsArp, IsArpRequest, IsIpv4, IsIp6, IsTcp;
    public readonly IpAddress IpSource, IpDestination;
    public readonly Ipv4Address ArpSender;
    public readonly MacAddress ArpSenderMac;
    public readonly byte TimeToLive;
    public readonly int IpOffset, IpHeaderLength, IpTotalLength, TcpOffset, TcpHeaderLength;
    public readonly ushort SourcePort, DestinationPort;
    public readonly uint Sequence, Acknowledgment;
    public readonly TcpFlags Flags;
    public readonly int PayloadLength;
    /// <summary>IPv6: the offset of the fragment header in the frame, or 0.</summary>
    public readonly int FragmentHeaderOffset;
    /// <summary>IPv6: the ICMPv6 type of an unfragmented (or first-fragment) ICMPv6 message, or 0.</summary>
    public readonly Icmpv6Type Icmpv6Type;
    /// <summary>IPv6: the target of a neighbour solicitation or advertisement.</summary>
    public readonly Ipv6Address NdTarget;
    /// <summary>IPv6: a neighbour advertisement with the solicited flag.</summary>
    public readonly bool NdSolicited;
    /// <summary>IPv6: extension headers other than one fragment header (the stack sends none), or a chain that does not parse.</summary>
    public readonly bool Ipv6Unsupported;

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
        if (eth.EtherType == Wire.EtherType.Ipv6) { this = ParseIpv6(eth, this); return; }
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

    private ReplayFrame(in ReplayFrame ethernet, int ipOffset, Ipv6Packet ip, in Ipv6HeaderChain chain, bool chainOk)
    {
        this = ethernet;
        IsIp6 = true;
        IpOffset = ipOffset;
        IpHeaderLength = chainOk ? chain.UpperLayerOffset : Ipv6Header.Size;
        IpTotalLength = Ipv6Header.Size + ip.PayloadLength;
        IpSource = ip.Source;
        IpDestination = ip.Destination;
        TimeToLive = ip.HopLimit;
        if (!chainOk) { Ipv6Unsupported = true; return; }
        bool fragment = chain.Fragment is not null;
        if (chain.ExtensionHeaderCount > (fragment ? 1 : 0)) Ipv6Unsupported = true;
        if (fragment) FragmentHeaderOffset = ipOffset + chain.FragmentHeaderOffset;
        if (chain.Fragment is { Offset: > 0 }) return;
        var upper = ip.Bytes[chain.UpperLayerOffset..Math.Min(ip.Bytes.Length, IpTotalLength)];
        if (chain.UpperLayerProtocol == IpProtocol.Icmpv6 && upper.Length >= 4)
        {
            Icmpv6Type = (Icmpv6Type)upper[0];
            if (Icmpv6Type is Icmpv6Type.NeighborSolicitation or Icmpv6Type.NeighborAdvertisement && upper.Length >= 24)
            {
                NdTarget = Ipv6Address.Read(upper[8..]);
                NdSolicited = (upper[4] & 0x40) != 0;
            }
            return;
        }
        if (chain.UpperLayerProtocol != IpProtocol.Tcp || fragment && chain.Fragment!.Value.MoreFragments) return;
        if (TcpSegment.TryParse(upper, out var tcp) != WireError.None) return;
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

    private static ReplayFrame ParseIpv6(EthernetFrame eth, in ReplayFrame ethernet)
    {
        if (Ipv6Packet.TryParse(eth.Payload, out var ip) != WireError.None) return ethernet;
        bool ok = ip.TryWalkHeaders(out var chain) == WireError.None;
        return new ReplayFrame(ethernet, eth.HeaderLength, ip, chain, ok);
    }

    public bool IsIpv6 => EtherType == EtherTypeIpv6;

    /// <summary>IPv4 or IPv6, parsed.</summary>
    public bool IsIp => IsIpv4 || IsIp6;

    /// <summary>Why a frame of the host or the stack is not compared (neighbour and group traffic), or null.</summary>
    public string? NotCompared
        => IsArpRequest ? "ARP request (when a host asks is a timing choice)"
        : IsIpv6 && !IsIp6 ? "IPv6 that does not parse"
        : Icmpv6Type switch
        {
            Icmpv6Type.NeighborSolicitation => "IPv6 neighbour solicitation (when a host asks is a timing choice)",
            Icmpv6Type.NeighborAdvertisement when !NdSolicited => "unsolicited neighbour advertisement (sent when an address becomes preferred)",
            Icmpv6Type.RouterSolicitation => "router solicitation (sent at start-up)",
            Icmpv6Type.MulticastListenerReport or Icmpv6Type.MulticastListenerReportV2 or Icmpv6Type.MulticastListenerDone
                => "MLD report (sent at start-up and on group changes)",
            _ => Ipv6Unsupported ? "IPv6 extension headers the stack does not send (not supported)" : null,
        };

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
