using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>Malformed IPv6 packets and header chains: each is a <see cref="WireError"/> with the action and pointer RFC 8200 asks for, never an exception.</summary>
public class Ipv6MalformedTests
{
    private static readonly Ipv6Address Source = Ipv6Address.Parse("2001:db8::1"), Destination = Ipv6Address.Parse("2001:db8::2");

    // An IPv6 packet whose payload is `chain` then 8 bytes of UDP header; `first` is the fixed header's Next Header.
    private static byte[] Packet(IpProtocol first, params byte[] chain)
    {
        var packet = new byte[40 + chain.Length + 8];
        new Ipv6Header(Source, Destination, first, (ushort)(chain.Length + 8)).WriteTo(packet);
        chain.CopyTo(packet, 40);
        return packet;
    }

    private static WireError Walk(byte[] packet, out Ipv6HeaderChain chain)
    {
        WireError error = Ipv6Packet.TryParse(packet, out var ip);
        if (error != WireError.None) { chain = default; return error; }
        Ipv6HeaderChain result = default;
        Assert.DoesNotThrow(() => error = Ipv6HeaderChain.TryWalk(packet, out result));
        chain = result;
        return error;
    }

    [Test]
    public void Fixed_header_errors()
    {
        byte[] good = Ipv6Frames.Packet(Ipv6Frames.Kernel(17));
        Assert.That(Ipv6Packet.TryParse(good[..39], out _), Is.EqualTo(WireError.Truncated));
        Assert.That(Ipv6Packet.TryParse(good[..103], out _), Is.EqualTo(WireError.BadLength), "payload length past the bytes");
        byte[] v4 = (byte[])good.Clone();
        v4[0] = 0x45;
        Assert.That(Ipv6Packet.TryParse(v4, out _), Is.EqualTo(WireError.BadVersion));
        byte[] jumbo = Packet(IpProtocol.HopByHopOptions, 17, 0, 0xC2, 4, 0, 1, 0, 0);
        jumbo[4] = jumbo[5] = 0;
        Assert.That(Ipv6Packet.TryParse(jumbo, out _), Is.EqualTo(WireError.JumboPayload), "RFC 2675: payload length 0 with a hop-by-hop header");
        byte[] empty = Packet(IpProtocol.Ipv6NoNextHeader);
        empty[4] = empty[5] = 0;
        Assert.That(Ipv6Packet.TryParse(empty, out var none), Is.EqualTo(WireError.None), "an empty payload with No Next Header is fine");
        Assert.That(none.Payload.Length, Is.Zero);
    }

    [TestCase(0x40, WireError.UnrecognizedOption, Ipv6OptionAction.Discard, -1)]
    [TestCase(0x80, WireError.UnrecognizedOption, Ipv6OptionAction.DiscardSendParameterProblem, 42)]
    [TestCase(0xC0, WireError.UnrecognizedOption, Ipv6OptionAction.DiscardSendParameterProblemUnlessMulticast, 42)]
    [TestCase(0x3E, WireError.None, Ipv6OptionAction.Skip, -1)]
    public void Unknown_option_follows_its_action_bits(int type, WireError error, Ipv6OptionAction action, int pointer)
    {
        byte[] packet = Packet(IpProtocol.Ipv6DestinationOptions, 17, 0, (byte)type, 4, 0, 0, 0, 0);
        Assert.That(Walk(packet, out var chain), Is.EqualTo(error));
        Assert.That((chain.Action, chain.ProblemPointer), Is.EqualTo((action, pointer)));
        if (pointer >= 0) Assert.That(chain.ProblemCode, Is.EqualTo(Icmpv6ParameterProblemCode.UnrecognizedOption));
        if (action == Ipv6OptionAction.DiscardSendParameterProblemUnlessMulticast)
        {
            Assert.That(chain.SendsParameterProblem(destinationIsMulticast: true), Is.False);
            Assert.That(chain.SendsParameterProblem(destinationIsMulticast: false), Is.True);
        }
    }

    [Test]
    public void Pad1_and_padn_are_skipped()
        => Assert.That(Walk(Packet(IpProtocol.HopByHopOptions, 17, 0, 0, 0, 1, 2, 0, 0), out _), Is.EqualTo(WireError.None));

    [Test]
    public void Option_length_past_the_header_is_a_parameter_problem_on_the_length()
    {
        Assert.That(Walk(Packet(IpProtocol.Ipv6DestinationOptions, 17, 0, 1, 9, 0, 0, 0, 0), out var chain), Is.EqualTo(WireError.BadOption));
        Assert.That((chain.Action, chain.ProblemCode, chain.ProblemPointer),
            Is.EqualTo((Ipv6OptionAction.DiscardSendParameterProblem, Icmpv6ParameterProblemCode.ErroneousHeaderField, 43)));
    }

