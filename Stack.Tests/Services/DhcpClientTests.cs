using TcpIpSharp.Services.Dhcp;
using TcpIpSharp.Tests.Net;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Services;

/// <summary>The DHCP client against a scripted server, frame by frame, in virtual time.</summary>
public class DhcpClientTests
{
    private static readonly Ipv4Address Offered = Ipv4Address.Parse("192.0.2.50");
    private static readonly MacAddress Intruder = MacAddress.Parse("02:00:00:00:00:99");

    private static (ServiceRig Rig, DhcpClient Client, List<(DhcpState From, DhcpState To)> Changes) Start(DhcpClientOptions? options = null)
    {
        var client = new DhcpClient(options ?? new DhcpClientOptions { HostName = "picow" });
        var changes = new List<(DhcpState, DhcpState)>();
        client.StateChanged += (c, previous) => changes.Add((previous, c.State));
        var rig = new ServiceRig(null, client);
        return (rig, client, changes);
    }

    private static SentDatagram Single(ServiceRig rig, string what)
    {
        var sent = rig.DrainUdp();
        Assert.That(sent, Has.Count.EqualTo(1), what);
        return sent[0];
    }

    private static DhcpReply Reply(DhcpClient client, DhcpMessageType type, Ipv4Address? address = null)
        => new(type, client.TransactionId, Frames.StackMac, address ?? Offered);

    // DISCOVER -> OFFER -> REQUEST -> ACK -> ARP check -> BOUND.
    private static void Bind(ServiceRig rig, DhcpClient client, DhcpReply? ack = null)
    {
        Single(rig, "DISCOVER");
        rig.Inject(Reply(client, DhcpMessageType.Offer).Frame());
        Single(rig, "REQUEST");
        var reply = (ack ?? Reply(client, DhcpMessageType.Ack)) with { TransactionId = client.TransactionId };
        rig.Inject(reply.Frame());
        rig.Advance(TimeSpan.FromSeconds(1.1));
        Assert.That(client.State, Is.EqualTo(DhcpState.Bound));
        rig.Drain();
    }

