using System.Buffers.Binary;
using TcpIpSharp.Diagnostics;
using TcpIpSharp.Links;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Fuzz;

/// <summary>
/// The fuzz targets (issue 8, item 1). Each takes one input and must neither throw nor break an invariant; the fuzz
/// program runs them under SharpFuzz, and Stack.Tests replays fuzz/corpus and fuzz/crashes through them.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>The targets by name.</summary>
    public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["receive"] = Receive,
        ["stateful"] = Stateful,
        ["dns"] = Dns,
        ["dhcp"] = Dhcp,
        ["tcp-options"] = TcpOptionsTarget,
        ["mdns"] = Mdns,
        ["ntp"] = Ntp,
    };

    private static readonly Ipv4Address StackIp = new(192, 0, 2, 2), PeerIp = new(192, 0, 2, 1);
    private static readonly MacAddress StackMac = MacAddress.Parse("02:00:00:00:00:02"), PeerMac = MacAddress.Parse("02:00:00:00:00:01");

    /// <summary>One frame into a stack with a UDP echo endpoint, a TCP listener and an open connection.</summary>
    public static void Receive(byte[] input) => Feed([input]);

    /// <summary>A sequence of frames (each prefixed by a big-endian u16 length) into the same stack, with time passing between them.</summary>
    public static void Stateful(byte[] input)
    {
        var frames = new List<byte[]>();
        for (int at = 0; at + 2 <= input.Length && frames.Count < 64;)
        {
            int length = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(input.AsSpan(at)), input.Length - at - 2);
            frames.Add(input.AsSpan(at + 2, length).ToArray());
            at += 2 + length;
        }
        Feed(frames);
    }

    private static void Feed(List<byte[]> frames)
    {
        var (a, peer) = InMemoryLink.CreatePair(queueFrames: 256);
        // Dual-stack (issue 14): IPv4 192.0.2.2 and IPv6 fe80::ff:fe00:2 (EUI-64) plus 2001:db8::2, preferred at once
        // (no DAD delay) so that frames to either reach everything above IPv6 from the first one.
        using var stack = new NetworkStack(a, new NetworkStackOptions
        {
            MacAddress = StackMac, Address = StackIp, PrefixLength = 24, Gateway = PeerIp,
            Ipv6 = new Net.Ipv6.Ipv6Options { StaticAddresses = [(StackIp6, 64)], DupAddrDetectTransmits = 0 },
        });
        using (peer)
        {
            stack.AfterFrame = StackInvariants.Check;
            var now = TimeSpan.Zero;
            stack.Poll(now);
            stack.OpenUdp(7, IpAddress.Any, out var udpEndpoint);
            var udp = udpEndpoint!;
            var listener = stack.ListenTcp(80);
            // Learn the peer, then open a connection to it (its SYN goes out; the fuzz input may answer it).
            peer.TrySend(ArpRequest());
            stack.Poll(now);
            var connection = stack.ConnectTcp(PeerIp, 5001);
            connection.Send(new byte[3000]);
            // Learn the IPv6 peer (a solicitation for our link-local address with its link-layer option), then open a
            // connection to it as well: the v4 connection keeps the first ephemeral port the seeds answer.
            peer.TrySend(NeighbourSolicitation());
            stack.Poll(now);
            var connection6 = stack.ConnectTcp(PeerIp6, 5001);
            connection6.Send(new byte[3000]);
            // In a multicast group (after the connections, so their ports stay the ones the seeds answer): IGMP queries
            // and other members' reports reach the group table, and reports go out.
            stack.JoinMulticast(new Ipv4Address(239, 1, 2, 3));
            var buffer = new byte[70000];
            foreach (var frame in frames)
            {
                peer.TrySend(frame);
                now += TimeSpan.FromMilliseconds(50);
                stack.Poll(now);
                while (peer.TryReceive(buffer) > 0) { }
                while (udp.Receive(buffer, out _, out _) >= 0) { }
                while (listener.TryAccept(out var accepted)) accepted.Receive(buffer);
                connection.Receive(buffer);
                connection6.Receive(buffer);
            }
            stack.Poll(now + TimeSpan.FromSeconds(31));   // timers: reassembly timeout, retransmissions
            StackInvariants.Check(stack);
        }
    }

    private static readonly Ipv6Address StackIp6 = Ipv6Address.Parse("2001:db8::2"), PeerIp6 = Ipv6Address.Parse("fe80::1");
    private static readonly Ipv6Address StackLinkLocal = Ipv6Address.Parse("fe80::ff:fe00:2");

    // NS from fe80::1 for fe80::ff:fe00:2 to its solicited-node group, with the source link-layer address option.
    private static byte[] NeighbourSolicitation()
    {
        var frame = new byte[EthernetHeader.Size + Ipv6Header.Size + 32];
        var group = Ipv6Address.Parse("ff02::1:ff00:2");
        new EthernetHeader(MacAddress.Parse("33:33:ff:00:00:02"), PeerMac, EtherType.Ipv6).WriteTo(frame);
        new Ipv6Header(PeerIp6, group, IpProtocol.Icmpv6, 32, 255).WriteTo(frame.AsSpan(EthernetHeader.Size));
        var message = frame.AsSpan(EthernetHeader.Size + Ipv6Header.Size);
        int length = new NeighborSolicitationHeader(StackLinkLocal).WriteTo(message);
        NdOptionWriter.WriteLinkLayerAddress(message[length..], NdOptionType.SourceLinkLayerAddress, PeerMac);
        Icmpv6Header.FillChecksum(message, PeerIp6, group);
        return frame;
    }

    private static byte[] ArpRequest()
    {
        var frame = new byte[EthernetHeader.Size + ArpHeader.Size];
        new EthernetHeader(StackMac, PeerMac, EtherType.Arp).WriteTo(frame);
        new ArpHeader(ArpOperation.Request, PeerMac, PeerIp, MacAddress.Zero, StackIp).WriteTo(frame.AsSpan(EthernetHeader.Size));
        return frame;
    }

    /// <summary>
    /// mDNS messages (each a big-endian u16 length, a flags byte and the message; flags bit 0: sent from an ordinary port
    /// (a legacy query), bit 1: sent unicast to the responder's address, not the group) from a second stack to a stack
    /// whose responder holds its name and an HTTP service and runs a browse: 50 ms apart, then 5 s of timers.
    /// </summary>
    public static void Mdns(byte[] input)
    {
        var (la, lb) = InMemoryLink.CreatePair(queueFrames: 512);
        using var a = new NetworkStack(la, new NetworkStackOptions { MacAddress = StackMac, Address = StackIp, PrefixLength = 24 });
        using var b = new NetworkStack(lb, new NetworkStackOptions { MacAddress = PeerMac, Address = PeerIp, PrefixLength = 24 });
        a.AfterFrame = b.AfterFrame = StackInvariants.Check;
        var responder = new Services.Mdns.MdnsResponder(new Services.Mdns.MdnsOptions { ProbeInterval = TimeSpan.FromMilliseconds(1), AnnounceCount = 1 });
        responder.Register(new Services.Mdns.ServiceInstance("web", "_http._tcp", 80, ["path=/"]));
        var now = TimeSpan.Zero;
        responder.Start(a, now);
        var fromGroupPort = b.OpenUdp(5353);
        var fromOtherPort = b.OpenUdp(0);
        fromGroupPort.MulticastTimeToLive = fromOtherPort.MulticastTimeToLive = 255;
        void Step()
        {
            now += TimeSpan.FromMilliseconds(50);
            a.Poll(now);
            responder.Poll(a, now);
            a.Poll(now);
            b.Poll(now);
        }
        for (int i = 0; i < 12; i++) Step();
        responder.Browse("_http._tcp", TimeSpan.FromSeconds(3), now);
        var buffer = new byte[9000];
        int messages = 0;
        for (int at = 0; at + 3 <= input.Length && messages++ < 64;)
        {
            int length = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(input.AsSpan(at)), input.Length - at - 3);
            byte flags = input[at + 2];
            var payload = input.AsSpan(at + 3, length);
            at += 3 + length;
            var endpoint = (flags & 1) != 0 ? fromOtherPort : fromGroupPort;
            endpoint.SendTo(payload, (flags & 2) != 0 ? StackIp : new Ipv4Address(224, 0, 0, 251), 5353);
            Step();
            while (fromGroupPort.Receive(buffer, out _, out _) >= 0) { }
            while (fromOtherPort.Receive(buffer, out _, out _) >= 0) { }
        }
        for (int i = 0; i < 100; i++) Step();
        responder.Stop(a, now);
        StackInvariants.Check(a);
    }

    /// <summary>The DNS message parser and reader: every question, record, name and record field.</summary>
    public static void Dns(byte[] input)
    {
        if (DnsMessage.TryParse(input, out var message) != WireError.None) return;
        var reader = message.GetReader();
        Span<char> name = stackalloc char[256];
        while (reader.TryReadQuestion(out var q)) q.Name.TryDecode(name, out _);
        while (reader.TryReadRecord(out var r))
        {
            r.Name.TryDecode(name, out _);
            _ = r.Address;
            r.DomainName.TryDecode(name, out _);
            _ = r.Preference;
            r.MailExchange.TryDecode(name, out _);
            foreach (var _ in r.Text) { }
            r.PrimaryNameServer.TryDecode(name, out _);
            r.ResponsibleMailbox.TryDecode(name, out _);
            _ = r.Serial + r.Refresh + r.Retry + r.Expire + r.Minimum;
        }
    }

    /// <summary>The DHCP message parser and option reader, with every typed option accessor.</summary>
    public static void Dhcp(byte[] input)
    {
        if (DhcpMessage.TryParse(input, out var message) != WireError.None) return;
        var options = message.GetOptionReader();
        while (options.Read()) { }
        _ = message.ServerName.Length + message.BootFileName.Length + message.HostName.Length + message.ClientIdentifier.Length;
        _ = (message.MessageType, message.SubnetMask, message.Router, message.LeaseTime, message.ServerIdentifier, message.RequestedIpAddress,
             message.RenewalTime, message.RebindingTime, message.BroadcastAddress, message.InterfaceMtu);
        var routers = message.Routers;
        for (int i = 0; i < routers.Count; i++) _ = routers[i];
        var servers = message.DomainNameServers;
        for (int i = 0; i < servers.Count; i++) _ = servers[i];
    }

    /// <summary>
    /// An NTP reply to the SNTP client's request: a stack (192.0.2.2) asks 192.0.2.1; the input is the UDP payload of
    /// the datagram that comes back from 192.0.2.1:123 to the client's port. When it is at least 48 bytes and its
    /// origin timestamp is zero, the request's transmit timestamp is written there, so that the fuzzer reaches the
    /// checks after the origin test. Then the timers run 3 s on; the query must end, whatever came.
    /// </summary>
    public static void Ntp(byte[] input)
    {
        var (a, b) = InMemoryLink.CreatePair();
        using var stack = new NetworkStack(a, new NetworkStackOptions { MacAddress = StackMac, Address = StackIp, AnnounceOnUp = false, WallClockEpoch = new DateTime(2026, 12, 7, 0, 0, 0, DateTimeKind.Utc) },
            new SeededRandomSource(1));
        stack.AfterFrame = StackInvariants.Check;
        var client = new Services.Sntp.SntpClient(new Services.Sntp.SntpClientOptions { Servers = [PeerIp], Attempts = 1 });
        client.Start(stack, TimeSpan.Zero);
        // The peer asks for our MAC first, so the request leaves at once.
        var frame = new byte[EthernetHeader.Size + Ipv4Header.MinimumSize + UdpHeader.Size + Math.Min(input.Length, 1472)];
        new EthernetHeader(StackMac, PeerMac, EtherType.Arp).WriteTo(frame);
        new ArpHeader(ArpOperation.Request, PeerMac, PeerIp, MacAddress.Zero, StackIp).WriteTo(frame.AsSpan(EthernetHeader.Size));
        b.TrySend(frame.AsSpan(0, EthernetHeader.Size + ArpHeader.Size));
        stack.Poll(TimeSpan.FromMilliseconds(1));
        var query = client.Query(TimeSpan.FromMilliseconds(1));
        stack.Poll(TimeSpan.FromMilliseconds(1));
        var rx = new byte[2048];
        ushort clientPort = 0;
        ulong nonce = 0;
        int n;
        while ((n = b.TryReceive(rx)) > 0)
        {
            if (EthernetFrame.TryParse(rx.AsSpan(0, n), out var eth) != WireError.None || eth.EtherType != EtherType.Ipv4) continue;
            if (Ipv4Packet.TryParse(eth.Payload, out var ip) != WireError.None || ip.Protocol != IpProtocol.Udp) continue;
            if (UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None || udp.Payload.Length < NtpPacket.Size) continue;
            clientPort = udp.SourcePort;
            nonce = BinaryPrimitives.ReadUInt64BigEndian(udp.Payload[NtpPacket.Field.TransmitTimestamp..]);
        }
        if (clientPort == 0) throw new InvalidOperationException("the SNTP client sent no request");
        var payload = frame.AsSpan(EthernetHeader.Size + Ipv4Header.MinimumSize + UdpHeader.Size);
        input.AsSpan(0, payload.Length).CopyTo(payload);
        if (payload.Length >= NtpPacket.Size && BinaryPrimitives.ReadUInt64BigEndian(payload[NtpPacket.Field.OriginTimestamp..]) == 0)
            BinaryPrimitives.WriteUInt64BigEndian(payload[NtpPacket.Field.OriginTimestamp..], nonce);
        new EthernetHeader(StackMac, PeerMac, EtherType.Ipv4).WriteTo(frame);
        new Ipv4Header(PeerIp, StackIp, IpProtocol.Udp, (ushort)(frame.Length - EthernetHeader.Size)).WriteTo(frame.AsSpan(EthernetHeader.Size));
        var datagram = frame.AsSpan(EthernetHeader.Size + Ipv4Header.MinimumSize);
        new UdpHeader(NtpPacket.Port, clientPort, (ushort)datagram.Length).WriteTo(datagram);
        UdpHeader.FillChecksum(datagram, PeerIp, StackIp);
        b.TrySend(frame);
        stack.Poll(TimeSpan.FromMilliseconds(2));
        client.Poll(stack, TimeSpan.FromMilliseconds(2));
        stack.Poll(TimeSpan.FromSeconds(3));
        client.Poll(stack, TimeSpan.FromSeconds(3));
        if (!query.IsCompleted) throw new InvalidOperationException("an SNTP query did not end after its timeout");
        StackInvariants.Check(stack);
    }

    /// <summary>The TCP option parser.</summary>
    public static void TcpOptionsTarget(byte[] input)
    {
        if (input.Length > 40) return;   // a TCP header holds at most 40 bytes of options
        _ = TcpOptions.TryParse(input, out _);
    }
}
