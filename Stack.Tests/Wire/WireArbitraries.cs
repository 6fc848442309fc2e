using FsCheck;
using FsCheck.Fluent;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>
/// FsCheck generators for the header records. Integers are drawn over their whole range (FsCheck's own numeric
/// generators stay near zero), with the edge values mixed in; only values a header can carry are generated.
/// </summary>
public static class WireArbitraries
{
    internal static Gen<int> Bits16 => Gen.Frequency((8, Gen.Choose(0, 0xFFFF)), (1, Gen.Elements(0, 1, 0x7FFF, 0x8000, 0xFFFF)));
    internal static Gen<ushort> UInt16 => Bits16.Select(v => (ushort)v);
    internal static Gen<byte> Byte => Gen.Frequency((8, Gen.Choose(0, 0xFF)), (1, Gen.Elements(0, 0xFF))).Select(v => (byte)v);
    internal static Gen<uint> UInt32 => Bits16.Zip(Bits16, (hi, lo) => (uint)hi << 16 | (uint)lo);
    internal static Gen<MacAddress> Mac => UInt32.Zip(UInt16, (hi, lo) => new MacAddress((ulong)hi << 16 | lo));
    internal static Gen<Ipv4Address> Address => UInt32.Select(v => new Ipv4Address(v));
    internal static Gen<bool> Bool => Gen.Elements(false, true);

    /// <summary>Untagged headers never carry a tag protocol as their EtherType (that header would describe a tagged frame).</summary>
    public static Arbitrary<EthernetHeader> EthernetHeaders()
    {
        var untagged = from destination in Mac
                       from source in Mac
                       from type in UInt16.Where(t => t is not ((ushort)EtherType.Vlan or (ushort)EtherType.ServiceVlan))
                       select new EthernetHeader(destination, source, (EtherType)type);
        var tagged = from destination in Mac
                     from source in Mac
                     from type in UInt16
                     from tci in UInt16
                     from tpid in Gen.Elements((ushort)EtherType.Vlan, (ushort)EtherType.ServiceVlan)
                     select new EthernetHeader(destination, source, (EtherType)type, tci, tpid);
        return Arb.From(Gen.OneOf(untagged, tagged));
    }

    /// <summary>Any operation code (the view does not restrict it) and any addresses.</summary>
    public static Arbitrary<ArpHeader> ArpHeaders()
        => Arb.From(from operation in UInt16
                    from senderMac in Mac
                    from senderIp in Address
                    from targetMac in Mac
                    from targetIp in Address
                    select new ArpHeader((ArpOperation)operation, senderMac, senderIp, targetMac, targetIp));

    /// <summary>Total Length from 20 to 65535, fragment offsets that are multiples of 8 below 65536.</summary>
    public static Arbitrary<Ipv4Header> Ipv4Headers()
        => Arb.From(from source in Address
                    from destination in Address
                    from protocol in Byte
                    from totalLength in Gen.Frequency((6, Gen.Choose(Ipv4Header.MinimumSize, 1500)),
                        (2, Gen.Choose(Ipv4Header.MinimumSize, 0xFFFF)), (1, Gen.Elements(Ipv4Header.MinimumSize, 0xFFFF)))
                    from identification in UInt16
                    from ttl in Byte
                    from dontFragment in Bool
                    from moreFragments in Bool
                    from offset in Gen.Frequency((3, Gen.Choose(0, 0x1FFF)), (1, Gen.Elements(0, 0x1FFF)))
                    from tos in Byte
                    select new Ipv4Header(source, destination, (IpProtocol)protocol, (ushort)totalLength, identification, ttl,
                        dontFragment, moreFragments, offset * 8, tos));

    /// <summary>Any type, code and rest-of-header word.</summary>
    public static Arbitrary<IcmpHeader> IcmpHeaders()
        => Arb.From(from type in Byte
                    from code in Byte
                    from rest in UInt32
                    select new IcmpHeader((IcmpType)type, code, rest));

    /// <summary>Any ports; Length from 8 to 65535.</summary>
    public static Arbitrary<UdpHeader> UdpHeaders()
        => Arb.From(from source in UInt16
                    from destination in UInt16
                    from length in Gen.Frequency((6, Gen.Choose(UdpHeader.Size, 1480)), (1, Gen.Choose(UdpHeader.Size, 0xFFFF)),
                        (1, Gen.Elements(UdpHeader.Size, 0xFFFF)))
                    select new UdpHeader(source, destination, (ushort)length));
}
