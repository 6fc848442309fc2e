using System.Buffers.Binary;
using TcpIpSharp.Capture;
using TcpIpSharp.Tests.Support;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Replay;

/// <summary>
/// The managed capture reader on the inputs users have: pcap in both byte orders and with nanoseconds, pcapng with
/// several interfaces of different link types, Linux cooked captures (SLL and SLL2) turned into Ethernet, VLAN tags
/// removed or matched, snap-length cuts reported and skipped, and damaged files ending in a one-line error.
/// Files are written here from the project's own captures, so each case is checked against the Ethernet original.
/// </summary>
public class CaptureFileTests
{
    private static IReadOnlyList<CaptureFrame> Original(string name) => CaptureFile.ReadEthernet(Path.Combine(TestPaths.OwnCaptures, name)).Frames;

    private static string Temp(string name) => Path.Combine(Path.GetTempPath(), $"tcpipsharp-capture-{Environment.ProcessId}-{name}");

    [Test]
    public void Reads_the_project_captures_with_times_and_lengths()
    {
        var contents = CaptureFile.ReadEthernet(Path.Combine(TestPaths.OwnCaptures, "ping.pcap"));
        Assert.That(contents.Format, Is.EqualTo(CaptureFormat.Pcap));
        Assert.That(contents.Frames, Has.Count.EqualTo(12));
        Assert.That(contents.Skipped, Is.Empty);
        Assert.That(contents.Frames.Select(f => f.Number), Is.EqualTo(Enumerable.Range(1, 12).Select(i => (long)i)));
        Assert.That(contents.Frames[0].Time.Year, Is.EqualTo(2026));
        Assert.That(contents.Frames.Zip(contents.Frames.Skip(1)).All(p => p.First.Time <= p.Second.Time), Is.True);
    }

    [Test]
    public void Pcapng_with_an_Ethernet_and_a_cooked_interface_gives_the_same_frames()
    {
        var frames = Original("udp-echo.pcap");
        string path = Temp("two-interfaces.pcapng");
        // Interface 0: Ethernet; interface 1: Linux SLL2 of the same frames, nanosecond resolution, big-endian section.
        foreach (bool bigEndian in new[] { false, true })
        {
            using (var file = File.Create(path))
                PcapNgWriter.Write(file, bigEndian, [(CaptureFile.LinkTypeEthernet, 6), (CaptureFile.LinkTypeLinuxSll2, 9)],
                    frames.Select((f, i) => (i % 2, f.Time, i % 2 == 0 ? f.Data : Cooked.Sll2(f.Data, outgoing: MacAddress.Read(f.Data.AsSpan(6)) == B))));
            var read = CaptureFile.ReadEthernet(path);
            File.Delete(path);
            Assert.That(read.Format, Is.EqualTo(CaptureFormat.PcapNg));
            Assert.That(read.Skipped, Is.Empty);
            Assert.That(read.Frames.Select(f => Convert.ToHexString(f.Data)), Is.EqualTo(frames.Select(f => Convert.ToHexString(f.Data))), $"big-endian {bigEndian}");
            Assert.That(read.Frames.Select(f => f.Time), Is.EqualTo(frames.Select(f => f.Time)));
        }
    }

    private static readonly MacAddress B = MacAddress.Parse("02:00:00:00:00:02");

    [TestCase(CaptureFile.LinkTypeLinuxSll)]
    [TestCase(CaptureFile.LinkTypeLinuxSll2)]
    public void Linux_cooked_captures_become_the_Ethernet_frames(int linkType)
    {
        var frames = Original("ping.pcap");
        string path = Temp($"cooked-{linkType}.pcap");
        using (var file = File.Create(path))
            PcapWriter.Write(file, linkType, 262144, frames.Select(f => (f.Time,
                linkType == CaptureFile.LinkTypeLinuxSll2 ? Cooked.Sll2(f.Data, MacAddress.Read(f.Data.AsSpan(6)) == B) : Cooked.Sll(f.Data, MacAddress.Read(f.Data.AsSpan(6)) == B), 0)));
        var read = CaptureFile.ReadEthernet(path);
        File.Delete(path);
        Assert.That(read.Skipped, Is.Empty);
        Assert.That(read.Frames.Select(f => Convert.ToHexString(f.Data)), Is.EqualTo(frames.Select(f => Convert.ToHexString(f.Data))));
    }