    [Test]
    public void Header_length_past_the_packet_is_truncated()
        => Assert.That(Walk(Packet(IpProtocol.Ipv6DestinationOptions, 17, 7, 1, 4, 0, 0, 0, 0), out _), Is.EqualTo(WireError.Truncated));

    [Test]
    public void Hop_by_hop_after_another_header_is_an_unrecognised_next_header()
    {
        Assert.That(Walk(Packet(IpProtocol.Ipv6DestinationOptions, 0, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0), out var chain), Is.EqualTo(WireError.MisplacedHopByHop));
        Assert.That((chain.ProblemCode, chain.ProblemPointer), Is.EqualTo((Icmpv6ParameterProblemCode.UnrecognizedNextHeader, 40)));
    }

    [TestCase(0, WireError.RoutingHeaderType0, Ipv6OptionAction.DiscardSendParameterProblem)]
    [TestCase(1, WireError.UnrecognizedRoutingType, Ipv6OptionAction.DiscardSendParameterProblem)]
    public void Routing_header_with_segments_left(int type, WireError error, Ipv6OptionAction action)
    {
        byte[] routing = [17, 2, (byte)type, 1, 0, 0, 0, 0, .. new byte[16]];
        Assert.That(Walk(Packet(IpProtocol.Ipv6Routing, routing), out var chain), Is.EqualTo(error));
        Assert.That((chain.Action, chain.ProblemCode, chain.ProblemPointer), Is.EqualTo((action, Icmpv6ParameterProblemCode.ErroneousHeaderField, 42)));
    }

    [Test]
    public void Routing_header_type_0_is_refused_even_with_no_segments_left()
    {
        byte[] routing = [17, 2, 0, 0, 0, 0, 0, 0, .. new byte[16]];
        Assert.That(Walk(Packet(IpProtocol.Ipv6Routing, routing), out var chain), Is.EqualTo(WireError.RoutingHeaderType0));
        Assert.That(chain.SendsParameterProblem(false), Is.False, "discarded silently: there is nothing for the sender to fix");
    }

    [Test]
    public void A_long_chain_is_rejected_after_the_bound()
    {
        var chain = new List<byte>();
        for (int i = 0; i < 20; i++) chain.AddRange([(byte)(i == 19 ? 17 : 60), 0, 1, 4, 0, 0, 0, 0]);
        Assert.That(Walk(Packet(IpProtocol.Ipv6DestinationOptions, [.. chain]), out var result), Is.EqualTo(WireError.HeaderChainTooLong));
        Assert.That(result.ExtensionHeaderCount, Is.EqualTo(Ipv6HeaderChain.MaximumExtensionHeaders));
    }

    [Test]
    public void A_second_fragment_header_is_an_error()
        => Assert.That(Walk(Packet(IpProtocol.Ipv6Fragment, 44, 0, 0, 0, 0, 0, 0, 1, 17, 0, 0, 0, 0, 0, 0, 1), out _), Is.EqualTo(WireError.DuplicateFragmentHeader));

    [Test]
    public void A_first_fragment_without_the_whole_chain_is_rfc_7112s_error()
    {
        // First fragment (offset 0, M) of 8 bytes: a destination options header, and no room for the UDP header after it.
        var packet = new byte[40 + 8 + 8];
        new Ipv6Header(Source, Destination, IpProtocol.Ipv6Fragment, 16).WriteTo(packet);
        new Ipv6FragmentHeader(IpProtocol.Ipv6DestinationOptions, 0, true, 7).WriteTo(packet.AsSpan(40));
        packet[48] = 17;
        packet[50] = 1;
        packet[51] = 4;
        Assert.That(Walk(packet, out var chain), Is.EqualTo(WireError.IncompleteHeaderChain));
        Assert.That((chain.Action, chain.ProblemCode, chain.ProblemPointer),
            Is.EqualTo((Ipv6OptionAction.DiscardSendParameterProblem, Icmpv6ParameterProblemCode.IncompleteHeaderChain, 0)));
    }

    [Test]
    public void A_fragment_with_more_to_come_not_a_multiple_of_8_points_at_payload_length()
    {
        var packet = new byte[40 + 8 + 12];
        new Ipv6Header(Source, Destination, IpProtocol.Ipv6Fragment, 20).WriteTo(packet);
        new Ipv6FragmentHeader(IpProtocol.Udp, 0, true, 7).WriteTo(packet.AsSpan(40));
        Assert.That(Walk(packet, out var chain), Is.EqualTo(WireError.BadFragmentLength));
        Assert.That(chain.ProblemPointer, Is.EqualTo(4));
    }

