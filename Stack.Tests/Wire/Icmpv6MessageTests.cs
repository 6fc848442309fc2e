using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>
/// The four habits for ICMPv6, Neighbour Discovery and MLD on real bytes: kernel-ipv6.pcap (NS, NA, RS, MLDv2 report,
/// echo, port unreachable) and crafted-ipv6.pcap (RA with every option a host reads, redirect, MLD queries v1 and v2, MLDv1
/// report and done, packet too big, time exceeded, parameter problem), built by craft.py and checked by tshark.
/// </summary>
public class Icmpv6MessageTests
{
    private static readonly Ipv6Address LinkLocal1 = Ipv6Address.Parse("fe80::ff:fe00:1"), LinkLocal2 = Ipv6Address.Parse("fe80::ff:fe00:2");
    private static readonly Ipv6Address Global1 = Ipv6Address.Parse("2001:db8::1"), Global2 = Ipv6Address.Parse("2001:db8::2");
    private static readonly MacAddress Mac1 = MacAddress.Parse("02:00:00:00:00:01"), Mac2 = MacAddress.Parse("02:00:00:00:00:02");

    // The ICMPv6 message of a frame, after the IPv6 header and any extension headers.
    private static byte[] Message(byte[] frame, out Ipv6Address source, out Ipv6Address destination)
    {
        Assert.That(Ipv6Packet.TryParse(Ipv6Frames.Packet(frame), out var ip), Is.EqualTo(WireError.None));
        Assert.That(ip.TryWalkHeaders(out var chain), Is.EqualTo(WireError.None));
        (source, destination) = (ip.Source, ip.Destination);
        return ip.Bytes[chain.UpperLayerOffset..].ToArray();
    }

    // Writes a message with `write`, fills the checksum, and compares it with the captured one.
    private static void AssertEmits(byte[] expected, Ipv6Address source, Ipv6Address destination, Func<byte[], int> write)
    {
        var buffer = new byte[expected.Length];
        Assert.That(write(buffer), Is.EqualTo(expected.Length));
        Icmpv6Header.FillChecksum(buffer, source, destination);
        Assert.That(buffer, Is.EqualTo(expected));
    }

    [Test]
    public void Echo_and_errors_deconstruct_and_round_trip()
    {
        byte[] echo = Message(Ipv6Frames.Kernel(18), out var s, out var d);
        Assert.That(Icmpv6Packet.TryParse(echo, out var reply), Is.EqualTo(WireError.None));
        Assert.That((reply.Type, reply.Identifier, reply.SequenceNumber, reply.IsError, reply.IsChecksumValid(s, d)), Is.EqualTo((Icmpv6Type.EchoReply, (ushort)0x1578, (ushort)1, false, true)));
        Assert.That(Icmpv6Header.From(reply), Is.EqualTo(Icmpv6Header.Echo(Icmpv6Type.EchoReply, 0x1578, 1)));

        byte[] unreachable = Message(Ipv6Frames.Kernel(32), out s, out d);
        Assert.That(Icmpv6Packet.TryParse(unreachable, out var port), Is.EqualTo(WireError.None));
        Assert.That((port.Type, port.Code, port.IsError, port.IsChecksumValid(s, d)), Is.EqualTo((Icmpv6Type.DestinationUnreachable, (byte)4, true, true)));
        Assert.That(port.TryGetQuote(out var quote), Is.EqualTo(WireError.None));
        Assert.That((quote.Source, quote.Destination, quote.Protocol, quote.SourcePort, quote.DestinationPort), Is.EqualTo((Global1, Global2, IpProtocol.Udp, (ushort)40299, (ushort)9)));
        var header = new byte[unreachable.Length];
        unreachable.CopyTo(header, 0);
        new Icmpv6Header(Icmpv6Type.DestinationUnreachable, 4).WriteTo(header);
        Icmpv6Header.FillChecksum(header, s, d);
        Assert.That(header, Is.EqualTo(unreachable));

        Assert.That(Icmpv6Packet.TryParse(Message(Ipv6Frames.Crafted(8), out _, out _), out var tooBig), Is.EqualTo(WireError.None));
        Assert.That(Icmpv6Header.From(tooBig), Is.EqualTo(Icmpv6Header.PacketTooBig(1280)));
        Assert.That(tooBig.TryGetQuote(out var cut), Is.EqualTo(WireError.None));
        Assert.That((cut.SourcePort, cut.DestinationPort), Is.EqualTo(((ushort)5000, (ushort)53)), "the quote is cut short of its payload length");

        Assert.That(Icmpv6Packet.TryParse(Message(Ipv6Frames.Crafted(10), out _, out _), out var problem), Is.EqualTo(WireError.None));
        Assert.That(Icmpv6Header.From(problem), Is.EqualTo(Icmpv6Header.ParameterProblem(Icmpv6ParameterProblemCode.UnrecognizedOption, 42)));
        Assert.That(problem.TryGetQuote(out var quoted), Is.EqualTo(WireError.None));
        Assert.That((quoted.Protocol, quoted.SourcePort), Is.EqualTo((IpProtocol.Udp, (ushort)6000)), "a quote's unknown option is read past, not judged");

        Assert.That(Icmpv6Packet.TryParse(Message(Ipv6Frames.Crafted(9), out _, out _), out var exceeded), Is.EqualTo(WireError.None));
        Assert.That(exceeded.TryGetQuote(out var echoQuote), Is.EqualTo(WireError.None));
        Assert.That((exceeded.Type, echoQuote.Protocol, echoQuote.HasPorts), Is.EqualTo((Icmpv6Type.TimeExceeded, IpProtocol.Icmpv6, false)));
    }

