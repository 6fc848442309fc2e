using FsCheck;
using FsCheck.Fluent;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

// FsCheck supplies the parameters of a [FsCheck.NUnit.Property] method; NUnit's analyzer only knows NUnit's own attributes.
#pragma warning disable NUnit1027

/// <summary>Emit then parse gives back the record, for the IPv6 header records (FsCheck properties).</summary>
public class Ipv6RoundTripProperties
{
    [FsCheck.NUnit.Property(Arbitrary = new[] { typeof(Ipv6Arbitraries) }, MaxTest = 300)]
    public bool Ipv6_header_round_trips(Ipv6Header header)
    {
        var buffer = new byte[Ipv6Header.Size + header.PayloadLength];
        return header.WriteTo(buffer) == Ipv6Header.Size
            && Ipv6Packet.TryParse(buffer, out var packet) == WireError.None
            && packet.Payload.Length == header.PayloadLength
            && Ipv6Header.From(packet) == header;
    }

    [FsCheck.NUnit.Property(Arbitrary = new[] { typeof(Ipv6Arbitraries) }, MaxTest = 300)]
    public bool Fragment_header_round_trips(Ipv6FragmentHeader header)
    {
        var buffer = new byte[Ipv6FragmentHeader.Size];
        return header.WriteTo(buffer) == Ipv6FragmentHeader.Size
            && Ipv6FragmentHeader.TryParse(buffer, out var parsed) == WireError.None
            && parsed == header;
    }

    [FsCheck.NUnit.Property(Arbitrary = new[] { typeof(Ipv6Arbitraries) }, MaxTest = 300)]
    public bool Neighbor_advertisement_with_tlla_round_trips_with_a_valid_checksum(NeighborAdvertisementHeader header, Ipv6Header addresses)
    {
        var buffer = new byte[NeighborAdvertisementHeader.Size + NdOptionWriter.LinkLayerAddressSize];
        int n = header.WriteTo(buffer);
        n += NdOptionWriter.WriteLinkLayerAddress(buffer.AsSpan(n), NdOptionType.TargetLinkLayerAddress, new MacAddress((ulong)header.Target.Value & 0xFFFF_FFFF_FFFFUL));
        Icmpv6Header.FillChecksum(buffer, addresses.Source, addresses.Destination);
        return n == buffer.Length
            && NeighborAdvertisement.TryParse(buffer, out var na) == WireError.None
            && Icmpv6Packet.TryParse(buffer, out var icmp) == WireError.None
            && icmp.IsChecksumValid(addresses.Source, addresses.Destination)
            && NeighborAdvertisementHeader.From(na) == header;
    }

    [FsCheck.NUnit.Property(Arbitrary = new[] { typeof(Ipv6Arbitraries) }, MaxTest = 300)]
    public bool Prefix_information_round_trips(NdPrefixInformation prefix)
    {
        var buffer = new byte[NdPrefixInformation.Size];
        return prefix.WriteTo(buffer) == NdPrefixInformation.Size
            && NdOptionReader.TryFind(buffer, NdOptionType.PrefixInformation, out var option)
            && option.TryGetPrefixInformation(out var parsed) == WireError.None
            && parsed == prefix;
    }

    [FsCheck.NUnit.Property(Arbitrary = new[] { typeof(Ipv6Arbitraries) }, MaxTest = 300)]
    public bool Mld_query_round_trips(MldQueryHeader header)
    {
        var buffer = new byte[MldQueryHeader.Size + header.NumberOfSources * Ipv6Address.Size];
        return header.WriteTo(buffer) == MldQueryHeader.Size
            && MldQuery.TryParse(buffer, out var query) == WireError.None
            && MldQueryHeader.From(query) == header;
    }
}

/// <summary>FsCheck generators for the IPv6 header records, integers over their whole range as in <see cref="WireArbitraries"/>.</summary>
public static class Ipv6Arbitraries
{
    internal static Gen<Ipv6Address> Address => WireArbitraries.UInt32.Zip(WireArbitraries.UInt32, (a, b) => (a, b))
        .Zip(WireArbitraries.UInt32.Zip(WireArbitraries.UInt32, (c, d) => (c, d)),
            (x, y) => new Ipv6Address(new UInt128((ulong)x.a << 32 | x.b, (ulong)y.c << 32 | y.d)));

    /// <summary>Any addresses, any next header but a hop-by-hop header with payload length 0 (a jumbogram), flow labels of 20 bits.</summary>
    public static Arbitrary<Ipv6Header> Ipv6Headers()
        => Arb.From(from source in Address
                    from destination in Address
                    from next in WireArbitraries.Byte
                    from length in Gen.Frequency((6, Gen.Choose(0, 1500)), (1, Gen.Choose(0, 0xFFFF)))
                    from hopLimit in WireArbitraries.Byte
                    from trafficClass in WireArbitraries.Byte
                    from flow in Gen.Choose(0, 0xF_FFFF)
                    where !(next == 0 && length == 0)
                    select new Ipv6Header(source, destination, (IpProtocol)next, (ushort)length, hopLimit, trafficClass, (uint)flow));

    /// <summary>Offsets that are multiples of 8 below 65,536.</summary>
    public static Arbitrary<Ipv6FragmentHeader> FragmentHeaders()
        => Arb.From(from next in WireArbitraries.Byte
                    from offset in Gen.Choose(0, 0x1FFF)
                    from more in WireArbitraries.Bool
                    from id in WireArbitraries.UInt32
                    select new Ipv6FragmentHeader((IpProtocol)next, offset * 8, more, id));

    /// <summary>Any target and flags.</summary>
    public static Arbitrary<NeighborAdvertisementHeader> NeighborAdvertisements()
        => Arb.From(from target in Address
                    from router in WireArbitraries.Bool
                    from solicited in WireArbitraries.Bool
                    from overrides in WireArbitraries.Bool
                    select new NeighborAdvertisementHeader(target, router, solicited, overrides));

    /// <summary>Any prefix length, flags, lifetimes and prefix.</summary>
    public static Arbitrary<NdPrefixInformation> Prefixes()
        => Arb.From(from length in WireArbitraries.Byte
                    from onLink in WireArbitraries.Bool
                    from autonomous in WireArbitraries.Bool
                    from valid in WireArbitraries.UInt32
                    from preferred in WireArbitraries.UInt32
                    from prefix in Address
                    select new NdPrefixInformation(length, onLink, autonomous, valid, preferred, prefix));

    /// <summary>MLDv2 queries with up to 4 sources and QRV 0..7.</summary>
    public static Arbitrary<MldQueryHeader> MldQueries()
        => Arb.From(from code in WireArbitraries.UInt16
                    from multicast in Address
                    from suppress in WireArbitraries.Bool
                    from qrv in Gen.Choose(0, 7)
                    from qqic in WireArbitraries.Byte
                    from sources in Gen.Choose(0, 4)
                    select new MldQueryHeader(code, multicast, suppress, (byte)qrv, qqic, (ushort)sources));
}
