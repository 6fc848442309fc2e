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
    // Enough for a tagged frame carrying the largest IPv4 packet; longer "wire lengths" in a capture are not believed.
    private const int MaximumPaddedLength = EthernetHeader.TaggedSize + Ipv4Header.MaximumPacketSize;

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
            decoded.Ethernet = new DecodedFrame.EthernetLayer(frame.Source, frame.Destination, type,
                frame.IsTagged ? frame.VlanId : null, frame.TagProtocol);
            int offset = frame.HeaderLength;
            switch (frame.EtherType)
            {
                case EtherType.Arp: Arp(frame.Payload, offset); break;
                case EtherType.Ipv4: Ipv4(frame.Payload, offset); break;
                default: break;   // IPv6 and unknown EtherTypes stop at the Ethernet layer, without an error
            }
        }

        private void Arp(ReadOnlySpan<byte> bytes, int offset)
        {
            if (decoded.IsSnapped && NotCaptured(offset, ArpHeader.Size)) { decoded.Fail("arp", WireError.Truncated, CapturedText()); return; }
            WireError error = ArpPacket.TryParse(bytes, out var arp);
            if (error != WireError.None) { decoded.Fail("arp", error, ArpDetail(bytes, error)); return; }
            decoded.Arp = new DecodedFrame.ArpLayer((ushort)arp.Operation, arp.SenderHardwareAddress, arp.SenderProtocolAddress,
                arp.TargetHardwareAddress, arp.TargetProtocolAddress);
        }

        private void Ipv4(ReadOnlySpan<byte> bytes, int offset)
        {
            if (decoded.IsSnapped && NotCaptured(offset, Ipv4Header.MinimumSize)) { decoded.Fail("ipv4", WireError.Truncated, CapturedText()); return; }
            WireError error = Ipv4Packet.TryParse(bytes, out var ip);
            if (error != WireError.None) { decoded.Fail("ipv4", error, Ipv4Detail(bytes, error)); return; }
            if (NotCaptured(offset, ip.HeaderLength)) { decoded.Fail("ipv4", WireError.Truncated, "options not captured; " + CapturedText()); return; }
            decoded.Ipv4 = new DecodedFrame.Ipv4Layer(ip.Source, ip.Destination, ip.TimeToLive, (byte)ip.Protocol, ip.Identification,
                ip.DontFragment, ip.MoreFragments, ip.FragmentOffset, ip.TotalLength, ip.HeaderLength, ip.IsChecksumValid);
            if (ip.FragmentOffset != 0) return;   // later fragments carry no transport header
            int transport = offset + ip.HeaderLength;
            // Transport checksums are checked only on whole, wholly captured packets.
            bool checkable = !ip.MoreFragments && !NotCaptured(transport, ip.Payload.Length);
            switch (ip.Protocol)
            {
                case IpProtocol.Icmp: Icmp(ip.Payload, transport, checkable); break;
                case IpProtocol.Udp: Udp(ip.Payload, transport, checkable, ip.MoreFragments, ip.Source, ip.Destination); break;
                default: break;
            }
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
                if (quoteError == WireError.None && !NotCaptured(offset + IcmpHeader.Size, icmp.Data.Length - quote.Transport.Length + 8))
                {
                    bool ports = quote.Protocol is IpProtocol.Udp or IpProtocol.Tcp;
                    quoteLayer = new DecodedFrame.IcmpQuoteLayer(quote.Source, quote.Destination, (byte)quote.Protocol,
                        ports ? quote.SourcePort : null, ports ? quote.DestinationPort : null);
                }
            }
            decoded.Icmp = new DecodedFrame.IcmpLayer((byte)icmp.Type, icmp.Code, checkable ? icmp.IsChecksumValid : null, bytes.Length,
                echo ? icmp.Identifier : null, echo ? icmp.SequenceNumber : null, quoteLayer);
            // RFC 792: an error quotes the IP header and the first 64 bits of the datagram's data.
            if (quoteError != WireError.None && !decoded.IsSnapped)
                decoded.Fail("icmp", quoteError, $"the quoted datagram ({icmp.Data.Length} bytes) lacks an IPv4 header and 8 bytes after it");
        }

        private void Udp(ReadOnlySpan<byte> bytes, int offset, bool checkable, bool firstFragment, Ipv4Address source, Ipv4Address destination)
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
            bool? checksumOk = checkable && !NotCaptured(offset, udp.Length) ? udp.IsChecksumValid(source, destination) : null;
            decoded.Udp = new DecodedFrame.UdpLayer(udp.SourcePort, udp.DestinationPort, udp.Length, checksumOk, udp.Payload.Length);
        }

        private string CapturedText() => $"{captured} of {decoded.Length} bytes captured";

        private static string ArpDetail(ReadOnlySpan<byte> bytes, WireError error)
        {
            if (error != WireError.Unsupported) return $"{bytes.Length} bytes, the packet needs {ArpHeader.Size}";
            return $"hardware type {BinaryPrimitives.ReadUInt16BigEndian(bytes[ArpPacket.Field.HardwareType..])} length {bytes[ArpPacket.Field.HardwareLength]}, " +
                   $"protocol type 0x{BinaryPrimitives.ReadUInt16BigEndian(bytes[ArpPacket.Field.ProtocolType..]):x4} length {bytes[ArpPacket.Field.ProtocolLength]}";
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