    [Test]
    public void Neighbor_solicitation_four_habits()
    {
        byte[] message = Message(Ipv6Frames.Kernel(15), out var s, out var d);
        Assert.That(NeighborSolicitation.TryParse(message, out var ns), Is.EqualTo(WireError.None));
        Assert.That(ns.Target, Is.EqualTo(Global2));
        Assert.That(NdOptionReader.TryFind(ns.Options, NdOptionType.SourceLinkLayerAddress, out var slla), Is.True);
        Assert.That(slla.TryGetLinkLayerAddress(out var mac), Is.EqualTo(WireError.None));
        Assert.That(mac, Is.EqualTo(Mac1));
        Assert.That(NeighborSolicitationHeader.From(ns), Is.EqualTo(new NeighborSolicitationHeader(Global2)));
        AssertEmits(message, s, d, buffer => new NeighborSolicitationHeader(Global2).WriteTo(buffer)
            + NdOptionWriter.WriteLinkLayerAddress(buffer.AsSpan(NeighborSolicitationHeader.Size), NdOptionType.SourceLinkLayerAddress, Mac1));

        // A DAD probe (kernel frame 3) from :: carries no link-layer address, only Linux's nonce (type 14, RFC 7527),
        // which the reader returns as a type it has no name for.
        byte[] dad = Message(Ipv6Frames.Kernel(3), out s, out d);
        Assert.That(s, Is.EqualTo(Ipv6Address.Unspecified));
        Assert.That(NeighborSolicitation.TryParse(dad, out var probe), Is.EqualTo(WireError.None));
        var options = probe.GetOptions();
        Assert.That((probe.Target, options.Read(), options.Current.Type, options.Current.Data.Length, options.Read()), Is.EqualTo((LinkLocal1, true, (NdOptionType)14, 6, false)));
        Assert.That(NdOptionReader.TryFind(probe.Options, NdOptionType.SourceLinkLayerAddress, out _), Is.False);
        byte[] nonce = probe.Options.ToArray();
        AssertEmits(dad, s, d, buffer =>
        {
            int n = new NeighborSolicitationHeader(LinkLocal1).WriteTo(buffer);
            nonce.CopyTo(buffer, n);
            return n + nonce.Length;
        });
    }

    [Test]
    public void Neighbor_advertisement_four_habits()
    {
        byte[] message = Message(Ipv6Frames.Kernel(16), out var s, out var d);
        Assert.That(NeighborAdvertisement.TryParse(message, out var na), Is.EqualTo(WireError.None));
        var expected = new NeighborAdvertisementHeader(Global2, Router: false, Solicited: true, Override: true);
        Assert.That(NeighborAdvertisementHeader.From(na), Is.EqualTo(expected));
        Assert.That(NdOptionReader.TryFind(na.Options, NdOptionType.TargetLinkLayerAddress, out var tlla), Is.True);
        Assert.That(tlla.TryGetLinkLayerAddress(out var mac), Is.EqualTo(WireError.None));
        Assert.That(mac, Is.EqualTo(Mac2));
        AssertEmits(message, s, d, buffer => expected.WriteTo(buffer)
            + NdOptionWriter.WriteLinkLayerAddress(buffer.AsSpan(NeighborAdvertisementHeader.Size), NdOptionType.TargetLinkLayerAddress, Mac2));
    }

