using TcpIpSharp.Net.Ipv6;
using TcpIpSharp.Tests.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Net;

/// <summary>Two dual-stack hosts on an in-memory link in virtual time: link-local addresses, DAD, ND, echo, UDP and TCP over IPv6.</summary>
public class Ipv6HostTests
{
    private static readonly Ipv6Address LinkLocalA = Ipv6Address.Parse("fe80::ff:fe00:a"), LinkLocalB = Ipv6Address.Parse("fe80::ff:fe00:b");
    private static readonly Ipv6Address GlobalA = Ipv6Address.Parse("2001:db8:1::a"), GlobalB = Ipv6Address.Parse("2001:db8:1::b");

    private static TwoStacks DualStack(Ipv6Options? v6 = null, int seed = 1)
        => new(seed: seed, options: new NetworkStackOptions { Ipv6 = v6 ?? new Ipv6Options() });

    private static bool Preferred(NetworkStack s, Ipv6Address address)
        => s.Ipv6Addresses.Any(a => a.Address == address && a.State == Ipv6AddressState.Preferred);

    [Test]
    public void Link_local_addresses_come_from_the_mac_and_become_preferred_after_dad()
    {
        using var t = DualStack();
        t.RunUntil(() => Preferred(t.A, LinkLocalA) && Preferred(t.B, LinkLocalB), TimeSpan.FromSeconds(5));
        var info = t.A.Ipv6Addresses.Single(a => a.Address == LinkLocalA);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(info.Origin, Is.EqualTo(Ipv6AddressOrigin.LinkLocal));
            Assert.That(info.PrefixLength, Is.EqualTo(64));
            Assert.That(info.ValidLifetime, Is.Null, "a link-local address never expires");
            // RFC 4862 5.4: one probe, one second (RetransTimer) at least before the address is used.
            Assert.That(t.A.Statistics.Snapshot().Single(kv => kv.Key == "nd.solicitations_sent").Value, Is.GreaterThanOrEqualTo(1));
        }
    }

    [Test]
    public void Dad_finds_a_duplicate_static_address_and_reports_it()
    {
        var same = new Ipv6Options { StaticAddresses = [(GlobalA, 64)] };
        using var t = DualStack(same);
        var conflicts = new List<Ipv6Address>();
        t.A.Ipv6AddressConflict += (a, _) => conflicts.Add(a);
        t.B.Ipv6AddressConflict += (a, _) => conflicts.Add(a);
        t.RunUntil(() => Preferred(t.A, LinkLocalA) && Preferred(t.B, LinkLocalB), TimeSpan.FromSeconds(5));
        t.RunUntil(() => t.Clock.Now > TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));
        var states = new[] { t.A, t.B }.Select(s => s.Ipv6Addresses.Single(a => a.Address == GlobalA).State).ToArray();
        // Both probe the same address at about the same time: at least one sees the other's probe and gives it up.
        Assert.That(states, Has.Some.EqualTo(Ipv6AddressState.Duplicate), string.Join(",", states));
        Assert.That(conflicts, Has.Some.EqualTo(GlobalA));
    }

    [Test]
    public void Echo_over_link_local_resolves_the_neighbour_and_is_answered()
    {
        using var t = DualStack();
        t.RunUntil(() => Preferred(t.A, LinkLocalA) && Preferred(t.B, LinkLocalB), TimeSpan.FromSeconds(5));
        var echo = t.A.OpenEchoClient(77);
        Assert.That(echo.Send(LinkLocalB, 1, 56, t.Clock.Now), Is.EqualTo(NetError.None));
        TcpIpSharp.Net.EchoReply reply = default;
        t.RunUntil(() => echo.TryReceive(out reply), TimeSpan.FromSeconds(3));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.From, Is.EqualTo((IpAddress)LinkLocalB));
            Assert.That(reply.DataIntact, Is.True);
            Assert.That(reply.TimeToLive, Is.EqualTo(64));
        }
    }

    [Test]
    public void A_large_echo_is_fragmented_and_reassembled_both_ways()
    {
        using var t = DualStack();
        t.RunUntil(() => Preferred(t.A, LinkLocalA) && Preferred(t.B, LinkLocalB), TimeSpan.FromSeconds(5));
        var echo = t.A.OpenEchoClient(78);
        Assert.That(echo.Send(LinkLocalB, 1, 65000, t.Clock.Now), Is.EqualTo(NetError.None));
        TcpIpSharp.Net.EchoReply reply = default;
        t.RunUntil(() => echo.TryReceive(out reply), TimeSpan.FromSeconds(3));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(reply.PayloadLength, Is.EqualTo(65000));
            Assert.That(reply.DataIntact, Is.True);
            Assert.That(t.B.Statistics.Snapshot().Single(kv => kv.Key == "ipv6.reassembled").Value, Is.EqualTo(1));
            Assert.That(t.A.Statistics.Snapshot().Single(kv => kv.Key == "ipv6.reassembled").Value, Is.EqualTo(1));
        }
    }

    [Test]
    public void Udp_over_ipv6_to_a_dual_stack_endpoint_and_port_unreachable_to_a_closed_port()
    {
        using var t = DualStack();
        t.RunUntil(() => Preferred(t.A, LinkLocalA) && Preferred(t.B, LinkLocalB), TimeSpan.FromSeconds(5));
        Assert.That(t.B.OpenUdp(7, IpAddress.Any, out var server), Is.EqualTo(NetError.None));
        Assert.That(t.A.OpenUdp(0, IpAddress.Any, out var client), Is.EqualTo(NetError.None));
        Assert.That(client!.SendTo("hello6"u8, LinkLocalB, 7), Is.EqualTo(NetError.None));
        var buffer = new byte[64];
        int n = -1;
        IpAddress from = default;
        t.RunUntil(() => (n = server!.Receive(buffer, out from, out _)) >= 0, TimeSpan.FromSeconds(3));
        Assert.That(buffer[..n], Is.EqualTo("hello6"u8.ToArray()));
        Assert.That(from, Is.EqualTo((IpAddress)LinkLocalA));

        client.Peer = (LinkLocalB, 9999);
        Assert.That(client.SendTo("x"u8, LinkLocalB, 9999), Is.EqualTo(NetError.None));
        t.RunUntil(() => client.PendingError != NetError.None, TimeSpan.FromSeconds(3));
        Assert.That(client.TakeError(), Is.EqualTo(NetError.ConnectionRefused));
    }

    [Test]
    public void Tcp_moves_a_megabyte_over_static_global_addresses_byte_exact()
    {
        // Each stack has its own static global address (TwoStacks over IPv6): A connects to B's, and B sees A's global
        // address as the source (RFC 6724: a global destination gets a global source of the same prefix).
        using var t = new TwoStacks(family: IpFamily.V6);
        var listener = t.B.ListenTcp(5001);
        var client = t.A.ConnectTcp(TwoStacks.Address6B, 5001);
        TcpIpSharp.Transport.Tcp.TcpConnection? server = null;
        t.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(5));
        Assert.That(server!.RemoteAddress, Is.EqualTo((IpAddress)TwoStacks.Address6A), "a global destination gets a global source");
        MoveAMegabyte(t, client, server);
    }

    [Test]
    public void Tcp_moves_a_megabyte_between_link_local_addresses_byte_exact()
    {
        var v6a = new Ipv6Options { StaticAddresses = [(GlobalA, 64)] };
        using var t = new TwoStacks(options: new NetworkStackOptions { Ipv6 = v6a });
        // A also has a global address; B's link-local destination must still get A's link-local source.
        t.RunUntil(() => Preferred(t.A, GlobalA) && Preferred(t.B, LinkLocalB), TimeSpan.FromSeconds(5));
        var listener = t.B.ListenTcp(5001);
        var client = t.A.ConnectTcp(LinkLocalB, 5001);
        TcpIpSharp.Transport.Tcp.TcpConnection? server = null;
        t.RunUntil(() => listener.TryAccept(out server), TimeSpan.FromSeconds(5));
        Assert.That(client.RemoteAddress, Is.EqualTo((IpAddress)LinkLocalB));
        Assert.That(server!.RemoteAddress, Is.EqualTo((IpAddress)LinkLocalA), "a link-local destination gets a link-local source (RFC 6724)");
        Assert.That(client.MaximumSegmentSize, Is.EqualTo(1500 - 40 - 20));
        MoveAMegabyte(t, client, server);
    }

    private static void MoveAMegabyte(TwoStacks t, TcpIpSharp.Transport.Tcp.TcpConnection client, TcpIpSharp.Transport.Tcp.TcpConnection server)
    {
        var data = TcpTransferTests.Pattern(1 << 20, 5);
        int sent = 0, received = 0;
        var got = new byte[data.Length];
        t.RunUntil(() =>
        {
            if (sent < data.Length) sent += client.Send(data.AsSpan(sent));
            received += Math.Max(0, server.Receive(got.AsSpan(received)));
            return received == data.Length;
        }, TimeSpan.FromSeconds(60));
        Assert.That(got, Is.EqualTo(data));
    }
}