    [Test]
    public void Discover_is_a_broadcast_from_0_0_0_0_with_client_identifier_host_name_and_parameter_list()
    {
        var (rig, client, _) = Start();
        using var _r = rig;
        var discover = Single(rig, "one DISCOVER at start");
        var m = discover.Dhcp;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(discover.EthernetDestination, Is.EqualTo(MacAddress.Broadcast));
            Assert.That(discover.Source, Is.EqualTo(Ipv4Address.Any));
            Assert.That(discover.Destination, Is.EqualTo(Ipv4Address.Broadcast));
            Assert.That((discover.SourcePort, discover.DestinationPort), Is.EqualTo(((ushort)68, (ushort)67)));
            Assert.That(m.Operation, Is.EqualTo(DhcpOperation.BootRequest));
            Assert.That(m.MessageType, Is.EqualTo(DhcpMessageType.Discover));
            Assert.That(m.TransactionId, Is.EqualTo(client.TransactionId));
            Assert.That(m.ClientMacAddress, Is.EqualTo(Frames.StackMac));
            Assert.That(m.IsBroadcast, Is.True);
            Assert.That(m.ClientAddress, Is.EqualTo(Ipv4Address.Any));
            Assert.That(m.ClientIdentifier.ToArray(), Is.EqualTo(new byte[] { 1, 2, 0, 0, 0, 0, 2 }));
            Assert.That(System.Text.Encoding.ASCII.GetString(m.HostName), Is.EqualTo("picow"));
            Assert.That(m.TryGetOption(DhcpOption.ParameterRequestList, out var prl) && prl.IndexOf((byte)DhcpOption.DomainNameServer) >= 0
                        && prl.IndexOf((byte)DhcpOption.InterfaceMtu) >= 0 && prl.IndexOf((byte)DhcpOption.Router) >= 0, Is.True);
            Assert.That(discover.Payload, Has.Length.GreaterThanOrEqualTo(300), "padded to the BOOTP minimum");
            Assert.That(client.State, Is.EqualTo(DhcpState.Selecting));
            Assert.That(client.Status, Is.EqualTo(DhcpStatus.NoIp));
        }
    }

    [Test]
    public void A_full_exchange_binds_and_configures_the_stack_with_every_parameter()
    {
        var (rig, client, changes) = Start();
        using var _r = rig;
        Single(rig, "DISCOVER");
        var offer = Reply(client, DhcpMessageType.Offer);
        rig.Inject(offer.Frame());
        var request = Single(rig, "REQUEST after OFFER").Dhcp;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(request.MessageType, Is.EqualTo(DhcpMessageType.Request));
            Assert.That(request.TransactionId, Is.EqualTo(offer.TransactionId), "RFC 2131 4.4.1: the REQUEST keeps the offer's xid");
            Assert.That(request.RequestedIpAddress, Is.EqualTo(Offered));
            Assert.That(request.ServerIdentifier, Is.EqualTo(DhcpReply.ServerIp));
            Assert.That(request.ClientAddress, Is.EqualTo(Ipv4Address.Any));
        }
        var ack = Reply(client, DhcpMessageType.Ack) with
        {
            Mask = Ipv4Address.Parse("255.255.255.128"), Router = Ipv4Address.Parse("192.0.2.126"), Mtu = 1400,
            DnsServers = [Ipv4Address.Parse("192.0.2.53"), Ipv4Address.Parse("198.51.100.53")], Broadcast = Ipv4Address.Parse("192.0.2.127"),
            LeaseSeconds = 3600,
        };
        rig.Inject(ack.Frame());
        Assert.That(client.State, Is.EqualTo(DhcpState.Checking));
        var probes = rig.Drain();
        rig.Advance(TimeSpan.FromSeconds(1.1));
        probes.AddRange(rig.Drain());
        Assert.That(probes, Has.Count.EqualTo(3), "two ARP probes, then the announcement");
        var s = rig.Stack;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.State, Is.EqualTo(DhcpState.Bound));
            Assert.That(client.Status, Is.EqualTo(DhcpStatus.GotIp));
            Assert.That(s.Address, Is.EqualTo(Offered));
            Assert.That(s.PrefixLength, Is.EqualTo(25));
            Assert.That(s.Gateway, Is.EqualTo(Ipv4Address.Parse("192.0.2.126")));
            Assert.That(s.BroadcastAddress, Is.EqualTo(Ipv4Address.Parse("192.0.2.127")));
            Assert.That(s.Mtu, Is.EqualTo(1400));
            Assert.That(s.DnsServers, Is.EqualTo(ack.DnsServers));
            Assert.That(client.Lease!.LeaseTime, Is.EqualTo(TimeSpan.FromHours(1)));
            Assert.That(client.Lease.RenewalTime, Is.EqualTo(TimeSpan.FromMinutes(30)), "T1 defaults to half the lease");
            Assert.That(client.Lease.RebindingTime, Is.EqualTo(TimeSpan.FromMinutes(52.5)), "T2 defaults to 7/8 of it");
            Assert.That(client.Lease.ToIfconfigString(), Is.EqualTo("('192.0.2.50', '255.255.255.128', '192.0.2.126', '192.0.2.53')"));
            Assert.That(changes, Is.EqualTo(new[]
            {
                (DhcpState.Stopped, DhcpState.Selecting), (DhcpState.Selecting, DhcpState.Requesting),
                (DhcpState.Requesting, DhcpState.Checking), (DhcpState.Checking, DhcpState.Bound),
            }));
            Assert.That(client.Statistics.OffersReceived + client.Statistics.AcksReceived, Is.EqualTo(2));
        }
    }

    [Test]
    public void Discover_is_retransmitted_after_4_8_16_32_64_and_64_seconds_each_within_one_second()
    {
        var (rig, client, _) = Start();
        using var _r = rig;
        Single(rig, "DISCOVER");
        var times = new List<double>();
        var last = rig.Clock.Now;
        while (times.Count < 6)
        {
            rig.Advance(TimeSpan.FromMilliseconds(100));
            var sent = rig.DrainUdp();
            if (sent.Count == 0) continue;
            Assert.That(sent[0].Dhcp.TransactionId, Is.EqualTo(client.TransactionId), "retransmissions keep the xid");
            times.Add((rig.Clock.Now - last).TotalSeconds);
            last = rig.Clock.Now;
        }
        double[] expected = [4, 8, 16, 32, 64, 64];
        for (int i = 0; i < expected.Length; i++)
            Assert.That(times[i], Is.InRange(expected[i] - 1.1, expected[i] + 1.1), $"interval {i + 1}: {string.Join(", ", times)}");
        Assert.That(times.Distinct().Count(), Is.GreaterThan(1), "the intervals are randomised");
        Assert.That(client.Statistics.Retransmissions, Is.EqualTo(6));
    }

    [Test]
    public void Replies_with_another_xid_another_chaddr_or_no_magic_cookie_are_ignored_and_counted()
    {
        var (rig, client, _) = Start();
        using var _r = rig;
        Single(rig, "DISCOVER");
        var offer = Reply(client, DhcpMessageType.Offer);
        rig.Inject((offer with { TransactionId = client.TransactionId + 1 }).Frame());
        rig.Inject((offer with { ClientMac = Intruder }).Frame());
        rig.Inject((offer with { WithoutMagicCookie = true }).Frame());
        rig.Inject((offer with { Operation = DhcpOperation.BootRequest }).Frame());
        rig.Inject((offer with { WithServerIdentifier = false }).Frame());
        rig.Inject(Reply(client, DhcpMessageType.Ack).Frame());   // an ACK while selecting
        var truncated = offer.Payload()[..200];
        rig.Inject(Frames.Ipv4(DhcpReply.ServerIp, Ipv4Address.Broadcast, IpProtocol.Udp,
            Frames.UdpMessage(DhcpReply.ServerIp, Ipv4Address.Broadcast, 67, 68, truncated), dstMac: MacAddress.Broadcast));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.State, Is.EqualTo(DhcpState.Selecting));
            Assert.That(rig.DrainUdp(), Is.Empty);
            Assert.That(client.Statistics.IgnoredTransactionId, Is.EqualTo(1));
            Assert.That(client.Statistics.IgnoredHardwareAddress, Is.EqualTo(1));
            Assert.That(client.Statistics.IgnoredNoMagicCookie, Is.EqualTo(1));
            Assert.That(client.Statistics.IgnoredMalformed, Is.EqualTo(2), "no server identifier; truncated");
            Assert.That(client.Statistics.IgnoredUnexpected, Is.EqualTo(2), "a BOOTREQUEST; an ACK while selecting");
        }
        rig.Inject(offer.Frame());
        Assert.That(client.State, Is.EqualTo(DhcpState.Requesting), "the genuine offer is still taken");
    }

    [Test]
    public void An_offer_sent_unicast_to_the_offered_address_is_taken_before_the_client_has_an_address()
    {
        var (rig, client, _) = Start(new DhcpClientOptions { BroadcastFlag = false });
        using var _r = rig;
        Assert.That(Single(rig, "DISCOVER").Dhcp.IsBroadcast, Is.False);
        rig.Inject(Reply(client, DhcpMessageType.Offer).Frame(to: Offered));
        Assert.That(client.State, Is.EqualTo(DhcpState.Requesting));
    }

    [Test]
    public void At_t1_it_renews_unicast_at_t2_it_rebinds_by_broadcast_and_at_expiry_it_drops_the_address_and_starts_over()
    {
        var (rig, client, _) = Start();
        using var _r = rig;
        Bind(rig, client, Reply(client, DhcpMessageType.Ack) with { LeaseSeconds = 1000, RenewalSeconds = 500, RebindingSeconds = 875 });
        var acquired = client.Lease!.Acquired;
        rig.Advance(TimeSpan.FromSeconds(499) - (rig.Clock.Now - acquired));
        Assert.That(rig.DrainUdp(), Is.Empty, "nothing before T1");
        Assert.That(client.State, Is.EqualTo(DhcpState.Bound));
        rig.Advance(TimeSpan.FromSeconds(1.1));
        var renew = rig.DrainUdp().Single(d => d.DestinationPort == 67);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.State, Is.EqualTo(DhcpState.Renewing));
            Assert.That(renew.Destination, Is.EqualTo(DhcpReply.ServerIp), "unicast to the server");
            Assert.That(renew.Source, Is.EqualTo(Offered));
            Assert.That(renew.Dhcp.ClientAddress, Is.EqualTo(Offered), "ciaddr");
            Assert.That(renew.Dhcp.RequestedIpAddress, Is.Null);
            Assert.That(renew.Dhcp.ServerIdentifier, Is.Null);
        }
        // No answer: RFC 2131 4.4.5 retransmits after half the time to T2 (187.5 s), at least 60 s; then at 875 s, REBINDING.
        rig.Advance(TimeSpan.FromSeconds(188));
        Assert.That(rig.DrainUdp().Count(d => d.DestinationPort == 67), Is.EqualTo(1), "one retransmission at about T1 + 187 s");
        rig.Advance(TimeSpan.FromSeconds(875 - 500 - 188 + 1));
        Assert.That(client.State, Is.EqualTo(DhcpState.Rebinding));
        var rebind = rig.DrainUdp().Last(d => d.DestinationPort == 67);
        Assert.That((rebind.Destination, rebind.EthernetDestination, rebind.Source), Is.EqualTo((Ipv4Address.Broadcast, MacAddress.Broadcast, Offered)));
        Assert.That(rig.Stack.Address, Is.EqualTo(Offered), "still usable while rebinding");
        rig.Advance(TimeSpan.FromSeconds(1000 - 875));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(rig.Stack.Address, Is.EqualTo(Ipv4Address.Any), "the lease expired");
            Assert.That(rig.Stack.DnsServers, Is.Empty);
            Assert.That(client.State, Is.EqualTo(DhcpState.Selecting));
            Assert.That(client.Status, Is.EqualTo(DhcpStatus.NoIp));
            Assert.That(client.Statistics.LeasesExpired, Is.EqualTo(1));
            Assert.That(rig.DrainUdp().Last().Dhcp.MessageType, Is.EqualTo(DhcpMessageType.Discover));
        }
    }

    [Test]
    public void An_ack_while_renewing_extends_the_lease_from_the_time_the_request_was_sent()
    {
        var (rig, client, _) = Start();
        using var _r = rig;
        Bind(rig, client, Reply(client, DhcpMessageType.Ack) with { LeaseSeconds = 100 });
        rig.AdvanceUntil(() => client.State == DhcpState.Renewing, TimeSpan.FromSeconds(60), "renewing at T1 = 50 s");
        var sentAt = rig.Clock.Now;
        rig.DrainUdp();
        rig.Advance(TimeSpan.FromSeconds(2));
        rig.Inject((Reply(client, DhcpMessageType.Ack) with { LeaseSeconds = 100 }).Frame(to: Offered));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.State, Is.EqualTo(DhcpState.Bound));
            Assert.That(client.Lease!.Acquired, Is.EqualTo(sentAt));
            Assert.That(client.Lease.ExpiresAt, Is.EqualTo(sentAt + TimeSpan.FromSeconds(100)));
            Assert.That(rig.Stack.Address, Is.EqualTo(Offered));
            Assert.That(rig.Drain(), Is.Empty, "no new ARP check or announcement on a renewal");
        }
    }

    [Test]
    public void A_nak_while_renewing_removes_the_address_and_restarts_with_discover()
    {
        var (rig, client, _) = Start();
        using var _r = rig;
        Bind(rig, client, Reply(client, DhcpMessageType.Ack) with { LeaseSeconds = 100 });
        rig.AdvanceUntil(() => client.State == DhcpState.Renewing, TimeSpan.FromSeconds(60), "renewing");
        rig.DrainUdp();
        rig.Inject(Reply(client, DhcpMessageType.Nak, Ipv4Address.Any).Frame(to: Offered));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.Statistics.NaksReceived, Is.EqualTo(1));
            Assert.That(rig.Stack.Address, Is.EqualTo(Ipv4Address.Any));
            Assert.That(client.State, Is.EqualTo(DhcpState.Selecting));
            var discover = rig.DrainUdp().Single().Dhcp;
            Assert.That(discover.MessageType, Is.EqualTo(DhcpMessageType.Discover));
            Assert.That(discover.RequestedIpAddress, Is.Null, "a NAKed address is not asked for again");
        }
    }

    [Test]
    public void A_nak_while_requesting_restarts_at_once_and_a_second_nak_backs_off()
    {
        var (rig, client, _) = Start();
        using var _r = rig;
        Single(rig, "DISCOVER");
        rig.Inject(Reply(client, DhcpMessageType.Offer).Frame());
        Single(rig, "REQUEST");
        rig.Inject(Reply(client, DhcpMessageType.Nak, Ipv4Address.Any).Frame());
        Assert.That(client.State, Is.EqualTo(DhcpState.Selecting));
        Single(rig, "DISCOVER at once after the first NAK");
        rig.Inject(Reply(client, DhcpMessageType.Offer).Frame());
        Single(rig, "REQUEST");
        rig.Inject(Reply(client, DhcpMessageType.Nak, Ipv4Address.Any).Frame());
        Assert.That(client.State, Is.EqualTo(DhcpState.Init));
        Assert.That(rig.DrainUdp(), Is.Empty);
        rig.Advance(TimeSpan.FromSeconds(5.1));
        Assert.That(client.State, Is.EqualTo(DhcpState.Selecting), "DISCOVER again after about 4 s");
    }

    [Test]
    public void A_request_unanswered_five_times_starts_over_with_discover()
    {
        var (rig, client, _) = Start();
        using var _r = rig;
        Single(rig, "DISCOVER");
        rig.Inject(Reply(client, DhcpMessageType.Offer).Frame());
        rig.Advance(TimeSpan.FromSeconds(4 + 8 + 16 + 32 + 64 + 8));
        var sent = rig.DrainUdp().Select(d => d.Dhcp.MessageType).ToList();
        Assert.That(sent.Count(t => t == DhcpMessageType.Request), Is.EqualTo(5));
        Assert.That(sent.Last(), Is.EqualTo(DhcpMessageType.Discover));
        Assert.That(client.State, Is.EqualTo(DhcpState.Selecting));
    }

    [Test]
    public void An_address_another_host_answers_for_is_declined_and_discovery_resumes_after_ten_seconds()
    {
        var (rig, client, _) = Start();
        using var _r = rig;
        Single(rig, "DISCOVER");
        rig.Inject(Reply(client, DhcpMessageType.Offer).Frame());
        Single(rig, "REQUEST");
        uint xid = client.TransactionId;
        rig.Inject(Reply(client, DhcpMessageType.Ack).Frame());
        Assert.That(client.State, Is.EqualTo(DhcpState.Checking));
        rig.Drain();
        // Linux answers an ARP probe with a reply from the address, target IP 0.0.0.0.
        rig.Inject(Frames.Arp(ArpOperation.Reply, Intruder, Offered, Frames.StackMac, Ipv4Address.Any));
        var decline = Single(rig, "DECLINE");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(decline.Dhcp.MessageType, Is.EqualTo(DhcpMessageType.Decline));
            Assert.That(decline.Destination, Is.EqualTo(Ipv4Address.Broadcast));
            Assert.That(decline.Source, Is.EqualTo(Ipv4Address.Any));
            Assert.That(decline.Dhcp.RequestedIpAddress, Is.EqualTo(Offered));
            Assert.That(decline.Dhcp.ServerIdentifier, Is.EqualTo(DhcpReply.ServerIp));
            Assert.That(decline.Dhcp.ClientAddress, Is.EqualTo(Ipv4Address.Any));
            Assert.That(rig.Stack.Address, Is.EqualTo(Ipv4Address.Any), "the address was never used");
            Assert.That(client.State, Is.EqualTo(DhcpState.Init));
            Assert.That(client.Statistics.Conflicts, Is.EqualTo(1));
        }
        rig.Advance(TimeSpan.FromSeconds(9.9));
        Assert.That(rig.DrainUdp(), Is.Empty);
        rig.Advance(TimeSpan.FromSeconds(0.2));
        var discover = Single(rig, "DISCOVER after 10 s").Dhcp;
        Assert.That(discover.TransactionId, Is.Not.EqualTo(xid));
    }

    [Test]
    public void With_a_remembered_address_it_starts_in_init_reboot_and_falls_back_to_discover_when_unanswered()
    {
        var (rig, client, changes) = Start(new DhcpClientOptions { RequestedAddress = Offered });
        using var _r = rig;
        var request = Single(rig, "INIT-REBOOT REQUEST").Dhcp;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.State, Is.EqualTo(DhcpState.Rebooting));
            Assert.That(request.MessageType, Is.EqualTo(DhcpMessageType.Request));
            Assert.That(request.RequestedIpAddress, Is.EqualTo(Offered));
            Assert.That(request.ServerIdentifier, Is.Null, "RFC 2131 table 5: no server identifier in INIT-REBOOT");
            Assert.That(request.ClientAddress, Is.EqualTo(Ipv4Address.Any));
        }
        rig.AdvanceUntil(() => client.State == DhcpState.Selecting, TimeSpan.FromSeconds(15), "DISCOVER after two REQUESTs");
        var sent = rig.DrainUdp().Select(d => d.Dhcp.MessageType).ToList();
        Assert.That(sent, Is.EqualTo(new[] { DhcpMessageType.Request, DhcpMessageType.Discover }));
        Assert.That(changes.Last(), Is.EqualTo((DhcpState.Rebooting, DhcpState.Selecting)));
    }

    [Test]
    public void Init_reboot_answered_with_ack_binds_the_remembered_address()
    {
        var (rig, client, _) = Start(new DhcpClientOptions { RequestedAddress = Offered });
        using var _r = rig;
        Single(rig, "REQUEST");
        rig.Inject(Reply(client, DhcpMessageType.Ack).Frame());
        rig.Advance(TimeSpan.FromSeconds(1.1));
        Assert.That((client.State, rig.Stack.Address), Is.EqualTo((DhcpState.Bound, Offered)));
    }

    [Test]
    public void Stop_releases_the_lease_unicast_to_the_server_and_removes_the_address()
    {
        var (rig, client, changes) = Start();
        using var _r = rig;
        Bind(rig, client);
        client.Stop(rig.Stack, rig.Clock.Now);
        rig.Poll();   // the server's MAC is resolved for the unicast RELEASE
        var release = Single(rig, "RELEASE");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(release.Dhcp.MessageType, Is.EqualTo(DhcpMessageType.Release));
            Assert.That((release.Source, release.Destination, release.EthernetDestination), Is.EqualTo((Offered, DhcpReply.ServerIp, DhcpReply.ServerMac)));
            Assert.That(release.Dhcp.ClientAddress, Is.EqualTo(Offered));
            Assert.That(release.Dhcp.ServerIdentifier, Is.EqualTo(DhcpReply.ServerIp));
            Assert.That(release.Dhcp.Seconds, Is.Zero);
            Assert.That(rig.Stack.Address, Is.EqualTo(Ipv4Address.Any));
            Assert.That(client.State, Is.EqualTo(DhcpState.Stopped));
            Assert.That(client.Status, Is.EqualTo(DhcpStatus.Idle));
            Assert.That(changes.Last(), Is.EqualTo((DhcpState.Bound, DhcpState.Stopped)));
            Assert.That(rig.Stack.OpenUdp(68, out _), Is.EqualTo(NetError.None), "port 68 is free again");
        }
    }

    [Test]
    public void The_driver_stops_the_client_and_waits_for_arp_so_the_release_leaves()
    {
        var client = new DhcpClient();
        var (a, b) = TcpIpSharp.Links.InMemoryLink.CreatePair();
        using var stack = new NetworkStack(a, new NetworkStackOptions { MacAddress = Frames.StackMac }, new SeededRandomSource(3));
        var driver = new StackDriver(stack);
        driver.Add(client);
        using var stop = new CancellationTokenSource();
        var thread = driver.Start(stop.Token);
        // A tiny server on the other end of the link, on this thread: OFFER, ACK, ARP replies; it stops the driver once bound.
        var buffer = new byte[2000];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        SentDatagram? release = null;
        while (DateTime.UtcNow < deadline && release is null)
        {
            // Stop once bound (after the ACK the client checks the address by ARP first, which a loaded machine can
            // stretch past any fixed delay; a stop before binding has nothing to release).
            if (!stop.IsCancellationRequested && client.Status == DhcpStatus.GotIp) stop.Cancel();
            int n = b.TryReceive(buffer);
            if (n <= 0) { b.WaitReadable(TimeSpan.FromMilliseconds(20)); continue; }
            var frame = buffer.AsSpan(0, n).ToArray();
            EthernetFrame.TryParse(frame, out var eth);
            if (eth.EtherType == EtherType.Arp)
            {
                ArpPacket.TryParse(eth.Payload, out var arp);
                if (arp.TargetProtocolAddress == DhcpReply.ServerIp && arp.Operation == ArpOperation.Request)
                    b.TrySend(Frames.Arp(ArpOperation.Reply, DhcpReply.ServerMac, DhcpReply.ServerIp, Frames.StackMac, arp.SenderProtocolAddress));
                continue;
            }
            if (SentDatagram.TryParse(frame) is not { DestinationPort: 67 } d) continue;
            var type = d.Dhcp.MessageType;
            uint xid = d.Dhcp.TransactionId;
            if (type == DhcpMessageType.Discover) b.TrySend(new DhcpReply(DhcpMessageType.Offer, xid, Frames.StackMac, Offered).Frame());
            else if (type == DhcpMessageType.Request) b.TrySend(new DhcpReply(DhcpMessageType.Ack, xid, Frames.StackMac, Offered).Frame());
            else if (type == DhcpMessageType.Release) release = d;
        }
        stop.Cancel();
        thread.Join(TimeSpan.FromSeconds(10));
        Assert.That(release, Is.Not.Null, "the RELEASE went out after the stop, once ARP resolved the server");
        Assert.That(release!.EthernetDestination, Is.EqualTo(DhcpReply.ServerMac));
    }
}