    [Test]
    public void Vlan_tags_are_removed_or_matched()
    {
        var frames = Original("ping.pcap");
        string path = Temp("vlan.pcap");
        // Even frames in VLAN 10; odd ones stacked (802.1ad 20 outside, 802.1Q 30 inside).
        using (var file = File.Create(path))
            PcapWriter.Write(file, CaptureFile.LinkTypeEthernet, 262144, frames.Select((f, i) => (f.Time, i % 2 == 0 ? Tag(f.Data, (0x8100, 10)) : Tag(f.Data, (0x88A8, 20), (0x8100, 30)), 0)));
        var all = CaptureFile.ReadEthernet(path);
        var ten = CaptureFile.ReadEthernet(path, new CaptureReadOptions { Vlan = 10 });
        File.Delete(path);
        Assert.That(all.Frames.Select(f => Convert.ToHexString(f.Data)), Is.EqualTo(frames.Select(f => Convert.ToHexString(f.Data))));
        Assert.That(ten.Frames.Select(f => f.Number), Is.EqualTo(new long[] { 1, 3, 5, 7, 9, 11 }));
        Assert.That(ten.Skipped.Select(s => s.Reason).Distinct(), Is.EqualTo(new[] { "VLAN 20 (VLAN 10 asked for)" }));
    }

    [Test]
    public void Frames_cut_by_the_snap_length_are_reported_and_skipped()
    {
        var frames = Original("ping-frag.pcap");
        string path = Temp("snaplen.pcap");
        using (var file = File.Create(path))
            PcapWriter.Write(file, CaptureFile.LinkTypeEthernet, 200, frames.Select(f => (f.Time, f.Data.Length > 200 ? f.Data[..200] : f.Data, f.Data.Length)));
        var read = CaptureFile.ReadEthernet(path);
        File.Delete(path);
        int cut = frames.Count(f => f.Data.Length > 200);
        Assert.That(cut, Is.GreaterThan(0));
        Assert.That(read.Skipped, Has.Count.EqualTo(cut));
        Assert.That(read.Skipped[0].Reason, Does.StartWith("truncated by the snap length: 200 of "));
        Assert.That(read.Frames, Has.Count.EqualTo(frames.Count - cut));
    }

    [Test]
    public void Damaged_files_end_in_one_line()
    {
        byte[] good = File.ReadAllBytes(Path.Combine(TestPaths.OwnCaptures, "ping.pcap"));
        string path = Temp("damaged.pcap");
        // Cut in the middle of the fourth record: the three before it are kept, the damage named.
        File.WriteAllBytes(path, good[..(24 + 3 * 16 + 42 + 42 + 98 + 20)]);
        var cut = CaptureFile.ReadEthernet(path);
        Assert.That(cut.Damage, Does.Contain("cut off").And.Not.Contain("\n"));
        Assert.That(cut.Frames, Has.Count.EqualTo(3));

        // A record claiming 2 GB.
        var huge = good[..(24 + 16)];
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(24 + 8), 0x7FFF_FFFF);
        File.WriteAllBytes(path, huge);
        Assert.That(CaptureFile.ReadEthernet(path).Damage, Does.Contain("record 1 claims 2147483647 captured bytes"));

        // Not a capture; empty; a link type that is not Ethernet.
        File.WriteAllText(path, "hello, world, not a capture");
        Assert.That(() => CaptureFile.ReadEthernet(path), Throws.TypeOf<CaptureFormatException>().With.Message.Contains("not a pcap or pcapng capture"));
        File.WriteAllBytes(path, []);
        Assert.That(() => CaptureFile.ReadEthernet(path), Throws.TypeOf<CaptureFormatException>().With.Message.Contains("empty file"));
        var other = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(other.AsSpan(20), 105);
        File.WriteAllBytes(path, other);
        var wifi = CaptureFile.ReadEthernet(path);
        File.Delete(path);
        Assert.That(wifi.Frames, Is.Empty);
        Assert.That(wifi.Skipped[0].Reason, Is.EqualTo("link type IEEE 802.11 (105) is not Ethernet"));
        Assert.That(() => CaptureFile.ReadEthernet(Temp("missing.pcap")), Throws.TypeOf<CaptureFormatException>().With.Message.EndsWith("no such file"));
    }

    [Test]
    public void Zero_length_records_are_skipped()
    {
        string path = Temp("zero.pcap");
        var frames = Original("ping.pcap");
        using (var file = File.Create(path))
            PcapWriter.Write(file, CaptureFile.LinkTypeEthernet, 262144, [(frames[0].Time, [], 0), (frames[1].Time, frames[1].Data, 0)]);
        var read = CaptureFile.ReadEthernet(path);
        File.Delete(path);
        Assert.That(read.Frames, Has.Count.EqualTo(1));
        Assert.That(read.Skipped.Single().Reason, Is.EqualTo("shorter than an Ethernet header"));
    }

    private static byte[] Tag(byte[] frame, params (ushort Tpid, int Id)[] tags)
    {
        var tagged = new byte[frame.Length + 4 * tags.Length];
        frame.AsSpan(0, 12).CopyTo(tagged);
        for (int i = 0; i < tags.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(12 + 4 * i), tags[i].Tpid);
            BinaryPrimitives.WriteUInt16BigEndian(tagged.AsSpan(14 + 4 * i), (ushort)tags[i].Id);
        }
        frame.AsSpan(12).CopyTo(tagged.AsSpan(12 + 4 * tags.Length));
        return tagged;
    }
}