    [Test]
    public void Router_solicitation_four_habits()
    {
        byte[] message = Message(Ipv6Frames.Kernel(10), out var s, out var d);
        Assert.That(RouterSolicitation.TryParse(message, out var rs), Is.EqualTo(WireError.None));
        var reader = rs.GetOptions();
        Assert.That(reader.Read(), Is.True);
        Assert.That(reader.Current.TryGetLinkLayerAddress(out var mac), Is.EqualTo(WireError.None));
        Assert.That((reader.Current.Type, mac, reader.Read()), Is.EqualTo((NdOptionType.SourceLinkLayerAddress, Mac1, false)));
        AssertEmits(message, s, d, buffer => new RouterSolicitationHeader().WriteTo(buffer)
            + NdOptionWriter.WriteLinkLayerAddress(buffer.AsSpan(RouterSolicitationHeader.Size), NdOptionType.SourceLinkLayerAddress, Mac1));
    }

    [Test]
    public void Router_advertisement_and_its_options_four_habits()
    {
        byte[] message = Message(Ipv6Frames.Crafted(1), out var s, out var d);
        Assert.That(RouterAdvertisement.TryParse(message, out var ra), Is.EqualTo(WireError.None));
        var header = new RouterAdvertisementHeader(64, ManagedAddressConfiguration: false, OtherConfiguration: true, 1800, 30000, 1000);
        Assert.That(RouterAdvertisementHeader.From(ra), Is.EqualTo(header));
        var prefix = new NdPrefixInformation(64, OnLink: true, Autonomous: true, 86400, 14400, Ipv6Address.Parse("2001:db8:1::"));
        var reader = ra.GetOptions();
        var seen = new List<NdOptionType>();
        while (reader.Read())
        {
            var option = reader.Current;
            seen.Add(option.Type);
            switch (option.Type)
            {
                case NdOptionType.SourceLinkLayerAddress:
                    Assert.That(option.TryGetLinkLayerAddress(out var mac), Is.EqualTo(WireError.None));
                    Assert.That(mac, Is.EqualTo(MacAddress.Parse("02:00:00:00:00:0a")));
                    break;
                case NdOptionType.Mtu:
                    Assert.That(option.TryGetMtu(out uint mtu), Is.EqualTo(WireError.None));
                    Assert.That(mtu, Is.EqualTo(1480u));
                    break;
                case NdOptionType.PrefixInformation:
                    Assert.That(option.TryGetPrefixInformation(out var p), Is.EqualTo(WireError.None));
                    Assert.That(p, Is.EqualTo(prefix));
                    break;
                case NdOptionType.RecursiveDnsServer:
                    Assert.That(option.TryGetRecursiveDnsServers(out uint lifetime, out var servers), Is.EqualTo(WireError.None));
                    Assert.That((lifetime, servers.Count, servers[0]), Is.EqualTo((600u, 1, Ipv6Address.Parse("2001:db8:1::53"))));
                    break;
                case NdOptionType.DnsSearchList:
                    Assert.That(option.TryGetDnsSearchList(out uint life, out var names), Is.EqualTo(WireError.None));
                    Assert.That(names.Read(out var name), Is.True);
                    Assert.That((life, name.ToString(), names.Read(out _), names.Error), Is.EqualTo((600u, "example.test", false, WireError.None)));
                    break;
            }
        }
        Assert.That(reader.Error, Is.EqualTo(WireError.None));
        Assert.That(seen, Is.EqualTo(new[] { NdOptionType.SourceLinkLayerAddress, NdOptionType.Mtu, NdOptionType.PrefixInformation, NdOptionType.RecursiveDnsServer, NdOptionType.DnsSearchList }));
        AssertEmits(message, s, d, buffer =>
        {
            var span = buffer.AsSpan();
            int n = header.WriteTo(span);
            n += NdOptionWriter.WriteLinkLayerAddress(span[n..], NdOptionType.SourceLinkLayerAddress, MacAddress.Parse("02:00:00:00:00:0a"));
            n += NdOptionWriter.WriteMtu(span[n..], 1480);
            n += prefix.WriteTo(span[n..]);
            n += NdOptionWriter.WriteRecursiveDnsServers(span[n..], 600, [Ipv6Address.Parse("2001:db8:1::53")]);
            Assert.That(NdOptionWriter.TryWriteDnsSearchList(span[n..], 600, ["example.test"], out int written), Is.EqualTo(WireError.None));
            return n + written;
        });
    }

