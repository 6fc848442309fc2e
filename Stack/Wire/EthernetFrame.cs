using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A view over an Ethernet II frame, with at most one IEEE 802.1Q (or 802.1ad) tag, without the FCS.</summary>
public readonly ref struct EthernetFrame
{
    internal static class Field
    {
        public const int Destination = 0;      // 0..6
        public const int Source = 6;           // 6..12
        public const int EtherType = 12;       // 12..14
        public const int VlanTci = 14;         // 14..16 when tagged
        public const int InnerEtherType = 16;  // 16..18 when tagged
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private readonly int _headerLength;

    private EthernetFrame(ReadOnlySpan<byte> bytes, int headerLength)
    {
        _bytes = bytes;
        _headerLength = headerLength;
    }

    /// <summary>Checks that the frame holds a whole header (and tag, where tagged).</summary>
    public static WireError TryParse(ReadOnlySpan<byte> bytes, out EthernetFrame frame)
    {
        frame = Parse(bytes, out var error);
        return error;
    }

    /// <summary><see cref="TryParse"/> for the receive path, the view returned rather than written through an <c>out</c> (see <see cref="Ipv4Packet.Parse"/>).</summary>
    internal static EthernetFrame Parse(ReadOnlySpan<byte> bytes, out WireError error)
    {
        error = WireError.Truncated;
        if (bytes.Length < EthernetHeader.Size) return default;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(bytes[Field.EtherType..]);
        bool tagged = type is (ushort)Wire.EtherType.Vlan or (ushort)Wire.EtherType.ServiceVlan;
        if (tagged && bytes.Length < EthernetHeader.TaggedSize) return default;
        error = WireError.None;
        return new EthernetFrame(bytes, tagged ? EthernetHeader.TaggedSize : EthernetHeader.Size);
    }

    /// <summary>The whole frame.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Destination MAC address.</summary>
    public MacAddress Destination => MacAddress.Read(_bytes[Field.Destination..]);
    /// <summary>Source MAC address.</summary>
    public MacAddress Source => MacAddress.Read(_bytes[Field.Source..]);
    /// <summary>True when the frame carries an 802.1Q/802.1ad tag.</summary>
    public bool IsTagged => _headerLength == EthernetHeader.TaggedSize;
    /// <summary>The tag's protocol identifier (0x8100 or 0x88a8), or 0 when untagged.</summary>
    public ushort TagProtocol => IsTagged ? BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.EtherType..]) : (ushort)0;
    /// <summary>The tag control information (priority, DEI, VLAN ID), or 0 when untagged.</summary>
    public ushort VlanTci => IsTagged ? BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.VlanTci..]) : (ushort)0;
    /// <summary>The VLAN ID (low 12 bits of the tag), or 0 when untagged.</summary>
    public ushort VlanId => (ushort)(VlanTci & 0x0FFF);
    /// <summary>The EtherType of the payload (after the tag, where tagged).</summary>
    public EtherType EtherType => (EtherType)BinaryPrimitives.ReadUInt16BigEndian(_bytes[(IsTagged ? Field.InnerEtherType : Field.EtherType)..]);
    /// <summary>Bytes of header, 14 or 18.</summary>
    public int HeaderLength => _headerLength;
    /// <summary>The bytes after the header (may include link padding after a shorter IP packet).</summary>
    public ReadOnlySpan<byte> Payload => _bytes[_headerLength..];
}
