using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>Parsing real frames and walking their options or records allocates nothing (DESIGN.md section 4).</summary>
public class WireAllocationTests
{
    private const int Rounds = 10_000;

    [Test]
    public void Tcp_parse_and_option_walk_of_real_frames_allocates_nothing()
    {
        byte[][] frames = [WireVectors.TcpSyn, WireVectors.TcpSynAck, WireVectors.TcpData, WireVectors.TcpSack];
        Assert.That(ParseTcp(frames), Is.GreaterThan(0));
        long sink = 0;
        for (int i = 0; i < 100; i++) sink += ParseTcp(frames);
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++) sink += ParseTcp(frames);
        });
        Assert.That(allocated, Is.Zero);
        Assert.That(sink, Is.Not.Zero);
    }

    [Test]
    public void Dns_walk_of_real_messages_decoding_every_name_allocates_nothing()
    {
        byte[][] frames = [WireVectors.DnsQuery, WireVectors.DnsResponse, WireVectors.DnsMx, WireVectors.DnsPtr, WireVectors.DnsCname,
            WireVectors.DnsPointerChain, WireVectors.DnsSoa, WireVectors.DnsTxt, WireVectors.DnsCnameA, WireVectors.DnsNxDomain];
        Assert.That(WalkDns(frames), Is.GreaterThan(0));
        long sink = 0;
        for (int i = 0; i < 100; i++) sink += WalkDns(frames);
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++) sink += WalkDns(frames);
        });
        Assert.That(allocated, Is.Zero);
        Assert.That(sink, Is.Not.Zero);
    }

    [Test]
    public void Dns_writer_with_compression_allocates_nothing()
    {
        var buffer = new byte[512];
        Assert.That(WriteDns(buffer), Is.GreaterThan(0));
        long sink = 0;
        for (int i = 0; i < 100; i++) sink += WriteDns(buffer);
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++) sink += WriteDns(buffer);
        });
        Assert.That(allocated, Is.Zero);
        Assert.That(sink, Is.Not.Zero);
    }

    private static int WriteDns(byte[] buffer)
    {
        var writer = new DnsWriter(buffer, compressNames: true);
        writer.WriteHeader(new DnsHeader(0x1234, IsResponse: true, IsRecursionDesired: true, IsRecursionAvailable: true));
        writer.WriteQuestion("alias.example.test", DnsType.A);
        writer.WriteCanonicalNameRecord("alias.example.test", "www.example.test", 600);
        if (writer.WriteAddressRecord("www.example.test", new Ipv4Address(192, 0, 2, 10), 600) != WireError.None) return -1;
        return writer.Finish();
    }

    private static long WalkDns(byte[][] frames)
    {
        long sum = 0;
        Span<char> name = stackalloc char[DnsName.MaximumTextLength];
        foreach (var frame in frames)
        {
            if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return -1;
            if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None) return -1;
            if (UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None) return -1;
            if (DnsMessage.TryParse(udp.Payload, out var message) != WireError.None) return -1;
            sum += message.Id + message.AnswerCount;
            var reader = message.GetReader();
            while (reader.TryReadQuestion(out var question))
            {
                question.Name.TryDecode(name, out int n);
                sum += n + (int)question.Type;
                if (question.Name.Matches("www.tcpdump.org")) sum++;
            }
            while (reader.TryReadRecord(out var record))
            {
                record.Name.TryDecode(name, out int n);
                sum += n + record.TimeToLive + record.Data.Length;
                switch (record.Type)
                {
                    case DnsType.A: sum += record.Address.Value; break;
                    case DnsType.Aaaa: sum += record.Ipv6Address[15]; break;
                    case DnsType.Cname or DnsType.Ns or DnsType.Ptr: record.DomainName.TryDecode(name, out n); sum += n; break;
                    case DnsType.Mx: record.MailExchange.TryDecode(name, out n); sum += n + record.Preference; break;
                    case DnsType.Soa: record.ResponsibleMailbox.TryDecode(name, out n); sum += n + record.Serial + record.Minimum; break;
                    case DnsType.Txt: foreach (var s in record.Text) sum += s.Length; break;
                }
            }
            if (reader.Error != WireError.None) return -1;
        }
        return sum;
    }

    [Test]
    public void Dhcp_parse_option_walk_and_typed_accessors_allocate_nothing()
    {
        byte[][] frames = [WireVectors.DhcpDiscover, WireVectors.DhcpOffer, WireVectors.DhcpRequest, WireVectors.DhcpAck, WireVectors.DhcpOfferWithDns,
            WireVectors.DhcpDiscoverUdhcpc, WireVectors.DhcpOfferDnsmasq, WireVectors.DhcpRequestUdhcpc, WireVectors.DhcpAckDnsmasq];
        Assert.That(ParseDhcp(frames), Is.GreaterThan(0));
        long sink = 0;
        for (int i = 0; i < 100; i++) sink += ParseDhcp(frames);
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++) sink += ParseDhcp(frames);
        });
        Assert.That(allocated, Is.Zero);
        Assert.That(sink, Is.Not.Zero);
    }

    [Test]
    public void Dhcp_writer_allocates_nothing()
    {
        var buffer = new byte[576];
        Assert.That(WriteDhcp(buffer), Is.EqualTo(300));
        long sink = 0;
        for (int i = 0; i < 100; i++) sink += WriteDhcp(buffer);
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++) sink += WriteDhcp(buffer);
        });
        Assert.That(allocated, Is.Zero);
        Assert.That(sink, Is.Not.Zero);
    }

    private static int WriteDhcp(byte[] buffer)
    {
        var writer = new DhcpWriter(buffer);
        writer.WriteHeader(new DhcpHeader(DhcpOperation.BootReply, 0x1234, new MacAddress(0x02_00_00_00_00_01), YourAddress: new Ipv4Address(192, 0, 2, 64)));
        writer.WriteMessageType(DhcpMessageType.Offer);
        writer.WriteAddress(DhcpOption.ServerIdentifier, new Ipv4Address(192, 0, 2, 1));
        writer.WriteUInt32(DhcpOption.IpAddressLeaseTime, 3600);
        writer.WriteAddresses(DhcpOption.DomainNameServer, [new Ipv4Address(192, 0, 2, 1), new Ipv4Address(198, 51, 100, 53)]);
        writer.WriteParameterRequestList([DhcpOption.SubnetMask, DhcpOption.Router]);
        return writer.Finish();
    }

    private static long ParseDhcp(byte[][] frames)
    {
        long sum = 0;
        foreach (var frame in frames)
        {
            if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return -1;
            if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None) return -1;
            if (UdpDatagram.TryParse(ip.Payload, out var udp) != WireError.None) return -1;
            if (DhcpMessage.TryParse(udp.Payload, out var message) != WireError.None) return -1;
            sum += message.TransactionId + message.YourAddress.Value;
            var reader = message.GetOptionReader();
            while (reader.Read()) sum += (int)reader.Option + reader.Data.Length;
            sum += (int)(message.MessageType ?? 0);
            sum += message.SubnetMask?.Value ?? 0;
            sum += message.Router?.Value ?? 0;
            var dns = message.DomainNameServers;
            for (int i = 0; i < dns.Count; i++) sum += dns[i].Value;
            sum += message.LeaseTime ?? 0;
            sum += message.ServerIdentifier?.Value ?? 0;
            sum += message.RequestedIpAddress?.Value ?? 0;
            sum += (message.RenewalTime ?? 0) + (message.RebindingTime ?? 0);
            sum += message.BroadcastAddress?.Value ?? 0;
            sum += message.InterfaceMtu ?? 0;
            sum += message.HostName.Length + message.ClientIdentifier.Length;
            sum += (long)(message.ClientMacAddress?.Value ?? 0);
        }
        return sum;
    }

    private static long ParseTcp(byte[][] frames)
    {
        long sum = 0;
        foreach (var frame in frames)
        {
            if (EthernetFrame.TryParse(frame, out var ethernet) != WireError.None) return -1;
            if (Ipv4Packet.TryParse(ethernet.Payload, out var ip) != WireError.None) return -1;
            if (TcpSegment.TryParse(ip.Payload, out var segment) != WireError.None) return -1;
            sum += segment.SourcePort + segment.SequenceNumber + (int)segment.Flags + segment.Payload.Length;
            if (segment.IsChecksumValid(ip.Source, ip.Destination)) sum++;
            var reader = new TcpOptionReader(segment.Options);
            while (reader.Read()) sum += (int)reader.Kind + reader.Data.Length;
            if (TcpOptions.TryParse(segment.Options, out var options) != WireError.None) return -1;
            sum += options.MaximumSegmentSize ?? 0;
            sum += options.Timestamp?.Value ?? 0;
            for (int i = 0; i < options.SackBlocks.Count; i++) sum += options.SackBlocks[i].Right;
            if (TcpHeader.TryFrom(segment, out var header) != WireError.None) return -1;
            sum += header.WindowSize;
        }
        return sum;
    }
}
