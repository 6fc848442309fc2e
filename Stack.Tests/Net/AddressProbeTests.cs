using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>What a DHCP client needs from the interface before it has an address: RFC 5227 probes, a settable MTU, and unicast replies to port 68.</summary>
public class AddressProbeTests
{
    private static readonly Ipv4Address Offered = Ipv4Address.Parse("192.0.2.50");
    private static readonly MacAddress Other = MacAddress.Parse("02:00:00:00:00:77");

    private static StackHarness Unconfigured() => new(new NetworkStackOptions { MacAddress = Frames.StackMac });

    [Test]
    public void A_probe_is_a_broadcast_arp_request_from_0_0_0_0_for_the_address()
    {
        using var h = Unconfigured();
        h.Stack.Ipv4.ProbeAddress(Offered);
        var sent = h.Drain();
        Assert.That(sent, Has.Count.EqualTo(1));
        EthernetFrame.TryParse(sent[0], out var eth);
        Assert.That(ArpPacket.TryParse(eth.Payload, out var arp), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(eth.Destination, Is.EqualTo(MacAddress.Broadcast));
            Assert.That(arp.Operation, Is.EqualTo(ArpOperation.Request));
            Assert.That(arp.SenderHardwareAddress, Is.EqualTo(Frames.StackMac));
            Assert.That(arp.SenderProtocolAddress, Is.EqualTo(Ipv4Address.Any));
            Assert.That(arp.TargetHardwareAddress, Is.EqualTo(MacAddress.Zero));
            Assert.That(arp.TargetProtocolAddress, Is.EqualTo(Offered));
            Assert.That(h.Stack.Ipv4.ProbeConflict, Is.Null);
        }
    }

    [Test]
    public void A_reply_from_the_probed_address_is_a_conflict()
    {
        using var h = Unconfigured();
        h.Stack.Ipv4.ProbeAddress(Offered);
        h.Drain();
        // Linux answers a probe with a unicast reply whose target IP is 0.0.0.0.
        h.Inject(Frames.Arp(ArpOperation.Reply, Other, Offered, Frames.StackMac, Ipv4Address.Any));
        Assert.That(h.Stack.Ipv4.ProbeConflict, Is.EqualTo(Other));
        h.Stack.Ipv4.EndProbe();
        Assert.That(h.Stack.Ipv4.ProbeConflict, Is.Null);
    }

    [Test]
    public void Another_hosts_probe_for_the_same_address_is_a_conflict_but_one_for_another_address_is_not()
    {
        using var h = Unconfigured();
        h.Stack.Ipv4.ProbeAddress(Offered);
        h.Inject(Frames.Arp(ArpOperation.Request, Other, Ipv4Address.Any, MacAddress.Zero, Ipv4Address.Parse("192.0.2.51")));
        Assert.That(h.Stack.Ipv4.ProbeConflict, Is.Null);
        h.Inject(Frames.Arp(ArpOperation.Request, Other, Ipv4Address.Any, MacAddress.Zero, Offered));
        Assert.That(h.Stack.Ipv4.ProbeConflict, Is.EqualTo(Other));
    }

    [Test]
    public void Arp_about_other_addresses_is_no_conflict()
    {
        using var h = Unconfigured();
        h.Stack.Ipv4.ProbeAddress(Offered);
        h.Inject(Frames.Arp(ArpOperation.Request, Other, Frames.PeerIp, MacAddress.Zero, Ipv4Address.Parse("192.0.2.9")));
        Assert.That(h.Stack.Ipv4.ProbeConflict, Is.Null);
    }

    [Test]
    public void The_mtu_can_be_lowered_and_restored_but_not_raised_past_the_links()
    {
        using var h = new StackHarness();
        int max = h.Stack.Mtu;
        h.Stack.SetMtu(576);
        Assert.That(h.Stack.Mtu, Is.EqualTo(576));
        h.Stack.SetMtu(9000);
        Assert.That(h.Stack.Mtu, Is.EqualTo(max));
        h.Stack.SetMtu(10);
        Assert.That(h.Stack.Mtu, Is.EqualTo(68));
    }

    [Test]
    public void Without_an_address_a_unicast_datagram_to_port_68_is_taken_and_one_to_another_port_is_not()
    {
        using var h = Unconfigured();
        var client = h.Stack.OpenUdp(68);
        var other = h.Stack.OpenUdp(1234);
        h.Inject(Frames.Ipv4(Frames.PeerIp, Offered, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Offered, 67, 68, [1, 2, 3])));
        h.Inject(Frames.Ipv4(Frames.PeerIp, Offered, IpProtocol.Udp, Frames.UdpMessage(Frames.PeerIp, Offered, 67, 1234, [1, 2, 3])));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(client.QueuedDatagrams, Is.EqualTo(1));
            Assert.That(other.QueuedDatagrams, Is.Zero);
            Assert.That(h.Drain(), Is.Empty, "no ICMP error from an unconfigured host");
        }
    }

    [Test]
    public void Dns_servers_are_kept_in_order_without_duplicates_or_zeros_and_bounded()
    {
        using var h = new StackHarness();
        var a = Ipv4Address.Parse("192.0.2.53");
        var b = Ipv4Address.Parse("198.51.100.53");
        h.Stack.SetDnsServers([a, Ipv4Address.Any, b, a]);
        Assert.That(h.Stack.DnsServers, Is.EqualTo(new[] { a, b }));
        h.Stack.SetDnsServers([new(1), new(2), new(3), new(4), new(5), new(6)]);
        Assert.That(h.Stack.DnsServers, Has.Count.EqualTo(NetworkStack.MaximumDnsServers));
    }
}
