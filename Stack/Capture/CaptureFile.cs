using System.Buffers.Binary;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Capture;

/// <summary>
/// Capture files as Ethernet frames: reads pcap and pcapng (<see cref="CaptureFileReader"/>), turns Linux cooked
/// captures (SLL and SLL2, as <c>tcpdump -i any</c> writes them) into Ethernet frames, removes VLAN tags (or keeps one
/// VLAN), and reports the records it leaves out; writes pcap files of Ethernet frames.
/// </summary>
public static class CaptureFile
{
    /// <summary>LINKTYPE_ETHERNET.</summary>
    public const int LinkTypeEthernet = 1;
    /// <summary>LINKTYPE_LINUX_SLL (Linux cooked capture v1).</summary>
    public const int LinkTypeLinuxSll = 113;
    /// <summary>LINKTYPE_LINUX_SLL2 (Linux cooked capture v2).</summary>
    public const int LinkTypeLinuxSll2 = 276;

    private const ushort ArpHardwareEthernet = 1;
    private const byte PacketToUs = 0, PacketBroadcast = 1, PacketMulticast = 2, PacketOutgoing = 4;

    /// <summary>Reads every record of a capture (any link type).</summary>
    /// <exception cref="CaptureFormatException">The file is missing, not a capture, or damaged.</exception>
    public static List<CaptureRecord> ReadRecords(string path)
    {
        using var reader = CaptureFileReader.Open(path);
        return reader.ReadAll();
    }

    /// <summary>Reads a capture as Ethernet frames (see the type's summary). Throws <see cref="CaptureFormatException"/>
    /// when the file is missing or not a capture; damage after the header ends the reading, kept in
    /// <see cref="CaptureContents.Damage"/>.</summary>
    public static CaptureContents ReadEthernet(string path, CaptureReadOptions? options = null)
    {
        using var reader = CaptureFileReader.Open(path);
        var records = new List<CaptureRecord>();
        string? damage = null;
        try
        {
            while (reader.TryRead(out var record)) records.Add(record);
        }
        catch (CaptureFormatException e) { damage = e.Message; }
        var contents = ToEthernet(records, options);
        return new CaptureContents
        {
            Format = reader.Format, Records = records.Count, Frames = contents.Frames, Skipped = contents.Skipped,
            LinkTypes = contents.LinkTypes, Damage = damage,
        };
    }

    /// <summary>Turns records into Ethernet frames (see the type's summary).</summary>
    public static (List<CaptureFrame> Frames, List<CaptureSkip> Skipped, List<string> LinkTypes) ToEthernet(IReadOnlyList<CaptureRecord> records, CaptureReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        options ??= new CaptureReadOptions();
        var frames = new List<CaptureFrame>(records.Count);
        var skipped = new List<CaptureSkip>();
        var linkTypes = records.Select(r => r.LinkType).Distinct().Order().Select(LinkTypeName).ToList();
        var cooked = records.Any(r => r.LinkType is LinkTypeLinuxSll or LinkTypeLinuxSll2) ? new CookedAddresses(records) : null;
        foreach (var record in records)
        {
            if (record.IsTruncated && !options.KeepTruncated)
            {
                skipped.Add(new(record.Number, $"truncated by the snap length: {record.Data.Length} of {record.OriginalLength} bytes captured"));
                continue;
            }
            byte[]? frame;
            string? why;
            switch (record.LinkType)
            {
                case LinkTypeEthernet: frame = record.Data; why = record.Data.Length < EthernetHeader.Size ? "shorter than an Ethernet header" : null; break;
                case LinkTypeLinuxSll:
                case LinkTypeLinuxSll2: frame = cooked!.ToEthernet(record, out why); break;
                default: frame = null; why = $"link type {LinkTypeName(record.LinkType)} is not Ethernet"; break;
            }
            if (why is not null || frame is null) { skipped.Add(new(record.Number, why ?? "unreadable")); continue; }
            if (options.StripVlanTags)
            {
                frame = StripVlan(frame, options.Vlan, out why);
                if (frame is null) { skipped.Add(new(record.Number, why!)); continue; }
            }
            frames.Add(new CaptureFrame(record.Number, record.Time, frame));
        }
        return (frames, skipped, linkTypes);
    }

