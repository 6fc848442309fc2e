using FsCheck;
using FsCheck.Fluent;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

public class DhcpTests
{
    private static readonly MacAddress Client = MacAddress.Parse("5a:17:03:cb:48:e7");
    private static readonly Ipv4Address Server = new(192, 0, 2, 1);
    private static readonly Ipv4Address Leased = new(192, 0, 2, 64);
    private static readonly Ipv4Address[] DnsServers = [new(192, 0, 2, 1), new(198, 51, 100, 53)];

    private static byte[] Dhcp(byte[] frame) => FrameLayers.UdpPayload(frame);

    private static DhcpMessage Parse(byte[] bytes)
    {
        Assert.That(DhcpMessage.TryParse(bytes, out var message), Is.EqualTo(WireError.None));
        return message;
    }

    private static List<(DhcpOption, string)> Options(DhcpMessage message)
    {
        var list = new List<(DhcpOption, string)>();
        var reader = message.GetOptionReader();
        while (reader.Read()) list.Add((reader.Option, Convert.ToHexString(reader.Data)));
        Assert.That(reader.Error, Is.EqualTo(WireError.None));
        return list;
    }

    // ---- deconstruct

    [Test]
    public void Deconstruct_dnsmasq_ack_fields_and_typed_options()
    {
        var ack = Parse(Dhcp(WireVectors.DhcpAckDnsmasq));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(ack.Operation, Is.EqualTo(DhcpOperation.BootReply));
            Assert.That(ack.HardwareType, Is.EqualTo(1));
            Assert.That(ack.HardwareAddressLength, Is.EqualTo(6));
            Assert.That(ack.Hops, Is.Zero);
            Assert.That(ack.TransactionId, Is.EqualTo(0x0857492au));
            Assert.That(ack.Seconds, Is.EqualTo(3));
            Assert.That(ack.IsBroadcast, Is.False);
            Assert.That(ack.ClientAddress, Is.EqualTo(Ipv4Address.Any));
            Assert.That(ack.YourAddress, Is.EqualTo(Leased));
            Assert.That(ack.ServerAddress, Is.EqualTo(Server));
            Assert.That(ack.RelayAgentAddress, Is.EqualTo(Ipv4Address.Any));
            Assert.That(ack.ClientMacAddress, Is.EqualTo(Client));
            Assert.That(ack.ClientHardwareAddress.ToArray(), Is.EqualTo(Convert.FromHexString("5a1703cb48e7")));
            Assert.That(ack.ServerName.Length, Is.Zero);
            Assert.That(ack.BootFileName.Length, Is.Zero);
            Assert.That(ack.OptionOverload, Is.Zero);
            Assert.That(ack.MessageType, Is.EqualTo(DhcpMessageType.Ack));
            Assert.That(ack.ServerIdentifier, Is.EqualTo(Server));
            Assert.That(ack.LeaseTime, Is.EqualTo(3600u));
            Assert.That(ack.RenewalTime, Is.EqualTo(1800u));
            Assert.That(ack.RebindingTime, Is.EqualTo(3150u));
            Assert.That(ack.SubnetMask, Is.EqualTo(new Ipv4Address(255, 255, 255, 0)));
            Assert.That(ack.BroadcastAddress, Is.EqualTo(new Ipv4Address(192, 0, 2, 255)));
            Assert.That(ack.Router, Is.EqualTo(Server));
            Assert.That(ack.Routers.Count, Is.EqualTo(1));
            Assert.That(ack.InterfaceMtu, Is.EqualTo((ushort)1400));
            Assert.That(ack.DomainNameServers.Count, Is.EqualTo(2));
            Assert.That(ack.DomainNameServers[0], Is.EqualTo(DnsServers[0]));
            Assert.That(ack.DomainNameServers[1], Is.EqualTo(DnsServers[1]));
            Assert.That(System.Text.Encoding.ASCII.GetString(ack.HostName), Is.EqualTo("picow"));
            Assert.That(ack.RequestedIpAddress, Is.Null);
            Assert.That(ack.ClientIdentifier.Length, Is.Zero);
        }
    }

    [Test]
    public void Deconstruct_udhcpc_request()
    {
        var request = Parse(Dhcp(WireVectors.DhcpRequestUdhcpc));
        Assert.That(request.Operation, Is.EqualTo(DhcpOperation.BootRequest));
        Assert.That(request.MessageType, Is.EqualTo(DhcpMessageType.Request));
        Assert.That(request.RequestedIpAddress, Is.EqualTo(Leased));
        Assert.That(request.ServerIdentifier, Is.EqualTo(Server));
        Assert.That(request.ClientIdentifier.ToArray(), Is.EqualTo(Convert.FromHexString("015a1703cb48e7")));
        Assert.That(request.Router, Is.Null);
        Assert.That(request.DomainNameServers.Count, Is.Zero);
        Assert.That(request.LeaseTime, Is.Null);
        Assert.That(request.TryGetOption(DhcpOption.VendorClassIdentifier, out var vendor), Is.True);
        Assert.That(System.Text.Encoding.ASCII.GetString(vendor), Is.EqualTo("udhcp 1.35.0"));
        Assert.That(request.TryGetOption(DhcpOption.Message, out _), Is.False);
        Assert.That(Options(request).Select(o => o.Item1), Is.EqualTo(new[]
        {
            DhcpOption.MessageType, DhcpOption.RequestedIpAddress, DhcpOption.ServerIdentifier, DhcpOption.MaximumMessageSize,
            DhcpOption.ParameterRequestList, DhcpOption.HostName, DhcpOption.VendorClassIdentifier, DhcpOption.ClientIdentifier,
        }));
    }

    [Test]
    public void Deconstruct_charrua_and_tcpdump_captures()
    {
        var discover = Parse(Dhcp(WireVectors.DhcpDiscover));
        Assert.That(discover.MessageType, Is.EqualTo(DhcpMessageType.Discover));
        Assert.That(discover.TransactionId, Is.EqualTo(0x3d1du));
        Assert.That(discover.ClientMacAddress, Is.EqualTo(MacAddress.Parse("00:0b:82:01:fc:42")));
        Assert.That(discover.ClientIdentifier.ToArray(), Is.EqualTo(Convert.FromHexString("01000b8201fc42")));
        Assert.That(discover.RequestedIpAddress, Is.EqualTo(Ipv4Address.Any));

        var offer = Parse(Dhcp(WireVectors.DhcpOffer));
        Assert.That(offer.MessageType, Is.EqualTo(DhcpMessageType.Offer));
        Assert.That(offer.YourAddress, Is.EqualTo(new Ipv4Address(192, 168, 0, 10)));
        Assert.That((offer.RenewalTime, offer.RebindingTime, offer.LeaseTime), Is.EqualTo(((uint?)1800, (uint?)3150, (uint?)3600)));
        Assert.That(offer.ServerIdentifier, Is.EqualTo(new Ipv4Address(192, 168, 0, 1)));

        var ack = Parse(Dhcp(WireVectors.DhcpAck));
        Assert.That(ack.MessageType, Is.EqualTo(DhcpMessageType.Ack));
        Assert.That(ack.SubnetMask, Is.EqualTo(new Ipv4Address(255, 255, 255, 0)));

        var withDns = Parse(Dhcp(WireVectors.DhcpOfferWithDns));
        Assert.That(withDns.Router, Is.EqualTo(new Ipv4Address(192, 168, 1, 1)));
        Assert.That(withDns.DomainNameServers.Count, Is.EqualTo(1));
        Assert.That(withDns.DomainNameServers[0], Is.EqualTo(new Ipv4Address(192, 168, 1, 1)));
        Assert.That(withDns.TryGetOption(DhcpOption.DomainName, out var domain), Is.True);
        Assert.That(domain.Length, Is.GreaterThan(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = Parse(Dhcp(WireVectors.DhcpOfferWithDns)).DomainNameServers[1]);
    }

    [Test]
    public void Options_without_end_are_accepted_as_lwip_does()
    {
        // dhcp_nack_no_endmarker in lwIP's tests: the options simply stop.
        byte[] ack = Dhcp(WireVectors.DhcpAckDnsmasq);
        Assert.That(ack[^1], Is.EqualTo((byte)DhcpOption.End));
        var message = Parse(ack[..^1]);
        Assert.That(message.MessageType, Is.EqualTo(DhcpMessageType.Ack));
        Assert.That(message.DomainNameServers.Count, Is.EqualTo(2));
    }

    // ---- construct: set fields and options, compare with the real bytes

    [Test]
    public void Construct_dnsmasq_offer_and_ack_byte_for_byte()
    {
        foreach (var (frame, type) in new[] { (WireVectors.DhcpOfferDnsmasq, DhcpMessageType.Offer), (WireVectors.DhcpAckDnsmasq, DhcpMessageType.Ack) })
        {
            var buffer = new byte[576];
            var writer = new DhcpWriter(buffer);
            ushort seconds = type == DhcpMessageType.Ack ? (ushort)3 : (ushort)0;
            Assert.That(writer.WriteHeader(new DhcpHeader(DhcpOperation.BootReply, 0x0857492a, Client, seconds, YourAddress: Leased, ServerAddress: Server)), Is.EqualTo(WireError.None));
            Assert.That(writer.WriteMessageType(type), Is.EqualTo(WireError.None));
            Assert.That(writer.WriteAddress(DhcpOption.ServerIdentifier, Server), Is.EqualTo(WireError.None));
            Assert.That(writer.WriteUInt32(DhcpOption.IpAddressLeaseTime, 3600), Is.EqualTo(WireError.None));
            Assert.That(writer.WriteUInt32(DhcpOption.RenewalTime, 1800), Is.EqualTo(WireError.None));
            Assert.That(writer.WriteUInt32(DhcpOption.RebindingTime, 3150), Is.EqualTo(WireError.None));
            Assert.That(writer.WriteAddress(DhcpOption.SubnetMask, new Ipv4Address(255, 255, 255, 0)), Is.EqualTo(WireError.None));
            Assert.That(writer.WriteAddress(DhcpOption.BroadcastAddress, new Ipv4Address(192, 0, 2, 255)), Is.EqualTo(WireError.None));
            if (type == DhcpMessageType.Ack) Assert.That(writer.WriteOption(DhcpOption.HostName, "picow"u8), Is.EqualTo(WireError.None));
            Assert.That(writer.WriteAddresses(DhcpOption.Router, [Server]), Is.EqualTo(WireError.None));
            Assert.That(writer.WriteUInt16(DhcpOption.InterfaceMtu, 1400), Is.EqualTo(WireError.None));
            Assert.That(writer.WriteAddresses(DhcpOption.DomainNameServer, DnsServers), Is.EqualTo(WireError.None));
            int length = writer.Finish();
            Assert.That(Convert.ToHexString(buffer, 0, length), Is.EqualTo(Convert.ToHexString(Dhcp(frame))), type.ToString());
        }
    }

    [Test]
    public void Construct_udhcpc_discover_and_request_byte_for_byte()
    {
        ReadOnlySpan<DhcpOption> wanted = [DhcpOption.SubnetMask, DhcpOption.Router, DhcpOption.DomainNameServer, DhcpOption.HostName,
            DhcpOption.DomainName, DhcpOption.InterfaceMtu, DhcpOption.BroadcastAddress, (DhcpOption)42];
        foreach (var frame in new[] { WireVectors.DhcpDiscoverUdhcpc, WireVectors.DhcpRequestUdhcpc })
        {
            bool request = frame == WireVectors.DhcpRequestUdhcpc;
            var buffer = new byte[576];
            var writer = new DhcpWriter(buffer);
            writer.WriteHeader(new DhcpHeader(DhcpOperation.BootRequest, 0x0857492a, Client, request ? (ushort)3 : (ushort)0));
            writer.WriteMessageType(request ? DhcpMessageType.Request : DhcpMessageType.Discover);
            if (request)
            {
                writer.WriteAddress(DhcpOption.RequestedIpAddress, Leased);
                writer.WriteAddress(DhcpOption.ServerIdentifier, Server);
            }
            writer.WriteUInt16(DhcpOption.MaximumMessageSize, 576);
            writer.WriteParameterRequestList(wanted);
            writer.WriteOption(DhcpOption.HostName, "picow"u8);
            writer.WriteOption(DhcpOption.VendorClassIdentifier, "udhcp 1.35.0"u8);
            Assert.That(writer.WriteClientIdentifier(Client), Is.EqualTo(WireError.None));
            int length = writer.Finish();
            Assert.That(Convert.ToHexString(buffer, 0, length), Is.EqualTo(Convert.ToHexString(Dhcp(frame))));
        }
    }

    // ---- parse: bytes to header record

    [Test]
    public void Parse_header_records()
    {
        Assert.That(DhcpHeader.From(Parse(Dhcp(WireVectors.DhcpAckDnsmasq))),
            Is.EqualTo(new DhcpHeader(DhcpOperation.BootReply, 0x0857492a, Client, 3, false, Ipv4Address.Any, Leased, Server)));
        Assert.That(DhcpHeader.From(Parse(Dhcp(WireVectors.DhcpDiscover))),
            Is.EqualTo(new DhcpHeader(DhcpOperation.BootRequest, 0x3d1d, MacAddress.Parse("00:0b:82:01:fc:42"))));
    }

    // ---- emit: header record and options read from real bytes, written back

    [Test]
    public void Emit_every_vector_from_its_header_record_and_option_walk()
    {
        foreach (var frame in new[] { WireVectors.DhcpDiscover, WireVectors.DhcpOffer, WireVectors.DhcpRequest, WireVectors.DhcpAck,
                     WireVectors.DhcpOfferWithDns, WireVectors.DhcpDiscoverUdhcpc, WireVectors.DhcpOfferDnsmasq, WireVectors.DhcpRequestUdhcpc,
                     WireVectors.DhcpAckDnsmasq })
        {
            byte[] expected = Dhcp(frame);
            var message = Parse(expected);
            var buffer = new byte[expected.Length + 16];
            var writer = new DhcpWriter(buffer);
            writer.WriteHeader(DhcpHeader.From(message));
            var reader = message.GetOptionReader();
            while (reader.Read()) Assert.That(writer.WriteOption(reader.Option, reader.Data), Is.EqualTo(WireError.None));
            int length = writer.Finish(expected.Length);
            Assert.That(Convert.ToHexString(buffer, 0, length), Is.EqualTo(Convert.ToHexString(expected)));
        }
    }

    // ---- property: emit then parse gives the same record

    private static readonly Gen<Ipv4Address> AddressGen = ArbMap.Default.GeneratorFor<uint>().Select(v => new Ipv4Address(v));

    private static readonly Gen<DhcpHeader> HeaderGen =
        from op in Gen.Elements(DhcpOperation.BootRequest, DhcpOperation.BootReply)
        from xid in ArbMap.Default.GeneratorFor<uint>()
        from mac in ArbMap.Default.GeneratorFor<ulong>().Select(v => new MacAddress(v & 0xFFFF_FFFF_FFFF))
        from secs in Gen.Choose(0, 65535)
        from broadcast in ArbMap.Default.GeneratorFor<bool>()
        from addresses in AddressGen.Four()
        from hops in Gen.Choose(0, 255)
        select new DhcpHeader(op, xid, mac, (ushort)secs, broadcast, addresses.Item1, addresses.Item2, addresses.Item3, addresses.Item4, (byte)hops);

    [Test]
    public void Property_header_emit_then_parse()
    {
        Prop.ForAll(HeaderGen.ToArbitrary(), AddressGen.ArrayOf().ToArbitrary(), (header, dns) =>
        {
            var buffer = new byte[1024];
            var writer = new DhcpWriter(buffer);
            writer.WriteHeader(header);
            writer.WriteMessageType(DhcpMessageType.Offer);
            var written = writer.WriteAddresses(DhcpOption.DomainNameServer, dns);
            int length = writer.Finish();
            if (DhcpMessage.TryParse(buffer.AsSpan(0, length), out var message) != WireError.None) return false;
            if (DhcpHeader.From(message) != header || message.MessageType != DhcpMessageType.Offer) return false;
            if (dns.Length is 0 or > 63) return written == WireError.BadOption && message.DomainNameServers.Count == 0;
            if (message.DomainNameServers.Count != dns.Length) return false;
            for (int i = 0; i < dns.Length; i++) if (message.DomainNameServers[i] != dns[i]) return false;
            return true;
        }).QuickCheckThrowOnFailure();
    }

    // ---- option overload (RFC 2131 4.1, RFC 2132 9.3)

    // An ACK whose options field holds `options`, and whose file and sname fields hold the given bytes.
    private static byte[] Message(string optionsHex, string fileHex = "", string serverNameHex = "")
    {
        var buffer = new byte[DhcpHeader.Size + optionsHex.Length / 2];
        new DhcpHeader(DhcpOperation.BootReply, 1, Client, YourAddress: Leased).WriteTo(buffer);
        Convert.FromHexString(optionsHex).CopyTo(buffer, DhcpHeader.Size);
        Convert.FromHexString(fileHex).CopyTo(buffer, DhcpMessage.Field.File);
        Convert.FromHexString(serverNameHex).CopyTo(buffer, DhcpMessage.Field.ServerName);
        return buffer;
    }

    [Test]
    public void Overload_reads_options_then_file_then_sname()
    {
        byte[] bytes = Message("350105" + "340103" + "FF", fileHex: "0104FFFFFF00" + "0304C0000201" + "FF", serverNameHex: "0608C0000201C6336435" + "0C037069" + "FF");
        var message = Parse(bytes);
        Assert.That(Options(message).Select(o => o.Item1), Is.EqualTo(new[]
        {
            DhcpOption.MessageType, DhcpOption.OptionOverload, DhcpOption.SubnetMask, DhcpOption.Router, DhcpOption.DomainNameServer, DhcpOption.HostName,
        }));
        Assert.That(message.OptionOverload, Is.EqualTo(3));
        Assert.That(message.SubnetMask, Is.EqualTo(new Ipv4Address(255, 255, 255, 0)));
        Assert.That(message.DomainNameServers.Count, Is.EqualTo(2));
        Assert.That(message.ServerName.Length, Is.Zero, "sname holds options");
        Assert.That(message.BootFileName.Length, Is.Zero, "file holds options");
    }

    [Test]
    public void Overload_of_file_only_leaves_sname_as_text()
    {
        byte[] bytes = Message("350105" + "340101", fileHex: "0104FFFFFF00", serverNameHex: Convert.ToHexString("boot.example"u8));
        var message = Parse(bytes);
        Assert.That(message.SubnetMask, Is.EqualTo(new Ipv4Address(255, 255, 255, 0)));
        Assert.That(System.Text.Encoding.ASCII.GetString(message.ServerName), Is.EqualTo("boot.example"));
        Assert.That(message.BootFileName.Length, Is.Zero);
        var plain = Parse(Message("350105" + "FF", fileHex: Convert.ToHexString("pxelinux.0"u8), serverNameHex: "0104FFFFFF00"));
        Assert.That(System.Text.Encoding.ASCII.GetString(plain.BootFileName), Is.EqualTo("pxelinux.0"));
        Assert.That(plain.SubnetMask, Is.Null, "sname is not read without an overload");
    }

    [Test]
    public void Overload_inside_file_or_sname_does_not_start_another_walk()
    {
        // file and sname both claim overload 3 again and have no END: each is still read exactly once.
        byte[] bytes = Message("340103" + "FF", fileHex: "340103" + "0104FFFFFF00", serverNameHex: "340103" + "3A0400000708");
        var message = Parse(bytes);
        Assert.That(Options(message).Select(o => o.Item1), Is.EqualTo(new[]
        {
            DhcpOption.OptionOverload, DhcpOption.OptionOverload, DhcpOption.SubnetMask, DhcpOption.OptionOverload, DhcpOption.RenewalTime,
        }));
        Assert.That(message.RenewalTime, Is.EqualTo(1800u));
        var reader = message.GetOptionReader();
        while (reader.Read()) { }
        for (int i = 0; i < 3; i++) Assert.That(reader.Read(), Is.False, "a finished walk does not start over");
    }

    // ---- malformed input: a WireError, never an exception

    public static IEnumerable<TestCaseData> MalformedOptions()
    {
        TestCaseData Case(string options, string file, string sname, string why) => new TestCaseData(options, file, sname).SetArgDisplayNames(why);
        yield return Case("350105" + "35", "", "", "code without length at the end");
        yield return Case("350405", "", "", "length past the end");
        yield return Case("0104FFFF", "", "", "mask runs past the end");
        yield return Case("06FF00", "", "", "length 255 past the end");
        yield return Case("35020505FF", "", "", "message type of 2 bytes");
        yield return Case("0103FFFFFFFF", "", "", "mask of 3 bytes");
        yield return Case("0305C000020100FF", "", "", "router of 5 bytes");
        yield return Case("0600FF", "", "", "DNS of 0 bytes");
        yield return Case("1A03057800FF", "", "", "MTU of 3 bytes");
        yield return Case("330200FF", "", "", "lease of 2 bytes");
        yield return Case("3D0101FF", "", "", "client id of 1 byte");
        yield return Case("0C00FF", "", "", "hostname of 0 bytes");
        yield return Case("34020103FF", "", "", "overload of 2 bytes");
        yield return Case("340100FF", "", "", "overload 0");
        yield return Case("340104FF", "", "", "overload 4");
        yield return Case("340101FF", "0104FFFFFF00", "", "control: a well-formed file area");
        yield return Case("340101FF", "FE7F", "", "overload into file that overruns");
        yield return Case("340101FF", new string('0', 2 * 127) + "01", "", "file ends with a code without length");
        yield return Case("340102FF", "", "0C40", "overload into sname that overruns");
        yield return Case("340103FF", "FF", new string('0', 2 * 62) + "0104", "overload into both, sname overruns");
    }

    [TestCaseSource(nameof(MalformedOptions))]
    public void Malformed_options_are_bad_option(string options, string file, string sname)
    {
        byte[] bytes = Message(options, file, sname);
        var error = DhcpMessage.TryParse(bytes, out _);
        if (file.StartsWith("0104FFFFFF00", StringComparison.Ordinal))
        {
            Assert.That(error, Is.EqualTo(WireError.None));
            return;
        }
        Assert.That(error, Is.EqualTo(WireError.BadOption));
    }

    [Test]
    public void Missing_or_wrong_magic_cookie_and_short_messages()
    {
        byte[] ack = Dhcp(WireVectors.DhcpAckDnsmasq);
        for (int n = 0; n < DhcpMessage.BootpSize; n++)
            Assert.That(DhcpMessage.TryParse(ack.AsSpan(0, n), out _), Is.EqualTo(WireError.Truncated), $"{n} bytes");
        for (int n = DhcpMessage.BootpSize; n < DhcpHeader.Size; n++)
            Assert.That(DhcpMessage.TryParse(ack.AsSpan(0, n), out _), Is.EqualTo(WireError.BadMagicCookie), $"{n} bytes");
        for (int i = 0; i < 4; i++)
        {
            byte[] copy = (byte[])ack.Clone();
            copy[DhcpMessage.Field.MagicCookie + i] ^= 0x01;
            Assert.That(DhcpMessage.TryParse(copy, out _), Is.EqualTo(WireError.BadMagicCookie));
        }
        Assert.That(DhcpMessage.TryParse(ack.AsSpan(0, DhcpHeader.Size), out var empty), Is.EqualTo(WireError.None), "cookie and no options");
        Assert.That(empty.MessageType, Is.Null);
    }

    [Test]
    public void Truncation_inside_the_options_is_bad_option_and_at_option_boundaries_is_accepted()
    {
        byte[] ack = Dhcp(WireVectors.DhcpAckDnsmasq);
        var boundaries = new HashSet<int> { DhcpHeader.Size };
        int p = DhcpHeader.Size;
        while (ack[p] != (byte)DhcpOption.End) boundaries.Add(p += 2 + ack[p + 1]);
        for (int n = DhcpHeader.Size; n <= ack.Length; n++)
        {
            var expected = boundaries.Contains(n) || n > p ? WireError.None : WireError.BadOption;
            Assert.That(DhcpMessage.TryParse(ack.AsSpan(0, n), out _), Is.EqualTo(expected), $"{n} bytes");
        }
    }

    [Test]
    public void Random_corruption_never_throws_and_walks_end()
    {
        var random = new Random(2131);
        byte[][] messages = [Dhcp(WireVectors.DhcpAckDnsmasq), Dhcp(WireVectors.DhcpRequestUdhcpc), Dhcp(WireVectors.DhcpOffer)];
        for (int i = 0; i < 5000; i++)
        {
            byte[] bytes = (byte[])messages[i % messages.Length].Clone();
            // Corrupt the option areas, sometimes with an overload to reach file and sname.
            if (random.Next(2) == 0) { bytes[DhcpHeader.Size] = 52; bytes[DhcpHeader.Size + 1] = 1; bytes[DhcpHeader.Size + 2] = (byte)random.Next(1, 4); }
            for (int k = random.Next(1, 6); k > 0; k--)
                bytes[random.Next(3) == 0 ? random.Next(DhcpMessage.Field.ServerName, DhcpHeader.Size) : random.Next(DhcpHeader.Size, bytes.Length)] = (byte)random.Next(256);
            // The validation in TryParse and the reader's walk must agree on every input.
            var walk = new DhcpOptionReader(bytes);
            int walked = 0;
            while (walk.Read()) Assert.That(++walked, Is.LessThan(bytes.Length));
            Assert.That(walk.Read(), Is.False, "stays at the end");
            var parsed = DhcpMessage.TryParse(bytes, out var message);
            if (parsed != WireError.BadMagicCookie) Assert.That(parsed, Is.EqualTo(walk.Error));
            if (parsed != WireError.None) continue;
            var reader = message.GetOptionReader();
            int count = 0;
            while (reader.Read()) Assert.That(++count, Is.LessThan(bytes.Length));
            Assert.That(count, Is.EqualTo(walked));
            _ = message.MessageType;
            _ = message.DomainNameServers.Count;
            _ = message.ServerName.Length;
        }
    }

    [Test]
    public void Writer_rejects_oversized_options_and_keeps_room_for_end()
    {
        var buffer = new byte[DhcpHeader.Size + 8];
        var writer = new DhcpWriter(buffer);
        writer.WriteHeader(new DhcpHeader(DhcpOperation.BootRequest, 1, Client));
        Assert.That(writer.WriteOption(DhcpOption.HostName, new byte[256]), Is.EqualTo(WireError.BadOption));
        Assert.That(writer.WriteOption(DhcpOption.End, []), Is.EqualTo(WireError.BadOption));
        Assert.That(writer.WriteUInt32(DhcpOption.IpAddressLeaseTime, 1), Is.EqualTo(WireError.None));
        Assert.That(writer.WriteMessageType(DhcpMessageType.Discover), Is.EqualTo(WireError.BufferTooSmall));
        Assert.That(writer.Length, Is.EqualTo(DhcpHeader.Size + 6));
        Assert.That(writer.Finish(), Is.EqualTo(buffer.Length), "padded as far as the buffer allows");
        Assert.That(Parse(buffer).LeaseTime, Is.EqualTo(1u));
    }
}
