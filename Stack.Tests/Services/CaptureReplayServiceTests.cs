using System.Buffers.Binary;
using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Services.Dns;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services;

/// <summary>
/// Real DHCP and DNS exchanges replayed into the client and the resolver: the server's recorded messages are fed back
/// (with the client's random transaction ID or query ID and port put in, fields that are random by design), and the
/// client's next message is compared with the recorded client's, and the resulting configuration or answer with what
/// the server said. Our own captures (dnsmasq against udhcpc and dig) and the shared corpus.
/// </summary>
public class CaptureReplayServiceTests
{
    private static List<SentDatagram> UdpFrames(string path)
        => CaptureReader.ReadFrames(path).Select(f => SentDatagram.TryParse(f.Data, verifyChecksum: false)).OfType<SentDatagram>().ToList();

    private static string Own(string name) => Path.Combine(TestPaths.OwnCaptures, name);

    private static string Shared(string relative)
    {
        var path = Path.Combine(TestPaths.RequireSharedCaptures(), relative);
        Assert.That(File.Exists(path), Is.True, path);
        return path;
    }

    // ------------------------------------------------------------------------------------------------ DHCP

    private static byte[] WithTransactionId(byte[] payload, uint xid)
    {
        var copy = (byte[])payload.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(4), xid);
        return copy;
    }

    // Rebuilds a recorded server frame (recomputing checksums some captures have broken) around a payload.
    private static byte[] ServerFrame(SentDatagram recorded, byte[] payload, MacAddress clientMac)
    {
        var udp = Frames.UdpMessage(recorded.Source, recorded.Destination, recorded.SourcePort, recorded.DestinationPort, payload);
        var dstMac = recorded.EthernetDestination.IsBroadcast ? MacAddress.Broadcast : clientMac;
        return Frames.Ipv4(recorded.Source, recorded.Destination, IpProtocol.Udp, udp, srcMac: recorded.EthernetSource, dstMac: dstMac);
    }

    private static void AssertSameMessage(SentDatagram ours, SentDatagram recorded)
    {
        var a = ours.Dhcp;
        var b = recorded.Dhcp;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(a.MessageType, Is.EqualTo(b.MessageType), "message type");
            Assert.That(a.Operation, Is.EqualTo(b.Operation));
            Assert.That(a.ClientMacAddress, Is.EqualTo(b.ClientMacAddress), "chaddr");
            Assert.That(a.ClientAddress, Is.EqualTo(b.ClientAddress), "ciaddr");
            Assert.That(a.YourAddress, Is.EqualTo(b.YourAddress), "yiaddr");
            Assert.That(a.ServerIdentifier, Is.EqualTo(b.ServerIdentifier), "server identifier");
            // Option 50 is optional in DISCOVER (a client may ask for its last address there); required elsewhere.
            if (b.MessageType != DhcpMessageType.Discover) Assert.That(a.RequestedIpAddress, Is.EqualTo(b.RequestedIpAddress), "requested address");
            Assert.That((ours.Source, ours.Destination, ours.SourcePort, ours.DestinationPort),
                Is.EqualTo((recorded.Source, recorded.Destination, recorded.SourcePort, recorded.DestinationPort)), "addresses and ports");
        }
    }

    private static void AssertConfigured(ServiceRig rig, DhcpClient client, DhcpMessage ack)
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.State, Is.EqualTo(DhcpState.Bound));
            Assert.That(rig.Stack.Address, Is.EqualTo(ack.YourAddress));
            Assert.That(rig.Stack.SubnetMask, Is.EqualTo(ack.SubnetMask ?? rig.Stack.SubnetMask));
            Assert.That(rig.Stack.Gateway, Is.EqualTo(ack.Router ?? Ipv4Address.Any));
            var dns = ack.DomainNameServers;
            var expected = new Ipv4Address[dns.Count];
            for (int i = 0; i < dns.Count; i++) expected[i] = dns[i];
            Assert.That(rig.Stack.DnsServers, Is.EqualTo(expected));
            Assert.That(client.Lease!.LeaseTime, Is.EqualTo(TimeSpan.FromSeconds(ack.LeaseTime!.Value)));
            Assert.That(client.Lease.ServerIdentifier, Is.EqualTo(ack.ServerIdentifier));
        }
    }

    /// <summary>
    /// Replays a whole recorded exchange: at each recorded client message, the client's own must match; at each server
    /// reply, it is fed (with our xid). Returns the client, bound, with the rig to inspect.
    /// </summary>
    private static (ServiceRig Rig, DhcpClient Client) ReplayDhcp(List<SentDatagram> recorded, DhcpClientOptions? options = null)
    {
        var dhcp = recorded.Where(d => d.DestinationPort is 67 or 68).ToList();
        var mac = dhcp[0].Dhcp.ClientMacAddress!.Value;
        var client = new DhcpClient(options);
        var rig = new ServiceRig(new NetworkStackOptions { MacAddress = mac }, client);
        rig.ArpResponders.Clear();
        foreach (var message in dhcp)
        {
            if (message.Dhcp.Operation == DhcpOperation.BootRequest)
            {
                if (message.Dhcp.MessageType == DhcpMessageType.Release)
                {
                    rig.ArpResponders.Add(message.Destination);
                    rig.ResponderMac = message.EthernetDestination;
                    client.Stop(rig.Stack, rig.Clock.Now);
                    rig.Poll();
                }
                var ours = rig.DrainUdp().Where(d => d.DestinationPort == 67).ToList();
                Assert.That(ours, Has.Count.EqualTo(1), $"one {message.Dhcp.MessageType} from the client");
                AssertSameMessage(ours[0], message);
            }
            else
            {
                rig.Inject(ServerFrame(message, WithTransactionId(message.Payload, client.TransactionId), mac));
                if (message.Dhcp.MessageType == DhcpMessageType.Ack)
                {
                    rig.Advance(TimeSpan.FromSeconds(1.1));   // the ARP check
                    AssertConfigured(rig, client, message.Dhcp);
                    rig.Drain();
                }
            }
        }
        return (rig, client);
    }

    [Test]
    public void Own_dhcp_capture_udhcpc_against_dnsmasq_gives_the_same_messages_and_configuration()
    {
        var recorded = UdpFrames(Own("dhcp.pcap"));
        // udhcpc asks for unicast replies, as dnsmasq sent them: the client takes them before it has an address.
        var (rig, client) = ReplayDhcp(recorded, new DhcpClientOptions { BroadcastFlag = false });
        using var _r = rig;
        Assert.That(client.State, Is.EqualTo(DhcpState.Stopped), "stopped with a RELEASE, as udhcpc did");
        Assert.That(client.Statistics.ReleasesSent, Is.EqualTo(1));
        Assert.That(rig.Stack.Address, Is.EqualTo(Ipv4Address.Any));
    }

    [TestCase("charrua/test/dhcp2.pcap")]
    [TestCase("tcpdump/tests/dhcp-rfc3004.pcap")]
    public void Shared_dhcp_captures_give_the_same_messages_and_configuration(string capture)
    {
        var (rig, client) = ReplayDhcp(UdpFrames(Shared(capture)), new DhcpClientOptions { BroadcastFlag = false });
        using var _r = rig;
        Assert.That(client.Status, Is.EqualTo(DhcpStatus.GotIp));
    }

    [Test]
    public void Lwip_offer_and_ack_take_the_client_from_selecting_to_bound()
    {
        var offer = UdpFrames(Shared("lwip/test/unit/dhcp/dhcp_offer.pcap")).Single();
        var ack = UdpFrames(Shared("lwip/test/unit/dhcp/dhcp_ack.pcap")).Single();
        var mac = offer.Dhcp.ClientMacAddress!.Value;
        var client = new DhcpClient();
        using var rig = new ServiceRig(new NetworkStackOptions { MacAddress = mac }, client);
        Assert.That(rig.DrainUdp().Single().Dhcp.MessageType, Is.EqualTo(DhcpMessageType.Discover));
        rig.Inject(ServerFrame(offer, WithTransactionId(offer.Payload, client.TransactionId), mac));
        var request = rig.DrainUdp().Single().Dhcp;
        Assert.That((request.MessageType, request.RequestedIpAddress, request.ServerIdentifier),
            Is.EqualTo((DhcpMessageType.Request, (Ipv4Address?)offer.Dhcp.YourAddress, offer.Dhcp.ServerIdentifier)));
        rig.Inject(ServerFrame(ack, WithTransactionId(ack.Payload, client.TransactionId), mac));
        rig.Advance(TimeSpan.FromSeconds(1.1));
        AssertConfigured(rig, client, ack.Dhcp);
        Assert.That(rig.Stack.Address, Is.EqualTo(Ipv4Address.Parse("195.170.189.200")));
    }

    [Test]
    public void Lwip_nak_without_an_end_option_restarts_a_rebooting_client_and_an_ack_to_someone_elses_inform_is_ignored()
    {
        var nak = UdpFrames(Shared("lwip/test/unit/dhcp/dhcp_nack_no_endmarker.pcap")).Single();
        var mac = nak.Dhcp.ClientMacAddress!.Value;
        var client = new DhcpClient(new DhcpClientOptions { RequestedAddress = Ipv4Address.Parse("195.170.189.200") });
        using var rig = new ServiceRig(new NetworkStackOptions { MacAddress = mac }, client);
        Assert.That(client.State, Is.EqualTo(DhcpState.Rebooting));
        rig.DrainUdp();
        var informAck = UdpFrames(Shared("zeek/testing/btest/Traces/dhcp/dhcp_inform.pcap")).Single(d => d.DestinationPort == 68);
        rig.Inject(ServerFrame(informAck with { Destination = Ipv4Address.Broadcast, EthernetDestination = MacAddress.Broadcast }, informAck.Payload, mac));
        Assert.That(client.Statistics.IgnoredTransactionId + client.Statistics.IgnoredHardwareAddress, Is.EqualTo(1));
        rig.Inject(ServerFrame(nak, WithTransactionId(nak.Payload, client.TransactionId), mac));
        Assert.That(client.Statistics.NaksReceived, Is.EqualTo(1));
        Assert.That(client.State, Is.EqualTo(DhcpState.Selecting));
    }

    // ------------------------------------------------------------------------------------------------ DNS

    /// <summary>
    /// Asks the resolver the question of the recorded query at <paramref name="queryIndex"/> (among the capture's DNS
    /// datagrams), checks our query against it, and feeds the recorded responses to whatever the resolver asks, until
    /// the lookup completes.
    /// </summary>
    private static DnsLookup ReplayDns(List<SentDatagram> recorded, int queryIndex)
    {
        var dns = recorded.Where(d => d.DestinationPort == 53 || d.SourcePort == 53).ToList();
        var query = dns[queryIndex];
        var (name, type) = Question(query.Payload);
        var resolver = new DnsResolver();
        using var rig = new ServiceRig(new NetworkStackOptions
        {
            MacAddress = Frames.StackMac, Address = query.Source, PrefixLength = 24, Gateway = new Ipv4Address((query.Source.Value & 0xFFFFFF00) | 1),
        }, resolver);
        rig.ArpResponders.Clear();
        rig.ArpResponders.Add(rig.Stack.Gateway);
        rig.ArpResponders.Add(query.Destination);
        rig.Stack.SetDnsServers([query.Destination]);
        var lookup = resolver.Resolve(name, type, rig.Clock.Now);
        for (int step = 0; step < 4 && !lookup.IsCompleted; step++)
        {
            rig.Poll();
            var ours = rig.DrainUdp().Single(d => d.DestinationPort == 53);
            var (askedName, askedType) = Question(ours.Payload);
            if (step == 0)
            {
                var recordedQuery = query.Dns;
                using (Assert.EnterMultipleScope())
                {
                    Assert.That((askedName, askedType), Is.EqualTo((name, type)), "the question");
                    // A stub resolver always asks for recursion; some recorded queries went to authoritative servers without it.
                    Assert.That(ours.Dns.IsRecursionDesired, Is.True, "RD");
                    Assert.That(ours.Dns.Opcode, Is.EqualTo(recordedQuery.Opcode));
                    Assert.That((ours.Destination, ours.DestinationPort), Is.EqualTo((query.Destination, (ushort)53)));
                }
            }
            // The recorded response to this question (the resolver may chase a CNAME with a new query).
            var response = dns.FirstOrDefault(d => d.SourcePort == 53 && d.Dns.IsResponse && Question(d.Payload) is var (n, t)
                                                   && string.Equals(n, askedName, StringComparison.OrdinalIgnoreCase) && t == askedType);
            Assert.That(response, Is.Not.Null, $"the capture has a response for {askedName} {askedType}");
            var payload = (byte[])response!.Payload.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(payload, ours.Dns.Id);
            rig.Inject(Frames.Ipv4(ours.Destination, ours.Source, IpProtocol.Udp,
                Frames.UdpMessage(ours.Destination, ours.Source, 53, ours.SourcePort, payload)));
        }
        Assert.That(lookup.IsCompleted, Is.True, "the lookup completed on the recorded responses");
        return lookup;
    }

    private static (string Name, DnsType Type) Question(byte[] payload)
    {
        Assert.That(DnsMessage.TryParse(payload, out var message), Is.EqualTo(WireError.None));
        var reader = message.GetReader();
        Assert.That(reader.TryReadQuestion(out var q), Is.True);
        return (q.Name.ToString(), q.Type);
    }

    private static string Outcome(DnsLookup lookup) => lookup.Error != DnsError.None
        ? lookup.Error.ToString()
        : (lookup.Aliases.Count > 0 ? $"{lookup.CanonicalName}: " : "") + string.Join(" | ", lookup.Records.Select(r => $"{r.Type} {r.Data}"));

    [TestCase(0, "A 192.0.2.20")]
    [TestCase(2, "A 192.0.2.30")]
    [TestCase(4, "host.example.test: A 192.0.2.20")]
    [TestCase(6, "Aaaa 2001:db8::20")]
    [TestCase(8, "Mx 10 mail.example.test")]
    [TestCase(10, "Txt \"v=spf1 -all\" \"second string\"")]
    [TestCase(12, "NameNotFound")]
    public void Own_dns_capture_dig_against_dnsmasq_gives_the_same_questions_and_answers(int queryIndex, string expected)
    {
        var lookup = ReplayDns(UdpFrames(Own("dns.pcap")), queryIndex);
        Assert.That(Outcome(lookup), Is.EqualTo(expected));
        if (lookup.Error == DnsError.NameNotFound) Assert.That(lookup.Errno, Is.EqualTo(-2));
    }

    // Only answer records of the final name count: the addresses of name servers in the additional section do not.
    [TestCase("tcpdump/tests/dns_udp.pcap", 0, "A 192.139.46.66 | A 198.199.88.104")]
    [TestCase("zeek/testing/btest/Traces/dns-two-responses.pcap", 0, "WWW-CMU-2.ANDREW.cmu.edu: A 128.2.10.163")]
    [TestCase("packetnet/Test/CaptureFiles/udp_dns_request_response.pcap", 0, "googlemail.l.google.com: A 72.14.205.19 | A 72.14.205.83 | A 72.14.205.17 | A 72.14.205.18")]
    [TestCase("zeek/testing/btest/Traces/dns/long-connection.pcap", 6, "A 204.152.190.12")]
    [TestCase("zeek/testing/btest/Traces/dns/long-connection.pcap", 8, "Aaaa 2001:4f8:4:7:2e0:81ff:fe52:9a6b")]
    [TestCase("zeek/testing/btest/Traces/dns/long-connection.pcap", 12, "NoData")]
    [TestCase("zeek/testing/btest/Traces/dns/long-connection.pcap", 16, "NoData")]
    [TestCase("zeek/testing/btest/Traces/dns/long-connection.pcap", 18, "NameNotFound")]
    [TestCase("dpkt/examples/data/dns_icmp.pcap", 6, "A 174.137.42.65")]
    public void Shared_dns_captures_give_the_same_questions_and_answers(string capture, int queryIndex, string expected)
        => Assert.That(Outcome(ReplayDns(UdpFrames(Shared(capture)), queryIndex)), Is.EqualTo(expected));

    [Test]
    public void Shared_dns_capture_mx_and_ptr_answers_come_back_as_records()
    {
        var frames = UdpFrames(Shared("zeek/testing/btest/Traces/dns/long-connection.pcap"));
        var mx = ReplayDns(frames, 0);
        var ptr = ReplayDns(frames, 4);
        Assert.That(mx.Records, Is.Not.Empty);
        Assert.That(mx.Records.Select(r => r.Type), Is.All.EqualTo(DnsType.Mx));
        Assert.That(ptr.Records.Select(r => r.Type), Is.All.EqualTo(DnsType.Ptr));
        Assert.That(ptr.Records, Is.Not.Empty);
    }

    [TestCase("tcpdump/tests/dns-zlip-1.pcap")]
    [TestCase("zeek/testing/btest/Traces/dns/max-compression-depth.pcap")]
    [TestCase("zeek/testing/btest/Traces/dns53.pcap")]
    public void Malformed_or_unasked_dns_payloads_from_the_corpus_are_rejected_without_an_exception(string capture)
    {
        var payload = UdpFrames(Shared(capture)).First(d => d.DestinationPort == 53 || d.SourcePort == 53).Payload;
        var resolver = new DnsResolver();
        using var rig = ServiceRig.Configured(resolver);
        rig.Stack.SetDnsServers([Frames.PeerIp]);
        var lookup = resolver.Resolve("a", DnsType.A, rig.Clock.Now);
        var ours = rig.DrainUdp().Single();
        var copy = (byte[])payload.Clone();
        if (copy.Length >= 2) BinaryPrimitives.WriteUInt16BigEndian(copy, ours.Dns.Id);
        rig.Inject(DnsReply.Frame(copy, Frames.PeerIp, ours.SourcePort));
        var s = resolver.Statistics;
        TestContext.Out.WriteLine($"{capture}: malformed {s.RejectedMalformed}, question {s.RejectedQuestion}, accepted {s.ResponsesAccepted}; lookup {Outcome(lookup)}");
        Assert.That(s.RejectedMalformed + s.RejectedQuestion + s.ResponsesAccepted, Is.EqualTo(1));
        if (s.ResponsesAccepted == 1) Assert.That(lookup.IsCompleted, Is.True);
    }
}
