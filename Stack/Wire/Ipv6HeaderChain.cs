using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// The result of walking an IPv6 packet's extension headers (RFC 8200 4): where the upper-layer header starts and which
/// protocol it is, the Fragment header if any, and, when the walk failed, what to do about it (discard, or discard and
/// send a Parameter Problem with <see cref="ProblemCode"/> and <see cref="ProblemPointer"/>).
/// </summary>
/// <remarks>
/// Hop-by-Hop and Destination Options are read option by option: Pad1, PadN and Router Alert are known, every other option
/// is handled by its action bits (RFC 8200 4.2). A Routing header of type 0 is refused (RFC 5095); another type is skipped
/// when Segments Left is 0 and is a Parameter Problem otherwise (4.4). After the Fragment header of a later fragment
/// (offset above 0) the bytes are fragment data and the walk stops; a first fragment must hold the whole chain and the
/// upper-layer header (RFC 7112 5). At most <see cref="MaximumExtensionHeaders"/> extension headers are walked.
/// </remarks>
public readonly record struct Ipv6HeaderChain
{
    internal static class Field
    {
        public const int NextHeader = 0;
        public const int HeaderExtensionLength = 1;   // 8-byte units after the first 8 (4-byte units after the first 8, less 2, for AH)
        public const int RoutingType = 2;
        public const int SegmentsLeft = 3;
        public const int Options = 2;
    }

    /// <summary>Most extension headers walked in one packet; more is <see cref="WireError.HeaderChainTooLong"/>. A real packet has a handful.</summary>
    public const int MaximumExtensionHeaders = 8;
    /// <summary>Pad1 option type.</summary>
    public const byte Pad1Option = 0;
    /// <summary>PadN option type.</summary>
    public const byte PadNOption = 1;
    /// <summary>Router Alert option type (RFC 2711).</summary>
    public const byte RouterAlertOption = 5;

    /// <summary>The upper-layer protocol (or <see cref="IpProtocol.Ipv6NoNextHeader"/>, ESP, or a protocol the stack does not know).</summary>
    public IpProtocol UpperLayerProtocol { get; init; }
    /// <summary>Offset of the upper-layer header from the start of the IPv6 header (of the fragment data in a later fragment).</summary>
    public int UpperLayerOffset { get; init; }
    /// <summary>Number of extension headers walked.</summary>
    public int ExtensionHeaderCount { get; init; }
    /// <summary>The Fragment header, when the packet has one.</summary>
    public Ipv6FragmentHeader? Fragment { get; init; }
    /// <summary>Offset of the Fragment header from the start of the IPv6 header, or -1.</summary>
    public int FragmentHeaderOffset { get; init; }
    /// <summary>The value of a Router Alert option (RFC 2711; 0 for MLD), when one was present.</summary>
    public ushort? RouterAlert { get; init; }
    /// <summary>What to do with the packet: <see cref="Ipv6OptionAction.Skip"/> (process it) when the walk succeeded.</summary>
    public Ipv6OptionAction Action { get; init; }
    /// <summary>The Parameter Problem code to send when <see cref="Action"/> asks for one.</summary>
    public Icmpv6ParameterProblemCode ProblemCode { get; init; }
    /// <summary>The Parameter Problem pointer: offset of the faulty byte from the start of the IPv6 header, or -1 when there is none to send.</summary>
    public int ProblemPointer { get; init; }

    /// <summary>True for a fragment with an offset above 0: no upper-layer header here.</summary>
    public bool IsLaterFragment => Fragment is { Offset: > 0 };
    /// <summary>True for a fragment that needs reassembly (an atomic fragment does not, RFC 6946).</summary>
    public bool NeedsReassembly => Fragment is { IsAtomic: false };

    /// <summary>True when a Parameter Problem should be sent for this failed walk, given whether the destination was multicast (RFC 8200 4.2).</summary>
    public bool SendsParameterProblem(bool destinationIsMulticast)
        => ProblemPointer >= 0 && (Action == Ipv6OptionAction.DiscardSendParameterProblem
            || (Action == Ipv6OptionAction.DiscardSendParameterProblemUnlessMulticast && !destinationIsMulticast));

    /// <summary>
    /// Walks the header chain of a received packet: <paramref name="packet"/> is the IPv6 header and its payload
    /// (<see cref="Ipv6Packet.Bytes"/>). On error <paramref name="chain"/> still says what to do (action, code and pointer).
    /// </summary>
    public static WireError TryWalk(ReadOnlySpan<byte> packet, out Ipv6HeaderChain chain)
    {
        // Almost every packet has no extension header: its Next Header names TCP, UDP or ICMPv6 at once, and the walk
        // below would return exactly this from its first step.
        if (packet.Length >= Ipv6Header.Size && (IpProtocol)packet[Ipv6Packet.Field.NextHeader] is var next
            && next is IpProtocol.Tcp or IpProtocol.Udp or IpProtocol.Icmpv6)
        {
            chain = new Ipv6HeaderChain
            {
                UpperLayerProtocol = next, UpperLayerOffset = Ipv6Header.Size, FragmentHeaderOffset = -1,
                Action = Ipv6OptionAction.Skip, ProblemPointer = -1,
            };
            return WireError.None;
        }
        return Walk(packet, quoted: false, out chain);
    }

    /// <summary>
    /// Walks the header chain of a packet quoted in an ICMPv6 error: the quote may end anywhere, so fragment lengths and
    /// RFC 7112 are not checked, option actions and routing types are not judged (the packet is only read), and a header
    /// cut by the end of the quote is <see cref="WireError.Truncated"/>.
    /// </summary>
    public static WireError TryWalkQuoted(ReadOnlySpan<byte> packet, out Ipv6HeaderChain chain) => Walk(packet, quoted: true, out chain);

    private static WireError Walk(ReadOnlySpan<byte> packet, bool quoted, out Ipv6HeaderChain chain)
    {
        chain = new Ipv6HeaderChain { FragmentHeaderOffset = -1, ProblemPointer = -1, Action = Ipv6OptionAction.Discard };
        if (packet.Length < Ipv6Header.Size) return WireError.Truncated;
        var next = (IpProtocol)packet[Ipv6Packet.Field.NextHeader];
        int nextField = Ipv6Packet.Field.NextHeader;   // where the Next Header naming `next` sits (a pointer target)
        int offset = Ipv6Header.Size;
        int count = 0;
        Ipv6FragmentHeader? fragment = null;
        int fragmentOffset = -1;
        ushort? routerAlert = null;
        while (true)
        {
            bool firstFragment = !quoted && fragment is { Offset: 0, MoreFragments: true };
            int length;
            switch (next)
            {
                case IpProtocol.HopByHopOptions:
                case IpProtocol.Ipv6DestinationOptions:
                    // RFC 8200 4.1: Hop-by-Hop only directly after the IPv6 header; elsewhere an unrecognised Next Header.
                    if (next == IpProtocol.HopByHopOptions && offset != Ipv6Header.Size)
                        return Problem(WireError.MisplacedHopByHop, Ipv6OptionAction.DiscardSendParameterProblem, Icmpv6ParameterProblemCode.UnrecognizedNextHeader, nextField, out chain);
                    if (count++ == MaximumExtensionHeaders) return TooLong(out chain);
                    if (packet.Length - offset < 2) return Cut(firstFragment, out chain);
                    length = (packet[offset + Field.HeaderExtensionLength] + 1) * 8;
                    if (length > packet.Length - offset) return Cut(firstFragment, out chain);
                    var optionError = WalkOptions(packet, offset, length, quoted, ref routerAlert, out var action, out int pointer, out var code);
                    if (optionError != WireError.None) return Problem(optionError, action, code, pointer, out chain);
                    break;
                case IpProtocol.Ipv6Routing:
                    if (count++ == MaximumExtensionHeaders) return TooLong(out chain);
                    if (packet.Length - offset < 8) return Cut(firstFragment, out chain);
                    length = (packet[offset + Field.HeaderExtensionLength] + 1) * 8;
                    if (length > packet.Length - offset) return Cut(firstFragment, out chain);
                    byte segmentsLeft = quoted ? (byte)0 : packet[offset + Field.SegmentsLeft];
                    // RFC 5095 3: type 0 is refused; RFC 8200 4.4: an unknown type is ignored only when Segments Left is 0.
                    if (packet[offset + Field.RoutingType] == 0 && !quoted)
                        return Problem(WireError.RoutingHeaderType0, segmentsLeft > 0 ? Ipv6OptionAction.DiscardSendParameterProblem : Ipv6OptionAction.Discard,
                            Icmpv6ParameterProblemCode.ErroneousHeaderField, offset + Field.RoutingType, out chain);
                    if (segmentsLeft > 0)
                        return Problem(WireError.UnrecognizedRoutingType, Ipv6OptionAction.DiscardSendParameterProblem,
                            Icmpv6ParameterProblemCode.ErroneousHeaderField, offset + Field.RoutingType, out chain);
                    break;
                case IpProtocol.Ipv6Fragment:
                    if (count++ == MaximumExtensionHeaders) return TooLong(out chain);
                    if (fragment is not null) return Problem(WireError.DuplicateFragmentHeader, Ipv6OptionAction.Discard, default, -1, out chain);
                    if (Ipv6FragmentHeader.TryParse(packet[offset..], out var header) != WireError.None) return Cut(false, out chain);
                    fragment = header;
                    fragmentOffset = offset;
                    length = Ipv6FragmentHeader.Size;
                    // RFC 8200 4.5: every fragment but the last carries a multiple of 8 bytes; the pointer is Payload Length.
                    if (!quoted && header.MoreFragments && (packet.Length - offset - length) % 8 != 0)
                        return Problem(WireError.BadFragmentLength, Ipv6OptionAction.DiscardSendParameterProblem,
                            Icmpv6ParameterProblemCode.ErroneousHeaderField, Ipv6Packet.Field.PayloadLength, out chain);
                    if (header.Offset > 0)
                        return Done(header.NextHeader, offset + length, out chain);
                    break;
                case IpProtocol.AuthenticationHeader:
                    if (count++ == MaximumExtensionHeaders) return TooLong(out chain);
                    if (packet.Length - offset < 2) return Cut(firstFragment, out chain);
                    length = (packet[offset + Field.HeaderExtensionLength] + 2) * 4;   // RFC 4302 2.2
                    if (length > packet.Length - offset) return Cut(firstFragment, out chain);
                    break;
                default:
                    // RFC 7112 5: a first fragment holds the upper-layer header too (its fixed part, for the protocols we read).
                    if (firstFragment && packet.Length - offset < MinimumUpperLayerHeader(next)) return Cut(true, out chain);
                    return Done(next, offset, out chain);
            }
            nextField = offset + Field.NextHeader;
            next = (IpProtocol)packet[nextField];
            offset += length;
        }

        WireError Done(IpProtocol protocol, int at, out Ipv6HeaderChain result)
        {
            result = new Ipv6HeaderChain
            {
                UpperLayerProtocol = protocol, UpperLayerOffset = at, ExtensionHeaderCount = count, Fragment = fragment,
                FragmentHeaderOffset = fragmentOffset, RouterAlert = routerAlert, Action = Ipv6OptionAction.Skip, ProblemPointer = -1,
            };
            return WireError.None;
        }

        WireError Problem(WireError error, Ipv6OptionAction action, Icmpv6ParameterProblemCode code, int pointer, out Ipv6HeaderChain result)
        {
            result = new Ipv6HeaderChain
            {
                ExtensionHeaderCount = count, Fragment = fragment, FragmentHeaderOffset = fragmentOffset, RouterAlert = routerAlert,
                Action = action, ProblemCode = code, ProblemPointer = pointer,
            };
            return error;
        }

        WireError TooLong(out Ipv6HeaderChain result)
        {
            count = MaximumExtensionHeaders;
            return Problem(WireError.HeaderChainTooLong, Ipv6OptionAction.Discard, default, -1, out result);
        }

        // A header runs past the end: in a first fragment that is RFC 7112's incomplete chain (code 3, pointer 0).
        WireError Cut(bool inFirstFragment, out Ipv6HeaderChain result) => inFirstFragment
            ? Problem(WireError.IncompleteHeaderChain, Ipv6OptionAction.DiscardSendParameterProblem, Icmpv6ParameterProblemCode.IncompleteHeaderChain, 0, out result)
            : Problem(WireError.Truncated, Ipv6OptionAction.Discard, default, -1, out result);
    }

    private static int MinimumUpperLayerHeader(IpProtocol protocol) => protocol switch
    {
        IpProtocol.Tcp => TcpHeader.MinimumSize,
        IpProtocol.Udp => UdpHeader.Size,
        IpProtocol.Icmpv6 => 4,
        _ => 0,
    };

    // RFC 8200 4.2: type-length-value options; Pad1 is a lone zero byte.
    private static WireError WalkOptions(ReadOnlySpan<byte> packet, int start, int length, bool quoted, ref ushort? routerAlert,
        out Ipv6OptionAction action, out int pointer, out Icmpv6ParameterProblemCode code)
    {
        action = Ipv6OptionAction.Skip;
        pointer = -1;
        code = default;
        int end = start + length;
        int p = start + Field.Options;
        while (p < end)
        {
            byte type = packet[p];
            if (type == Pad1Option) { p++; continue; }
            if (p + 1 >= end || p + 2 + packet[p + 1] > end)
            {
                // An option length past the header: the length field is the erroneous one.
                action = Ipv6OptionAction.DiscardSendParameterProblem;
                code = Icmpv6ParameterProblemCode.ErroneousHeaderField;
                pointer = Math.Min(p + 1, end - 1);
                return WireError.BadOption;
            }
            int dataLength = packet[p + 1];
            if (type == RouterAlertOption && dataLength == 2)
                routerAlert = BinaryPrimitives.ReadUInt16BigEndian(packet[(p + 2)..]);
            else if (type != PadNOption && type >> 6 != (int)Ipv6OptionAction.Skip && !quoted)
            {
                action = (Ipv6OptionAction)(type >> 6);
                code = Icmpv6ParameterProblemCode.UnrecognizedOption;
                pointer = action == Ipv6OptionAction.Discard ? -1 : p;
                return WireError.UnrecognizedOption;
            }
            p += 2 + dataLength;
        }
        return WireError.None;
    }
}