    [Test]
    public void A_later_fragment_is_not_walked_past_its_fragment_header()
    {
        // Offset 8, the "headers" after it are fragment data (here bytes that would be a routing header type 0).
        var packet = new byte[40 + 8 + 24];
        new Ipv6Header(Source, Destination, IpProtocol.Ipv6Fragment, 32).WriteTo(packet);
        new Ipv6FragmentHeader(IpProtocol.Ipv6Routing, 8, false, 7).WriteTo(packet.AsSpan(40));
        Assert.That(Walk(packet, out var chain), Is.EqualTo(WireError.None));
        Assert.That(chain.IsLaterFragment, Is.True);
        Assert.That((chain.UpperLayerProtocol, chain.UpperLayerOffset), Is.EqualTo((IpProtocol.Ipv6Routing, 48)));
    }

    [Test]
    public void Every_prefix_and_every_byte_corruption_of_every_ipv6_frame_parses_or_errs_without_exception()
    {
        foreach (byte[] frame in Ipv6Frames.All)
        {
            byte[] packet = Ipv6Frames.Packet(frame);
            for (int length = 0; length <= packet.Length; length += length < 120 ? 1 : 97)
                Assert.DoesNotThrow(() => ParseEverything(packet.AsSpan(0, length)), $"cut to {length}");
            for (int offset = 0; offset < Math.Min(packet.Length, 160); offset++)
            {
                foreach (byte value in (byte[])[0x00, 0x01, 0x3A, 0x80, 0xFF])
                {
                    byte[] corrupt = (byte[])packet.Clone();
                    corrupt[offset] = value;
                    Assert.DoesNotThrow(() => ParseEverything(corrupt), $"byte {offset} set to {value:x2}");
                }
            }
        }
    }

    // Every view over whatever the chain walk finds; returns a number so nothing is optimised away.
    internal static long ParseEverything(ReadOnlySpan<byte> packet)
    {
        long sum = 0;
        if (Ipv6Packet.TryParse(packet, out var ip) != WireError.None) return -1;
        if (ip.TryWalkHeaders(out var chain) != WireError.None || chain.IsLaterFragment) return -2;
        var upper = ip.Bytes[chain.UpperLayerOffset..];
        if (chain.UpperLayerProtocol != IpProtocol.Icmpv6 || Icmpv6Packet.TryParse(upper, out var icmp) != WireError.None) return -3;
        sum += icmp.Checksum + (icmp.IsChecksumValid(ip.Source, ip.Destination) ? 1 : 0);
        if (icmp.TryGetQuote(out var quote) == WireError.None) sum += quote.SourcePort + quote.DestinationPort + (byte)quote.Protocol;
        if (RouterAdvertisement.TryParse(upper, out var ra) == WireError.None) sum += Options(ra.GetOptions());
        if (NeighborSolicitation.TryParse(upper, out var ns) == WireError.None) sum += (long)ns.Target.Value + Options(ns.GetOptions());
        if (NeighborAdvertisement.TryParse(upper, out var na) == WireError.None) sum += (long)na.Target.Value + Options(na.GetOptions());
        if (RouterSolicitation.TryParse(upper, out var rs) == WireError.None) sum += Options(rs.GetOptions());
        if (Redirect.TryParse(upper, out var redirect) == WireError.None) sum += Options(redirect.GetOptions());
        if (MldQuery.TryParse(upper, out var query) == WireError.None) sum += query.MaximumResponseDelay + query.Sources.Count;
        if (MldV1Message.TryParse(upper, out var v1) == WireError.None) sum += (long)v1.MulticastAddress.Value;
        if (MldReport.TryParse(upper, out var report) == WireError.None)
        {
            var records = report.GetRecords();
            while (records.Read()) sum += (byte)records.Current.RecordType + records.Current.Sources.Count;
        }
        return sum;
    }

    private static long Options(NdOptionReader reader)
    {
        long sum = 0;
        while (reader.Read())
        {
            var option = reader.Current;
            if (option.TryGetLinkLayerAddress(out var mac) == WireError.None) sum += (long)mac.Value;
            if (option.TryGetPrefixInformation(out var prefix) == WireError.None) sum += prefix.ValidLifetime;
            if (option.TryGetMtu(out uint mtu) == WireError.None) sum += mtu;
            if (option.TryGetRecursiveDnsServers(out uint lifetime, out var servers) == WireError.None) sum += lifetime + servers.Count;
            if (option.TryGetDnsSearchList(out uint life, out var names) == WireError.None)
            {
                sum += life;
                while (names.Read(out var name)) sum += name.Offset;
            }
        }
        return sum;
    }
}