/// <summary>Linux cooked headers built from Ethernet frames, as the kernel writes them for <c>tcpdump -i any</c>.</summary>
internal static class Cooked
{
    private static byte PacketType(byte[] frame, bool outgoing)
        => outgoing ? (byte)4 : MacAddress.Read(frame).IsBroadcast ? (byte)1 : MacAddress.Read(frame).IsMulticast ? (byte)2 : (byte)0;

    public static byte[] Sll(byte[] frame, bool outgoing)
    {
        var cooked = new byte[16 + frame.Length - 14];
        BinaryPrimitives.WriteUInt16BigEndian(cooked, PacketType(frame, outgoing));
        BinaryPrimitives.WriteUInt16BigEndian(cooked.AsSpan(2), 1);   // ARPHRD_ETHER
        BinaryPrimitives.WriteUInt16BigEndian(cooked.AsSpan(4), 6);
        frame.AsSpan(6, 6).CopyTo(cooked.AsSpan(6));
        frame.AsSpan(12).CopyTo(cooked.AsSpan(14));                   // protocol, then the payload
        return cooked;
    }

    public static byte[] Sll2(byte[] frame, bool outgoing)
    {
        var cooked = new byte[20 + frame.Length - 14];
        frame.AsSpan(12, 2).CopyTo(cooked);                           // protocol
        BinaryPrimitives.WriteUInt32BigEndian(cooked.AsSpan(4), 3);   // interface index
        BinaryPrimitives.WriteUInt16BigEndian(cooked.AsSpan(8), 1);   // ARPHRD_ETHER
        cooked[10] = PacketType(frame, outgoing);
        cooked[11] = 6;
        frame.AsSpan(6, 6).CopyTo(cooked.AsSpan(12));
        frame.AsSpan(14).CopyTo(cooked.AsSpan(20));
        return cooked;
    }
}

/// <summary>Writes a classic pcap file (microseconds, little-endian).</summary>
internal static class PcapWriter
{
    public static void Write(Stream output, int linkType, int snapLength, IEnumerable<(DateTime Time, byte[] Data, int OriginalLength)> records)
    {
        var header = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), (uint)snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), (uint)linkType);
        output.Write(header);
        foreach (var (time, data, original) in records)
        {
            long us = (time - DateTime.UnixEpoch).Ticks / 10;
            var record = new byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(us / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), (uint)(us % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), (uint)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12), (uint)Math.Max(original, data.Length));
            output.Write(record);
            output.Write(data);
        }
    }
}

/// <summary>Writes a pcapng section with interfaces (link type, if_tsresol as a power of ten) and enhanced packet blocks.</summary>
internal static class PcapNgWriter
{
    public static void Write(Stream output, bool bigEndian, IReadOnlyList<(int LinkType, int Resolution)> interfaces, IEnumerable<(int Interface, DateTime Time, byte[] Data)> packets)
    {
        void U32(List<byte> b, uint v) { var s = new byte[4]; if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(s, v); else BinaryPrimitives.WriteUInt32LittleEndian(s, v); b.AddRange(s); }
        void U16(List<byte> b, ushort v) { var s = new byte[2]; if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(s, v); else BinaryPrimitives.WriteUInt16LittleEndian(s, v); b.AddRange(s); }
        void Block(uint type, List<byte> body)
        {
            while (body.Count % 4 != 0) body.Add(0);
            var b = new List<byte>();
            U32(b, type); U32(b, (uint)body.Count + 12); b.AddRange(body); U32(b, (uint)body.Count + 12);
            output.Write(b.ToArray());
        }
        var shb = new List<byte>();
        U32(shb, 0x1A2B3C4D); U16(shb, 1); U16(shb, 0); U32(shb, 0xFFFFFFFF); U32(shb, 0xFFFFFFFF);
        Block(0x0A0D0D0A, shb);
        foreach (var (linkType, resolution) in interfaces)
        {
            var idb = new List<byte>();
            U16(idb, (ushort)linkType); U16(idb, 0); U32(idb, 262144);
            U16(idb, 9); U16(idb, 1); idb.Add((byte)resolution); idb.AddRange(new byte[3]);
            U16(idb, 0); U16(idb, 0);
            Block(1, idb);
        }
        foreach (var (iface, time, data) in packets)
        {
            long ticks = (time - DateTime.UnixEpoch).Ticks;   // 10^7 per second
            int resolution = interfaces[iface].Resolution;
            long units = resolution <= 7 ? ticks / (long)Math.Pow(10, 7 - resolution) : ticks * (long)Math.Pow(10, resolution - 7);
            var epb = new List<byte>();
            U32(epb, (uint)iface); U32(epb, (uint)(units >> 32)); U32(epb, (uint)units); U32(epb, (uint)data.Length); U32(epb, (uint)data.Length);
            epb.AddRange(data);
            Block(6, epb);
        }
    }
}
