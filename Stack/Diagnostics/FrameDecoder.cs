using System.Buffers.Binary;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Diagnostics;

/// <summary>
/// Reads a frame through the wire views, layer by layer, into a <see cref="DecodedFrame"/> for <see cref="FrameFormatter"/>.
/// A malformed layer stops the walk and is named with its reason; the layers before it stay.
/// </summary>
/// <remarks>
/// A frame cut by a capture's snap length is padded with zeros to its wire length, so the views check length fields
/// against the length the frame had; a header not wholly captured is <see cref="WireError.Truncated"/>, and a checksum
/// over bytes that were not captured is reported as unknown rather than wrong.
/// </remarks>
internal static class FrameDecoder
{
    /// <summary>The smallest EtherType (IEEE 802.3 clause 3.2.6): smaller values of the field are an 802.3 length.</summary>
    public const ushort MinimumEtherType = 0x0600;

    // Enough for a tagged frame carrying the largest IPv4 packet; longer "wire lengths" in a capture are not believed.
    private const int MaximumPaddedLength = EthernetHeader.TaggedSize + 4 * VlanTagSize + Ipv4Header.MaximumPacketSize;

    // One 802.1Q/802.1ad tag after the first: TCI and the next EtherType. More than this many tags are not walked.
    private const int VlanTagSize = 4;
    private const int MaximumVlanTags = 8;

    /// <summary>Decodes one frame. <paramref name="wireLength"/> is its length on the wire when a capture says so (0: the span's length).</summary>
    public static DecodedFrame Decode(ReadOnlySpan<byte> frame, long number, int wireLength = 0)
    {
        int captured = frame.Length;
        var decoded = new DecodedFrame { Number = number, Length = Math.Max(wireLength, captured), CapturedLength = captured };
        ReadOnlySpan<byte> bytes = frame;
        if (decoded.IsSnapped)
        {
            var padded = new byte[Math.Max(captured, Math.Min(decoded.Length, MaximumPaddedLength))];
            frame.CopyTo(padded);
            bytes = padded;
        }
        new Walk(decoded, captured).Ethernet(bytes);
        return decoded;
    }