    [Test]
    public void Redirect_four_habits()
    {
        byte[] message = Message(Ipv6Frames.Crafted(2), out var s, out var d);
        Assert.That(Redirect.TryParse(message, out var redirect), Is.EqualTo(WireError.None));
        var header = new RedirectHeader(Ipv6Address.Parse("fe80::2"), Ipv6Address.Parse("2001:db8:2::7"));
        Assert.That(RedirectHeader.From(redirect), Is.EqualTo(header));
        AssertEmits(message, s, d, buffer => header.WriteTo(buffer)
            + NdOptionWriter.WriteLinkLayerAddress(buffer.AsSpan(RedirectHeader.Size), NdOptionType.TargetLinkLayerAddress, MacAddress.Parse("02:00:00:00:00:14")));
    }

    [Test]
    public void Nd_messages_with_bad_options_or_codes_are_errors()
    {
        byte[] ns = Message(Ipv6Frames.Kernel(15), out _, out _);
        byte[] zero = (byte[])ns.Clone();
        zero[25] = 0;
        Assert.That(NeighborSolicitation.TryParse(zero, out _), Is.EqualTo(WireError.BadOption), "RFC 4861 4.6: option length 0");
        byte[] past = (byte[])ns.Clone();
        past[25] = 2;
        Assert.That(NeighborSolicitation.TryParse(past, out _), Is.EqualTo(WireError.BadOption), "option past the end");
        byte[] code = (byte[])ns.Clone();
        code[1] = 1;
        Assert.That(NeighborSolicitation.TryParse(code, out _), Is.EqualTo(WireError.BadMessage), "RFC 4861 7.1.1: code 0");
        Assert.That(NeighborSolicitation.TryParse(ns[..23], out _), Is.EqualTo(WireError.Truncated));
        Assert.That(RouterAdvertisement.TryParse(ns, out _), Is.EqualTo(WireError.BadMessage), "another type");
    }

    [Test]
    public void Mld_report_v2_four_habits()
    {
        byte[] message = Message(Ipv6Frames.Kernel(1), out var s, out var d);
        Assert.That(MldReport.TryParse(message, out var report), Is.EqualTo(WireError.None));
        Assert.That(MldReportHeader.From(report), Is.EqualTo(new MldReportHeader(1)));
        var records = report.GetRecords();
        Assert.That(records.Read(), Is.True);
        var expected = new MldAddressRecordHeader(MldRecordType.ChangeToExcludeMode, Ipv6Address.Parse("ff02::1:ff00:1"));
        Assert.That(MldAddressRecordHeader.From(records.Current), Is.EqualTo(expected));
        Assert.That((records.Read(), records.Error), Is.EqualTo((false, WireError.None)));
        AssertEmits(message, s, d, buffer => new MldReportHeader(1).WriteTo(buffer) + expected.WriteTo(buffer.AsSpan(MldReportHeader.Size)));
        byte[] overrun = (byte[])message.Clone();
        overrun[7] = 2;
        Assert.That(MldReport.TryParse(overrun, out _), Is.EqualTo(WireError.BadLength), "a record count past the end");
    }

