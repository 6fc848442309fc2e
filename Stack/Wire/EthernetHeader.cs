using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>An Ethernet II header, optionally with one 802.1Q tag.</summary>
/// <param name="Destination">Destination MAC address.</param>
/// <param name="Source">Source MAC address.</param>
/// <param name="EtherType">EtherType of the payload.</param>
/// <param name="VlanTci">802.1Q tag control information, or null for an untagged frame.</param>
public readonly record struct EthernetHeader(MacAddress Destination, MacAddress Source, EtherType EtherType, ushort? VlanTci = null)
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
        => new(frame.Destination, frame.Source, frame.EtherType, frame.IsTagged ? frame.VlanTci : null);

    /// <summary>Writes the header; returns the bytes written.</summary>
    public int WriteTo(Span<byte> destination)
    {
        Destination.WriteTo(destination[EthernetFrame.Field.Destination..]);
        Source.WriteTo(destination[EthernetFrame.Field.Source..]);
        if (VlanTci is ushort tci)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[EthernetFrame.Field.EtherType..], (ushort)EtherType.Vlan);
            BinaryPrimitives.WriteUInt16BigEndian(destination[EthernetFrame.Field.VlanTci..], tci);
            BinaryPrimitives.WriteUInt16BigEndian(destination[EthernetFrame.Field.InnerEtherType..], (ushort)EtherType);
            return TaggedSize;
        }
        BinaryPrimitives.WriteUInt16BigEndian(destination[EthernetFrame.Field.EtherType..], (ushort)EtherType);
        return Size;
    }
}