    /// <summary>A link type's name ("Ethernet", "Linux SLL", "Linux SLL2", or "N").</summary>
    public static string LinkTypeName(int linkType) => linkType switch
    {
        LinkTypeEthernet => "Ethernet (1)",
        LinkTypeLinuxSll => "Linux SLL (113)",
        LinkTypeLinuxSll2 => "Linux SLL2 (276)",
        0 => "BSD loopback (0)",
        101 => "raw IP (101)",
        105 => "IEEE 802.11 (105)",
        127 => "IEEE 802.11 radiotap (127)",
        228 => "raw IPv4 (228)",
        229 => "raw IPv6 (229)",
        _ => $"{linkType}",
    };

    // Removes 802.1Q (0x8100) and 802.1ad (0x88a8, also 0x9100) tags, stacked or not; with a VLAN asked for, only frames
    // whose outer tag carries it are kept.
    private static byte[]? StripVlan(byte[] frame, int? vlan, out string? why)
    {
        why = null;
        int at = 12, tags = 0, outer = -1;
        while (at + 4 <= frame.Length && BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(at)) is 0x8100 or 0x88A8 or 0x9100)
        {
            if (tags == 0) outer = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(at + 2)) & 0x0FFF;
            at += 4;
            tags++;
        }
        if (vlan is int wanted && outer != wanted)
        {
            why = outer < 0 ? $"untagged (VLAN {wanted} asked for)" : $"VLAN {outer} (VLAN {wanted} asked for)";
            return null;
        }
        if (tags == 0) return frame;
        var copy = new byte[frame.Length - 4 * tags];
        frame.AsSpan(0, 12).CopyTo(copy);
        frame.AsSpan(at).CopyTo(copy.AsSpan(12));
        return copy;
    }

    /// <summary>Writes Ethernet frames to a new pcap file with their times (microseconds).</summary>
    public static void WriteEthernet(string path, IEnumerable<CaptureFrame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        using var output = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        WriteEthernet(output, frames);
    }

    /// <summary>Writes Ethernet frames as a pcap file to a stream with their times (microseconds).</summary>
    public static void WriteEthernet(Stream output, IEnumerable<CaptureFrame> frames)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(frames);
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 262144);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeEthernet);
        output.Write(header);
        Span<byte> record = stackalloc byte[16];
        foreach (var frame in frames)
        {
            long us = Math.Max(0, (frame.Time - DateTime.UnixEpoch).Ticks / 10);
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(us / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)(us % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)frame.Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)frame.Data.Length);
            output.Write(record);
            output.Write(frame.Data);
        }
    }

    /// <summary>
    /// Linux cooked headers keep the link-layer source address and a packet type, not the destination: the destination
    /// is the capturing interface's own MAC for frames to it (learned from the frames it sent), the broadcast or group
    /// address for those, and for frames it sent the MAC seen as the source of the destination IP's frames.
    /// </summary>
    private sealed class CookedAddresses
    {
        private readonly Dictionary<long, MacAddress> _ownByInterface = [];
        private readonly Dictionary<uint, MacAddress> _byIpv4 = [];

        public CookedAddresses(IReadOnlyList<CaptureRecord> records)
        {
            foreach (var record in records)
            {
                if (!TryHeader(record, out var h)) continue;
                if (h.PacketType == PacketOutgoing) _ownByInterface.TryAdd(h.Interface, h.Source);
                if (h.Protocol == (ushort)EtherType.Ipv4 && h.Payload.Count >= 20) _byIpv4.TryAdd(BinaryPrimitives.ReadUInt32BigEndian(h.Payload.AsSpan(12)), h.Source);
            }
        }

        public byte[]? ToEthernet(CaptureRecord record, out string? why)
        {
            why = null;
            if (!TryHeader(record, out var h)) { why = "shorter than its Linux cooked header"; return null; }
            if (h.HardwareType != ArpHardwareEthernet) { why = $"Linux cooked frame from a non-Ethernet interface (ARPHRD {h.HardwareType})"; return null; }
            if (h.Protocol < 0x0600) { why = $"Linux cooked frame with 802.2/802.3 protocol 0x{h.Protocol:x4}"; return null; }
            MacAddress destination = h.PacketType switch
            {
                PacketBroadcast => MacAddress.Broadcast,
                PacketMulticast => Multicast(h),
                PacketToUs => _ownByInterface.TryGetValue(h.Interface, out var own) ? own : ByDestinationIp(h),
                _ => ByDestinationIp(h),
            };
            var frame = new byte[EthernetHeader.Size + h.Payload.Count];
            new EthernetHeader(destination, h.Source, (EtherType)h.Protocol).WriteTo(frame);
            h.Payload.AsSpan().CopyTo(frame.AsSpan(EthernetHeader.Size));
            return frame;
        }

        private MacAddress ByDestinationIp(in Cooked h)
        {
            if (h.Protocol == (ushort)EtherType.Ipv4 && h.Payload.Count >= 20)
            {
                uint destination = BinaryPrimitives.ReadUInt32BigEndian(h.Payload.AsSpan(16));
                if (destination == uint.MaxValue) return MacAddress.Broadcast;
                if (destination >> 28 == 0xE) return Multicast(h);
            }
            if (h.Protocol == (ushort)EtherType.Arp && h.Payload.Count >= 28 && BinaryPrimitives.ReadUInt16BigEndian(h.Payload.AsSpan(6)) == 1) return MacAddress.Broadcast;
            if (h.Protocol == (ushort)EtherType.Ipv4 && h.Payload.Count >= 20 && _byIpv4.TryGetValue(BinaryPrimitives.ReadUInt32BigEndian(h.Payload.AsSpan(16)), out var mac)) return mac;
            if (h.Protocol == (ushort)EtherType.Arp && h.Payload.Count >= 28 && BinaryPrimitives.ReadUInt16BigEndian(h.Payload.AsSpan(6)) == 2) return MacAddress.Read(h.Payload.AsSpan(18));
            return default;
        }

        private static MacAddress Multicast(in Cooked h)
        {
            Span<byte> mac = stackalloc byte[6];
            if (h.Protocol == (ushort)EtherType.Ipv4 && h.Payload.Count >= 20)
            {
                mac[0] = 0x01; mac[1] = 0x00; mac[2] = 0x5E;
                mac[3] = (byte)(h.Payload[17] & 0x7F); mac[4] = h.Payload[18]; mac[5] = h.Payload[19];
                return MacAddress.Read(mac);
            }
            if (h.Protocol == 0x86DD && h.Payload.Count >= 40)
            {
                mac[0] = 0x33; mac[1] = 0x33;
                h.Payload.AsSpan(36, 4).CopyTo(mac[2..]);
                return MacAddress.Read(mac);
            }
            return MacAddress.Broadcast;
        }

        private readonly record struct Cooked(byte PacketType, ushort HardwareType, MacAddress Source, ushort Protocol, long Interface, ArraySegment<byte> Payload);

        private static bool TryHeader(CaptureRecord record, out Cooked header)
        {
            header = default;
            var d = record.Data;
            if (record.LinkType == LinkTypeLinuxSll)
            {
                if (d.Length < 16) return false;
                int addressLength = BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(4));
                var source = addressLength >= 6 ? MacAddress.Read(d.AsSpan(6)) : default;
                header = new Cooked((byte)BinaryPrimitives.ReadUInt16BigEndian(d), BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(2)), source,
                    BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(14)), -1, new ArraySegment<byte>(d, 16, d.Length - 16));
                return true;
            }
            if (record.LinkType == LinkTypeLinuxSll2)
            {
                if (d.Length < 20) return false;
                int addressLength = d[11];
                var source = addressLength >= 6 ? MacAddress.Read(d.AsSpan(12)) : default;
                header = new Cooked(d[10], BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(8)), source, BinaryPrimitives.ReadUInt16BigEndian(d),
                    BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(4)), new ArraySegment<byte>(d, 20, d.Length - 20));
                return true;
            }
            return false;
        }
    }
}
