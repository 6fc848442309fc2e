using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>Parsing every IPv6 frame through every view, and writing what a host sends, allocates nothing (DESIGN.md section 4).</summary>
public class Ipv6AllocationTests
{
    private const int Rounds = 10_000;

    [Test]
    public void Parse_of_every_ipv6_frame_through_every_view_allocates_nothing()
    {
        byte[][] packets = [.. Ipv6Frames.All.Select(Ipv6Frames.Packet)];
        long sink = ParseAll(packets);
        for (int i = 0; i < 100; i++) sink += ParseAll(packets);
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++) sink += ParseAll(packets);
        });
        Assert.That(allocated, Is.Zero);
        Assert.That(sink, Is.Not.Zero);
    }

    [Test]
    public void Emit_of_what_a_host_sends_allocates_nothing()
    {
        var buffer = new byte[256];
        long sink = Emit(buffer);
        for (int i = 0; i < 100; i++) sink += Emit(buffer);
        long allocated = AllocationMeter.BytesAllocatedBy(() =>
        {
            for (int i = 0; i < Rounds; i++) sink += Emit(buffer);
        });
        Assert.That(allocated, Is.Zero);
        Assert.That(sink, Is.Not.Zero);
    }

    private static long ParseAll(byte[][] packets)
    {
        long sum = 0;
        foreach (byte[] packet in packets) sum += Ipv6MalformedTests.ParseEverything(packet);
        return sum;
    }

    // A neighbour solicitation with SLLA, a neighbour advertisement with TLLA, a router solicitation, an MLDv2 report and a UDP datagram.
    private static long Emit(byte[] buffer)
    {
        var source = new Ipv6Address(new UInt128(0xfe80_0000_0000_0000, 0x0000_00ff_fe00_0002));
        var target = new Ipv6Address(new UInt128(0xfe80_0000_0000_0000, 0x0000_00ff_fe00_0001));
        var group = new Ipv6Address(new UInt128(0xff02_0000_0000_0000, 0x0000_0001_ff00_0001));
        var mac = new MacAddress(0x02_00_00_00_00_02);
        var span = buffer.AsSpan();
        long sum = 0;
        int n = new Ipv6Header(source, group, IpProtocol.Icmpv6, 32, 255).WriteTo(span);
        int m = new NeighborSolicitationHeader(target).WriteTo(span[n..]);
        m += NdOptionWriter.WriteLinkLayerAddress(span[(n + m)..], NdOptionType.SourceLinkLayerAddress, mac);
        Icmpv6Header.FillChecksum(span.Slice(n, m), source, group);
        sum += buffer[n + 2];
        m = new NeighborAdvertisementHeader(target, false, true, true).WriteTo(span[n..]);
        m += NdOptionWriter.WriteLinkLayerAddress(span[(n + m)..], NdOptionType.TargetLinkLayerAddress, mac);
        Icmpv6Header.FillChecksum(span.Slice(n, m), source, target);
        sum += buffer[n + 3];
        m = new RouterSolicitationHeader().WriteTo(span[n..]);
        Icmpv6Header.FillChecksum(span.Slice(n, m), source, group);
        sum += buffer[n + 2];
        n = new Ipv6RouterAlertHeader(IpProtocol.Icmpv6).WriteTo(span[Ipv6Header.Size..]) + Ipv6Header.Size;
        m = new MldReportHeader(1).WriteTo(span[n..]);
        m += new MldAddressRecordHeader(MldRecordType.ChangeToExcludeMode, group).WriteTo(span[(n + m)..]);
        Icmpv6Header.FillChecksum(span.Slice(n, m), source, group);
        sum += buffer[n + 3];
        m = new UdpHeader(5353, 5353, 12).WriteTo(span[n..]);
        UdpHeader.FillChecksum(span.Slice(n, 12), source, target);
        return sum + buffer[n + 6];
    }
}
