using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>An Ethernet II header, optionally with one 802.1Q tag.</summary>
/// <param name="Destination">Destination MAC address.</param>
/// <param name="Source">Source MAC address.</param>
/// <param name="EtherType">EtherType of the payload.</param>
/// <param name="VlanTci">802.1Q tag control information, or null for an untagged frame.</param>
/// <param name="TagProtocol">The tag's protocol identifier when tagged: 0x8100 (802.1Q, the default) or 0x88a8 (802.1ad); any other value is written as 0x8100.</param>
public readonly record struct EthernetHeader(MacAddress Destination, MacAddress Source, EtherType EtherType, ushort? VlanTci = null,
    ushort TagProtocol = (ushort)EtherType.Vlan)
{
    /// <summary>Size of an untagged header.</summary>
    public const int Size = 14;
    /// <summary>Size of a header with one tag.</summary>
    public const int TaggedSize = 18;
    /// <summary>Smallest frame without FCS; shorter frames are padded.</summary>
    public const int MinimumFrameSize = 60;

    /// <summary>Bytes this header occupies.</summary>
    public int Length => VlanTci.HasValue ? TaggedSize : Size;

    /// <summary>Reads the header fields from a parsed frame.</summary>
    public static EthernetHeader From(EthernetFrame frame)
        => frame.IsTagged ? new(frame.Destination, frame.Source, frame.EtherType, frame.VlanTci, frame.TagProtocol)
                          : new(frame.Destination, frame.Source, frame.EtherType);

    /// <summary>Writes the header; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        Destination.WriteTo(destination[EthernetFrame.Field.Destination..]);
        Source.WriteTo(destination[EthernetFrame.Field.Source..]);
        if (VlanTci is ushort tci)
        {
            // An 802.1ad service tag keeps its identifier, so a parsed frame is written back as it came.
            ushort tpid = TagProtocol == (ushort)EtherType.ServiceVlan ? TagProtocol : (ushort)EtherType.Vlan;
            BinaryPrimitives.WriteUInt16BigEndian(destination[EthernetFrame.Field.EtherType..], tpid);
            BinaryPrimitives.WriteUInt16BigEndian(destination[EthernetFrame.Field.VlanTci..], tci);
            BinaryPrimitives.WriteUInt16BigEndian(destination[EthernetFrame.Field.InnerEtherType..], (ushort)EtherType);
            return TaggedSize;
        }
        BinaryPrimitives.WriteUInt16BigEndian(destination[EthernetFrame.Field.EtherType..], (ushort)EtherType);
        return Size;
    }
}