    private readonly struct Walk(DecodedFrame decoded, int captured)
    {
        // True when fewer than `count` bytes from frame offset `offset` were captured (only possible for a snapped frame).
        private bool NotCaptured(int offset, int count) => offset + count > captured;

        public void Ethernet(ReadOnlySpan<byte> bytes)
        {
            if (decoded.IsSnapped && NotCaptured(0, EthernetHeader.Size)) { decoded.Fail("eth", WireError.Truncated, CapturedText()); return; }
            WireError error = EthernetFrame.TryParse(bytes, out var frame);
            if (error != WireError.None) { decoded.Fail("eth", error, $"{bytes.Length} bytes"); return; }
            if (NotCaptured(0, frame.HeaderLength)) { decoded.Fail("eth", WireError.Truncated, CapturedText()); return; }
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(bytes[(frame.HeaderLength - 2)..]);
            int offset = frame.HeaderLength;
            var vlans = new List<ushort>(2);
            if (frame.IsTagged) vlans.Add(frame.VlanId);
            // 802.1ad/QinQ: an 0x8100 tag inside an 0x88a8 one (or two 0x8100 tags, as older switches stack them).
            while (type is (ushort)EtherType.Vlan or (ushort)EtherType.ServiceVlan && vlans.Count < MaximumVlanTags)
            {
                if (bytes.Length < offset + VlanTagSize || NotCaptured(offset, VlanTagSize))
                {
                    decoded.Ethernet = new DecodedFrame.EthernetLayer(frame.Source, frame.Destination, type, frame.VlanId, frame.TagProtocol, vlans);
                    decoded.Fail("eth", WireError.Truncated, $"VLAN tag {vlans.Count + 1} not in the frame; " + CapturedText());
                    return;
                }
                vlans.Add((ushort)(BinaryPrimitives.ReadUInt16BigEndian(bytes[offset..]) & 0x0FFF));
                type = BinaryPrimitives.ReadUInt16BigEndian(bytes[(offset + 2)..]);
                offset += VlanTagSize;
            }
            decoded.Ethernet = new DecodedFrame.EthernetLayer(frame.Source, frame.Destination, type,
                frame.IsTagged ? frame.VlanId : null, frame.TagProtocol, vlans);
            var payload = bytes[offset..];
            switch ((EtherType)type)
            {
                case EtherType.Arp: Arp(payload, offset); break;
                case EtherType.Ipv4: Ipv4(payload, offset); break;
                case EtherType.Ipv6: Ipv6(payload, offset); break;
                default: break;   // unknown EtherTypes stop at the Ethernet layer, without an error
            }
        }

        // RFC 826 leaves the hardware and protocol open: the sizes say where each address is, so an ARP for other
        // hardware or protocols (or with other sizes) decodes as far as its sizes and the captured bytes allow.
        private void Arp(ReadOnlySpan<byte> bytes, int offset)
        {
            const int fixedSize = ArpPacket.Field.SenderHardware;
            if (bytes.Length < fixedSize || NotCaptured(offset, fixedSize))
            {
                decoded.Fail("arp", WireError.Truncated, decoded.IsSnapped ? CapturedText() : $"{bytes.Length} bytes, the fixed fields need {fixedSize}");
                return;
            }
            ushort hardwareType = BinaryPrimitives.ReadUInt16BigEndian(bytes[ArpPacket.Field.HardwareType..]);
            ushort protocolType = BinaryPrimitives.ReadUInt16BigEndian(bytes[ArpPacket.Field.ProtocolType..]);
            byte hardwareLength = bytes[ArpPacket.Field.HardwareLength], protocolLength = bytes[ArpPacket.Field.ProtocolLength];
            bool mac = hardwareType == ArpHeader.HardwareTypeEthernet && hardwareLength == MacAddress.Size;
            bool ipv4 = protocolType == (ushort)EtherType.Ipv4 && protocolLength == Ipv4Address.Size;
            int available = Math.Min(bytes.Length, captured - offset);
            int position = fixedSize;
            string? Address(ReadOnlySpan<byte> all, int length, bool known, bool isMac)
            {
                int start = position;
                position += length;
                if (position > available) return null;
                var address = all.Slice(start, length);
                if (known) return isMac ? MacAddress.Read(address).ToString() : Ipv4Address.Read(address).ToString();
                return string.Join(':', Convert.ToHexStringLower(address).Chunk(2).Select(pair => new string(pair)));
            }
            string? senderHardware = Address(bytes, hardwareLength, mac, true);
            string? senderProtocol = Address(bytes, protocolLength, ipv4, false);
            string? targetHardware = Address(bytes, hardwareLength, mac, true);
            string? targetProtocol = Address(bytes, protocolLength, ipv4, false);
            decoded.Arp = new DecodedFrame.ArpLayer(hardwareType, protocolType, hardwareLength, protocolLength,
                BinaryPrimitives.ReadUInt16BigEndian(bytes[ArpPacket.Field.Operation..]), senderHardware, senderProtocol, targetHardware, targetProtocol);
            if (position <= available) return;
            if (bytes.Length < position) decoded.Fail("arp", WireError.Truncated, $"{bytes.Length} bytes, addresses of {hardwareLength} and {protocolLength} bytes need {position}");
            else decoded.TruncatedLayers.Add("arp");
        }

        private void Ipv4(ReadOnlySpan<byte> bytes, int offset)
        {
            if (decoded.IsSnapped && NotCaptured(offset, Ipv4Header.MinimumSize)) { decoded.Fail("ipv4", WireError.Truncated, CapturedText()); return; }
            WireError error = Ipv4Packet.TryParse(bytes, out var ip);
            if (error != WireError.None) { decoded.Fail("ipv4", error, Ipv4Detail(bytes, error)); return; }
            // Options cut by the snap length: the fixed header is decoded, the checksum cannot be checked, nothing follows.
            bool optionsCut = NotCaptured(offset, ip.HeaderLength);
            decoded.Ipv4 = new DecodedFrame.Ipv4Layer(ip.Source, ip.Destination, ip.TimeToLive, (byte)ip.Protocol, ip.Identification,
                ip.DontFragment, ip.MoreFragments, ip.FragmentOffset, ip.TotalLength, ip.HeaderLength, optionsCut ? null : ip.IsChecksumValid);
            if (optionsCut) { decoded.TruncatedLayers.Add("ipv4"); return; }
            // RFC 791: a datagram is at most 65,535 bytes, so no fragment of one can end past that (the "ping of death").
            int fragmentEnd = ip.FragmentOffset + ip.Payload.Length;
            if (fragmentEnd > Ipv4Header.MaximumPacketSize)
            {
                decoded.Fail("ipv4", WireError.BadLength, $"fragment at offset {ip.FragmentOffset} with {ip.Payload.Length} bytes ends at byte {fragmentEnd}, past {Ipv4Header.MaximumPacketSize}");
                return;
            }
            if (ip.FragmentOffset != 0) return;   // later fragments carry no transport header
            int transport = offset + ip.HeaderLength;
            // Transport checksums are checked only on whole, wholly captured packets.
            bool checkable = !ip.MoreFragments && !NotCaptured(transport, ip.Payload.Length);
            switch (ip.Protocol)
            {
                case IpProtocol.Icmp: Icmp(ip.Payload, transport, checkable); break;
                case IpProtocol.Igmp: Igmp(ip.Payload, transport, checkable); break;
                case IpProtocol.Udp: Udp(ip.Payload, transport, checkable, ip.MoreFragments, new TransportAddresses(ip.Source, ip.Destination)); break;
                case IpProtocol.Tcp: Tcp(ip.Payload, transport, checkable, ip.MoreFragments, new TransportAddresses(ip.Source, ip.Destination)); break;
                default: break;
            }
        }

        private void Igmp(ReadOnlySpan<byte> bytes, int offset, bool checkable)
        {
            if (decoded.IsSnapped && NotCaptured(offset, IgmpMessage.MinimumSize)) { decoded.Fail("igmp", WireError.Truncated, CapturedText()); return; }
            WireError error = IgmpMessage.TryParse(bytes, out var igmp);
            if (error != WireError.None) { decoded.Fail("igmp", error, $"{bytes.Length} bytes: a message needs 8, a v3 query 12 and its sources"); return; }
            int? records = igmp.Type == IgmpType.V3MembershipReport ? System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]) : null;
            decoded.Igmp = new DecodedFrame.IgmpLayer((byte)igmp.Type, igmp.QueryVersion, igmp.MaximumResponseTenths, igmp.Group, records,
                checkable ? igmp.IsChecksumValid : null, bytes.Length);
        }

        private void Icmp(ReadOnlySpan<byte> bytes, int offset, bool checkable)
        {
            if (decoded.IsSnapped && NotCaptured(offset, IcmpHeader.Size)) { decoded.Fail("icmp", WireError.Truncated, CapturedText()); return; }
            WireError error = IcmpPacket.TryParse(bytes, out var icmp);
            if (error != WireError.None) { decoded.Fail("icmp", error, $"{bytes.Length} bytes, the header needs {IcmpHeader.Size}"); return; }
            bool echo = icmp.Type is IcmpType.EchoRequest or IcmpType.EchoReply;
            DecodedFrame.IcmpQuoteLayer? quoteLayer = null;
            WireError quoteError = WireError.None;
            if (icmp.IsError)
            {
                quoteError = icmp.TryGetQuote(out var quote);
                int quoteHeader = icmp.Data.Length - quote.Transport.Length;
                if (quoteError == WireError.None && !NotCaptured(offset + IcmpHeader.Size, quoteHeader + Math.Min(IcmpQuote.QuotedTransportSize, quote.Transport.Length)))
                {
                    bool ports = quote.Protocol is IpProtocol.Udp or IpProtocol.Tcp && quote.HasTransportHeader;
                    quoteLayer = new DecodedFrame.IcmpQuoteLayer(quote.Source, quote.Destination, (byte)quote.Protocol,
                        ports ? quote.SourcePort : null, ports ? quote.DestinationPort : null);
                }
            }
            decoded.Icmp = new DecodedFrame.IcmpLayer((byte)icmp.Type, icmp.Code, checkable ? icmp.IsChecksumValid : null, bytes.Length,
                echo ? icmp.Identifier : null, echo ? icmp.SequenceNumber : null, quoteLayer);
            // RFC 792: an error quotes the IP header and the first 64 bits of the datagram's data (all of it when shorter).
            if (quoteError != WireError.None && !decoded.IsSnapped)
                decoded.Fail("icmp", quoteError, $"the quoted datagram ({icmp.Data.Length} bytes) lacks an IPv4 header and the first 8 bytes of its data after it");
        }

        private void Ipv6(ReadOnlySpan<byte> bytes, int offset)
        {
            if (decoded.IsSnapped && NotCaptured(offset, Ipv6Header.Size)) { decoded.Fail("ipv6", WireError.Truncated, CapturedText()); return; }
            WireError error = Ipv6Packet.TryParse(bytes, out var ip);
            if (error != WireError.None) { decoded.Fail("ipv6", error, Ipv6Detail(bytes, error)); return; }
            WireError chainError = ip.TryWalkHeaders(out var chain);
            decoded.Ipv6 = new DecodedFrame.Ipv6Layer(ip.Source, ip.Destination, ip.HopLimit, (byte)ip.NextHeader, ip.PayloadLength, ip.FlowLabel,
                ip.TrafficClass, chainError == WireError.None ? (byte)chain.UpperLayerProtocol : null, chain.Fragment);
            if (chainError != WireError.None)
            {
                string detail = chain.ProblemPointer >= 0 ? $"{chain.Action}, parameter problem {chain.ProblemCode} at byte {chain.ProblemPointer}" : chain.Action.ToString();
                decoded.Fail("ipv6", chainError, $"{detail}; {chain.ExtensionHeaderCount} extension headers");
                return;
            }
            if (NotCaptured(offset, chain.UpperLayerOffset)) { decoded.Fail("ipv6", WireError.Truncated, "extension headers not captured; " + CapturedText()); return; }
            if (chain.IsLaterFragment) return;   // later fragments carry no upper-layer header
            int transport = offset + chain.UpperLayerOffset;
            var payload = ip.Bytes[chain.UpperLayerOffset..];
            bool more = chain.Fragment is { MoreFragments: true };
            // Upper-layer checksums are checked only on whole, wholly captured packets (an atomic fragment is whole, RFC 6946).
            bool checkable = !more && !NotCaptured(transport, payload.Length);
            switch (chain.UpperLayerProtocol)
            {
                case IpProtocol.Icmpv6: Icmpv6(payload, transport, checkable, ip.Source, ip.Destination); break;
                case IpProtocol.Udp: Udp(payload, transport, checkable, more, new TransportAddresses(ip.Source, ip.Destination)); break;
                case IpProtocol.Tcp: Tcp(payload, transport, checkable, more, new TransportAddresses(ip.Source, ip.Destination)); break;
                default: break;
            }
        }

        private void Icmpv6(ReadOnlySpan<byte> bytes, int offset, bool checkable, Ipv6Address source, Ipv6Address destination)
        {
            if (decoded.IsSnapped && NotCaptured(offset, Icmpv6Packet.MinimumSize)) { decoded.Fail("icmpv6", WireError.Truncated, CapturedText()); return; }
            WireError error = Icmpv6Packet.TryParse(bytes, out var icmp);
            if (error != WireError.None) { decoded.Fail("icmpv6", error, $"{bytes.Length} bytes"); return; }
            bool echo = icmp.Type is Icmpv6Type.EchoRequest or Icmpv6Type.EchoReply;
            Ipv6Address? target = null;
            WireError messageError = WireError.None;
            switch (icmp.Type)
            {
                case Icmpv6Type.NeighborSolicitation:
                    messageError = NeighborSolicitation.TryParse(bytes, out var ns);
                    if (messageError == WireError.None) target = ns.Target;
                    break;
                case Icmpv6Type.NeighborAdvertisement:
                    messageError = NeighborAdvertisement.TryParse(bytes, out var na);
                    if (messageError == WireError.None) target = na.Target;
                    break;
                case Icmpv6Type.Redirect:
                    messageError = Redirect.TryParse(bytes, out var redirect);
                    if (messageError == WireError.None) target = redirect.Target;
                    break;
                case Icmpv6Type.RouterSolicitation: messageError = RouterSolicitation.TryParse(bytes, out _); break;
                case Icmpv6Type.RouterAdvertisement: messageError = RouterAdvertisement.TryParse(bytes, out _); break;
                case Icmpv6Type.MulticastListenerQuery: messageError = MldQuery.TryParse(bytes, out _); break;
                case Icmpv6Type.MulticastListenerReport or Icmpv6Type.MulticastListenerDone: messageError = MldV1Message.TryParse(bytes, out _); break;
                case Icmpv6Type.MulticastListenerReportV2: messageError = MldReport.TryParse(bytes, out _); break;
                default: break;
            }
            DecodedFrame.Icmpv6QuoteLayer? quoteLayer = null;
            WireError quoteError = WireError.None;
            if (icmp.IsError)
            {
                quoteError = icmp.TryGetQuote(out var quote);
                if (quoteError == WireError.None && !NotCaptured(offset + Icmpv6Header.Size, Ipv6Header.Size))
                    quoteLayer = new DecodedFrame.Icmpv6QuoteLayer(quote.Source, quote.Destination, (byte)quote.Protocol,
                        quote.HasPorts ? quote.SourcePort : null, quote.HasPorts ? quote.DestinationPort : null);
            }
            decoded.Icmpv6 = new DecodedFrame.Icmpv6Layer((byte)icmp.Type, icmp.Code, checkable ? icmp.IsChecksumValid(source, destination) : null, bytes.Length,
                echo ? icmp.Identifier : null, echo ? icmp.SequenceNumber : null, icmp.Type == Icmpv6Type.PacketTooBig ? icmp.Mtu : null,
                icmp.Type == Icmpv6Type.ParameterProblem ? icmp.Pointer : null, target, quoteLayer);
            if (messageError != WireError.None && !decoded.IsSnapped) { decoded.Fail("icmpv6", messageError, $"{icmp.Type} of {bytes.Length} bytes"); return; }
            // RFC 4443 2.4 c: an error quotes as much of the invoking packet as fits, at least its IPv6 header.
            if (quoteError != WireError.None && !decoded.IsSnapped)
                decoded.Fail("icmpv6", quoteError, $"the quoted packet ({icmp.Data.Length} bytes) lacks an IPv6 header");
        }

        private void Udp(ReadOnlySpan<byte> bytes, int offset, bool checkable, bool firstFragment, TransportAddresses addresses)
        {
            if (decoded.IsSnapped && NotCaptured(offset, UdpHeader.Size)) { decoded.Fail("udp", WireError.Truncated, CapturedText()); return; }
            WireError error = UdpDatagram.TryParse(bytes, out var udp);
            if (error == WireError.BadLength && firstFragment && bytes.Length >= UdpHeader.Size)
            {
                // The Length of a fragmented datagram covers the later fragments too: only the header is read here.
                ushort length = BinaryPrimitives.ReadUInt16BigEndian(bytes[UdpDatagram.Field.Length..]);
                if (length >= UdpHeader.Size)
                {
                    decoded.Udp = new DecodedFrame.UdpLayer(BinaryPrimitives.ReadUInt16BigEndian(bytes[UdpDatagram.Field.SourcePort..]),
                        BinaryPrimitives.ReadUInt16BigEndian(bytes[UdpDatagram.Field.DestinationPort..]), length, null, length - UdpHeader.Size);
                    return;
                }
            }
            if (error != WireError.None)
            {
                string detail = bytes.Length < UdpHeader.Size ? $"{bytes.Length} bytes, the header needs {UdpHeader.Size}"
                    : $"length {BinaryPrimitives.ReadUInt16BigEndian(bytes[UdpDatagram.Field.Length..])}, {bytes.Length} bytes in the IPv4 payload";
                decoded.Fail("udp", error, detail);
                return;
            }
            bool whole = checkable && !NotCaptured(offset, udp.Length);
            decoded.Udp = new DecodedFrame.UdpLayer(udp.SourcePort, udp.DestinationPort, udp.Length,
                whole ? addresses.IsValid(udp) : null, udp.Payload.Length);
            // The application layers of whole datagrams; of one cut by the snap length, as far as the captured bytes go.
            if (firstFragment) return;
            int capturedPayload = Math.Clamp(captured - offset - UdpHeader.Size, 0, udp.Payload.Length);
            bool cut = capturedPayload < udp.Payload.Length;
            var payload = udp.Payload[..capturedPayload];
            if (udp.SourcePort == DnsMessage.ServerPort || udp.DestinationPort == DnsMessage.ServerPort)
                Dns(payload, cut);
            else if (udp.SourcePort is DhcpMessage.ServerPort or DhcpMessage.ClientPort || udp.DestinationPort is DhcpMessage.ServerPort or DhcpMessage.ClientPort)
                Dhcp(payload, cut);
        }

        private void Tcp(ReadOnlySpan<byte> bytes, int offset, bool checkable, bool firstFragment, TransportAddresses addresses)
        {
            if (decoded.IsSnapped && NotCaptured(offset, TcpHeader.MinimumSize)) { decoded.Fail("tcp", WireError.Truncated, CapturedText()); return; }
            WireError error = TcpSegment.TryParse(bytes, out var tcp);
            int dataOffset = bytes.Length >= TcpHeader.MinimumSize ? (bytes[TcpSegment.Field.DataOffset] >> 4) * 4 : 0;
            if (error == WireError.BadHeaderLength && firstFragment && dataOffset > bytes.Length)
            {
                // A first fragment that ends inside the TCP header (a SYN's 40 bytes split across fragments): the fixed
                // header is here, the options as far as they go, the rest in the next fragment.
                decoded.Tcp = PartialTcp(bytes, bytes.Length);
                return;
            }
            if (error != WireError.None)
            {
                string detail = bytes.Length < TcpHeader.MinimumSize ? $"{bytes.Length} bytes, the header needs {TcpHeader.MinimumSize}"
                    : $"data offset {(bytes[TcpSegment.Field.DataOffset] >> 4) * 4} bytes, {bytes.Length} bytes in the IPv4 payload";
                decoded.Fail("tcp", error, detail);
                return;
            }
            if (NotCaptured(offset, tcp.HeaderLength))
            {
                // Options cut by the snap length: the fixed header and the options that were captured whole.
                decoded.Tcp = PartialTcp(bytes, captured - offset);
                decoded.TruncatedLayers.Add("tcp");
                return;
            }
            WireError optionError = TcpOptions.TryParse(tcp.Options, out var options);
            decoded.Tcp = new DecodedFrame.TcpLayer(tcp.SourcePort, tcp.DestinationPort, tcp.SequenceNumber, tcp.AcknowledgmentNumber,
                (ushort)tcp.Flags, tcp.WindowSize, tcp.HeaderLength, tcp.Payload.Length,
                checkable ? addresses.IsValid(tcp) : null, optionError == WireError.None ? options : null);
            // The fixed header is printed; a malformed option (RFC 9293 3.2: length 0, 1 or past the header) is the error.
            if (optionError != WireError.None) { decoded.Fail("tcp", optionError, $"options area of {tcp.Options.Length} bytes: {Convert.ToHexStringLower(tcp.Options)}"); return; }

            // DNS over TCP: a two-byte length, then the message (RFC 1035 4.2.2). A message that continues in later
            // segments is not decoded here (decode reads each frame alone), and is not an error.
            var payload = tcp.Payload;
            if ((tcp.SourcePort == DnsMessage.ServerPort || tcp.DestinationPort == DnsMessage.ServerPort)
                && checkable && payload.Length >= 2)
            {
                int length = BinaryPrimitives.ReadUInt16BigEndian(payload);
                if (payload.Length >= 2 + length) Dns(payload.Slice(2, length));
            }
        }

        // The fixed TCP header from `available` bytes (at least 20), with the options that lie wholly inside them.
        private static DecodedFrame.TcpLayer PartialTcp(ReadOnlySpan<byte> bytes, int available)
        {
            var header = bytes[..Math.Min(available, (bytes[TcpSegment.Field.DataOffset] >> 4) * 4)];
            var options = header[TcpSegment.Field.Options..];
            int whole = 0;
            while (whole < options.Length)
            {
                byte kind = options[whole];
                if (kind == (byte)TcpOptionKind.EndOfOptionList) break;
                if (kind == (byte)TcpOptionKind.NoOperation) { whole++; continue; }
                if (whole + 1 >= options.Length || options[whole + 1] < 2 || whole + options[whole + 1] > options.Length) break;
                whole += options[whole + 1];
            }
            TcpOptions? parsed = TcpOptions.TryParse(options[..whole], out var read) == WireError.None ? read : null;
            return new DecodedFrame.TcpLayer(BinaryPrimitives.ReadUInt16BigEndian(bytes[TcpSegment.Field.SourcePort..]),
                BinaryPrimitives.ReadUInt16BigEndian(bytes[TcpSegment.Field.DestinationPort..]),
                BinaryPrimitives.ReadUInt32BigEndian(bytes[TcpSegment.Field.SequenceNumber..]),
                BinaryPrimitives.ReadUInt32BigEndian(bytes[TcpSegment.Field.AcknowledgmentNumber..]),
                (ushort)((bytes[TcpSegment.Field.DataOffset] & 1) << 8 | bytes[TcpSegment.Field.Flags]),
                BinaryPrimitives.ReadUInt16BigEndian(bytes[TcpSegment.Field.WindowSize..]),
                (bytes[TcpSegment.Field.DataOffset] >> 4) * 4, 0, null, parsed);
        }

        // `cut`: the message was cut by the snap length; it decodes as far as the captured bytes go and is marked truncated.
        private void Dns(ReadOnlySpan<byte> bytes, bool cut = false)
        {
            WireError error = DnsMessage.TryParse(bytes, out var message);
            if (error != WireError.None && cut) return;   // not even the header was captured
            if (error != WireError.None) { decoded.Fail("dns", error, $"{bytes.Length} bytes, the header needs {DnsHeader.Size}"); return; }
            var questions = new List<DecodedFrame.DnsQuestionEntry>();
            var answers = new List<DecodedFrame.DnsAnswerEntry>();
            var reader = message.GetReader();
            while (reader.TryReadQuestion(out var question))
                questions.Add(new DecodedFrame.DnsQuestionEntry(question.Name.ToString(), (ushort)question.Type));
            if (reader.Error == WireError.None)
            {
                while (reader.TryReadRecord(out var record))
                    if (reader.Section == DnsSection.Answer)
                        answers.Add(new DecodedFrame.DnsAnswerEntry(record.Name.ToString(), (ushort)record.Type, record.TimeToLive, DnsData(record)));
            }
            decoded.Dns = new DecodedFrame.DnsLayer(message.Id, message.IsResponse, (byte)message.Opcode, (byte)message.ResponseCode, questions, answers);
            if (cut) { decoded.TruncatedLayers.Add("dns"); return; }
            if (reader.Error != WireError.None)
                decoded.Fail("dns", reader.Error, $"in the {SectionName(message.Opcode, reader.Section)} section, at byte {reader.Position} of {bytes.Length}");
        }

        // RFC 2136 2: an UPDATE's sections are the zone, the prerequisites, the updates and the additional records.
        private static string SectionName(DnsOpcode opcode, DnsSection section) => opcode == DnsOpcode.Update
            ? section switch { DnsSection.Question => "zone", DnsSection.Answer => "prerequisite", DnsSection.Authority => "update", _ => "additional" }
            : section.ToString().ToLowerInvariant();

        // The text form the issue names: dotted A, RFC 5952 AAAA, the target name of CNAME/PTR/NS, "pref name" for MX,
        // the strings joined by a space for TXT, and hex for every other type.
        private static string DnsData(DnsRecordView record)
        {
            if (record.Data.IsEmpty) return "";   // an UPDATE's prerequisite or deletion (RFC 2136 2.4, 2.5)
            switch (record.Type)
            {
                case DnsType.A: return record.Address.ToString();
                case DnsType.Aaaa: return new System.Net.IPAddress(record.Ipv6Address).ToString();
                case DnsType.Cname or DnsType.Ptr or DnsType.Ns: return record.DomainName.ToString();
                case DnsType.Mx: return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{record.Preference} {record.MailExchange.ToString()}");
                case DnsType.Txt:
                    var strings = new List<string>();
                    foreach (var text in record.Text) strings.Add(System.Text.Encoding.Latin1.GetString(text));
                    return string.Join(' ', strings);
                default: return Convert.ToHexStringLower(record.Data);
            }
        }

        private void Dhcp(ReadOnlySpan<byte> bytes, bool cut = false)
        {
            WireError error = DhcpMessage.TryParse(bytes, out var dhcp);
            if (error != WireError.None && cut) return;   // the fixed fields were not all captured
            if (cut) decoded.TruncatedLayers.Add("dhcp");
            if (error != WireError.None)
            {
                string detail = error == WireError.Truncated ? $"{bytes.Length} bytes, the fixed fields and cookie need {DhcpMessage.BootpSize + 4}" : $"{bytes.Length} bytes";
                decoded.Fail("dhcp", error, detail);
                return;
            }
            string chaddr = dhcp.ClientMacAddress is MacAddress mac ? mac.ToString() : Convert.ToHexStringLower(dhcp.ClientHardwareAddress);
            decoded.Dhcp = new DecodedFrame.DhcpLayer((byte)dhcp.Operation, dhcp.TransactionId, (byte?)dhcp.MessageType, dhcp.ClientAddress,
                dhcp.YourAddress, dhcp.ServerAddress, chaddr, dhcp.SubnetMask, Addresses(dhcp.Routers), Addresses(dhcp.DomainNameServers),
                dhcp.LeaseTime, dhcp.ServerIdentifier, dhcp.RequestedIpAddress);
        }

        private static List<Ipv4Address> Addresses(DhcpAddressList list)
        {
            var addresses = new List<Ipv4Address>(list.Count);
            for (int i = 0; i < list.Count; i++) addresses.Add(list[i]);
            return addresses;
        }

        private string CapturedText() => $"{captured} of {decoded.Length} bytes captured";

        private static string Ipv6Detail(ReadOnlySpan<byte> bytes, WireError error)
        {
            if (error == WireError.Truncated) return $"{bytes.Length} bytes, the header needs {Ipv6Header.Size}";
            if (error == WireError.BadVersion) return $"version {bytes[Ipv6Packet.Field.VersionClassFlow] >> 4}";
            return $"payload length {BinaryPrimitives.ReadUInt16BigEndian(bytes[Ipv6Packet.Field.PayloadLength..])}, next header {bytes[Ipv6Packet.Field.NextHeader]}, {bytes.Length} bytes";
        }

        private static string Ipv4Detail(ReadOnlySpan<byte> bytes, WireError error)
        {
            if (error == WireError.Truncated) return $"{bytes.Length} bytes, the header needs {Ipv4Header.MinimumSize}";
            int version = bytes[Ipv4Packet.Field.VersionIhl] >> 4;
            int headerLength = (bytes[Ipv4Packet.Field.VersionIhl] & 0xF) * 4;
            int totalLength = BinaryPrimitives.ReadUInt16BigEndian(bytes[Ipv4Packet.Field.TotalLength..]);
            return error switch
            {
                WireError.BadVersion => $"version {version}",
                WireError.BadHeaderLength => $"header length {headerLength}, {bytes.Length} bytes",
                _ => $"total length {totalLength}, header length {headerLength}, {bytes.Length} bytes",
            };
        }
    }
}