    [Test]
    public void Mld_queries_of_both_versions_four_habits()
    {
        byte[] general = Message(Ipv6Frames.Crafted(3), out var s, out var d);
        Assert.That(MldQuery.TryParse(general, out var query), Is.EqualTo(WireError.None));
        var header = new MldQueryHeader(10000, Ipv6Address.Unspecified);
        Assert.That((query.IsVersion1, query.MaximumResponseDelay, query.QueryInterval), Is.EqualTo((false, 10000u, 125u)));
        Assert.That(MldQueryHeader.From(query), Is.EqualTo(header));
        AssertEmits(general, s, d, buffer => header.WriteTo(buffer));

        byte[] specific = Message(Ipv6Frames.Crafted(4), out s, out d);
        Assert.That(MldQuery.TryParse(specific, out var sourceQuery), Is.EqualTo(WireError.None));
        // RFC 3810 5.1.3: 0x8a00 is mantissa 0xa00, exponent 0: (0x1a00) << 3 ms. QQIC 0x90: (0x10) << 4 s.
        Assert.That((sourceQuery.MaximumResponseDelay, sourceQuery.QueryInterval, sourceQuery.SuppressRouterSideProcessing, sourceQuery.QuerierRobustnessVariable),
            Is.EqualTo((0x1a00u << 3, 0x10u << 4, true, (byte)2)));
        Assert.That((sourceQuery.MulticastAddress, sourceQuery.Sources.Count, sourceQuery.Sources[0]), Is.EqualTo((Ipv6Address.Parse("ff05::1:3"), 1, Ipv6Address.Parse("2001:db8::9"))));
        var specificHeader = MldQueryHeader.From(sourceQuery);
        AssertEmits(specific, s, d, buffer =>
        {
            int n = specificHeader.WriteTo(buffer);
            Ipv6Address.Parse("2001:db8::9").WriteTo(buffer.AsSpan(n));
            return n + Ipv6Address.Size;
        });

        byte[] v1 = Message(Ipv6Frames.Crafted(5), out s, out d);
        Assert.That(MldQuery.TryParse(v1, out var oldQuery), Is.EqualTo(WireError.None));
        Assert.That((oldQuery.IsVersion1, oldQuery.MaximumResponseDelay, oldQuery.Sources.Count), Is.EqualTo((true, 10000u, 0)));
        Assert.That(MldQuery.TryParse(general[..26], out _), Is.EqualTo(WireError.BadMessage), "RFC 3810 8.1: 25..27 bytes is no query");
    }

    [Test]
    public void Mld_v1_report_and_done_four_habits()
    {
        foreach (int frame in new[] { 6, 7 })
        {
            byte[] message = Message(Ipv6Frames.Crafted(frame), out var s, out var d);
            Assert.That(MldV1Message.TryParse(message, out var mld), Is.EqualTo(WireError.None));
            var expected = new MldV1Header(frame == 6 ? Icmpv6Type.MulticastListenerReport : Icmpv6Type.MulticastListenerDone, Ipv6Address.Parse("ff02::1:ff00:2"));
            Assert.That(MldV1Header.From(mld), Is.EqualTo(expected));
            AssertEmits(message, s, d, buffer => expected.WriteTo(buffer));
        }
    }

    [Test]
    public void Udp_and_tcp_checksums_over_the_ipv6_pseudo_header_match_the_kernels()
    {
        Assert.That(Ipv6Packet.TryParse(Ipv6Frames.Packet(Ipv6Frames.Kernel(33)), out var ip), Is.EqualTo(WireError.None));
        Assert.That(UdpDatagram.TryParse(ip.Payload, out var udp), Is.EqualTo(WireError.None));
        Assert.That(udp.IsChecksumValid(ip.Source, ip.Destination), Is.True);
        byte[] copy = ip.Payload.ToArray();
        UdpHeader.From(udp).WriteTo(copy);
        UdpHeader.FillChecksum(copy, ip.Source, ip.Destination);
        Assert.That(copy, Is.EqualTo(ip.Payload.ToArray()));
        byte[] zero = ip.Payload.ToArray();
        zero[6] = zero[7] = 0;
        Assert.That(UdpDatagram.TryParse(zero, out var none), Is.EqualTo(WireError.None));
        Assert.That(none.IsChecksumValid(ip.Source, ip.Destination), Is.False, "RFC 8200 8.1: a zero UDP checksum is invalid over IPv6");

        Assert.That(Ipv6Packet.TryParse(Ipv6Frames.Packet(Ipv6Frames.Kernel(39)), out var syn), Is.EqualTo(WireError.None));
        Assert.That(TcpSegment.TryParse(syn.Payload, out var tcp), Is.EqualTo(WireError.None));
        Assert.That(tcp.IsChecksumValid(syn.Source, syn.Destination), Is.True);
        byte[] segment = syn.Payload.ToArray();
        segment[16] = segment[17] = 0;
        TcpHeader.FillChecksum(segment, syn.Source, syn.Destination);
        Assert.That(segment, Is.EqualTo(syn.Payload.ToArray()));
    }
}
