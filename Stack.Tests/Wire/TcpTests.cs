using FsCheck;
using FsCheck.Fluent;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

public class TcpTests
{
    private static readonly Ipv4Address SynAckSource = new(192, 150, 187, 43);
    private static readonly Ipv4Address SynAckDestination = new(141, 142, 228, 5);

    // The SYN-ACK of zeek's syn-synack.pcap, frame 2, as a header record.
    private static readonly TcpHeader SynAck = new(80, 59856, 2779762238, 4263588411, TcpFlags.Syn | TcpFlags.Ack, 14480, 0,
        new TcpOptions { MaximumSegmentSize = 1460, SackPermitted = true, Timestamp = new TcpTimestamp(797524569, 374005024), WindowScale = 7 });

    // The PSH-ACK of gopacket's test_ethernet.pcap, frame 4.
    private static readonly TcpHeader DataSegment = new(44644, 80, 2471086129, 4188542939, TcpFlags.Psh | TcpFlags.Ack, 229, 0,
        new TcpOptions { Timestamp = new TcpTimestamp(1032819632, 57936131) });

    // ---- deconstruct: read fields from real bytes

    [Test]
    public void Deconstruct_syn_from_macos()
    {
        var (offset, length, source, destination) = FrameLayers.Transport(WireVectors.TcpSyn);
        Assert.That(TcpSegment.TryParse(WireVectors.TcpSyn.AsSpan(offset, length), out var segment), Is.EqualTo(WireError.None));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(segment.SourcePort, Is.EqualTo(59856));
            Assert.That(segment.DestinationPort, Is.EqualTo(80));
            Assert.That(segment.SequenceNumber, Is.EqualTo(4263588410u));
            Assert.That(segment.AcknowledgmentNumber, Is.Zero);
            Assert.That(segment.HeaderLength, Is.EqualTo(44));
            Assert.That(segment.Flags, Is.EqualTo(TcpFlags.Syn));
            Assert.That(segment.WindowSize, Is.EqualTo(65535));
            Assert.That(segment.Checksum, Is.EqualTo(0x3bc0));
            Assert.That(segment.UrgentPointer, Is.Zero);
            Assert.That(segment.Options.Length, Is.EqualTo(24));
            Assert.That(segment.Payload.Length, Is.Zero);
            Assert.That(segment.SequenceLength, Is.EqualTo(1));
            Assert.That(segment.IsChecksumValid(source, destination), Is.True);
        }
    }

    [Test]
    public void Option_reader_walks_the_macos_syn_options_in_order_skipping_nops_and_stopping_at_eol()
    {
        var segment = Segment(WireVectors.TcpSyn);
        var kinds = new List<(TcpOptionKind, string)>();
        var reader = new TcpOptionReader(segment.Options);
        while (reader.Read()) kinds.Add((reader.Kind, Convert.ToHexString(reader.Data)));
        Assert.That(reader.Error, Is.EqualTo(WireError.None));
        Assert.That(kinds, Is.EqualTo(new[]
        {
            (TcpOptionKind.MaximumSegmentSize, "05B4"),
            (TcpOptionKind.WindowScale, "04"),
            (TcpOptionKind.Timestamps, "164ADD2000000000"),
            (TcpOptionKind.SackPermitted, ""),
        }));
        Assert.That(TcpOptions.TryParse(segment.Options, out var options), Is.EqualTo(WireError.None));
        Assert.That(options, Is.EqualTo(new TcpOptions { MaximumSegmentSize = 1460, WindowScale = 4, Timestamp = new TcpTimestamp(374005024, 0), SackPermitted = true }));
    }

    [Test]
    public void Deconstruct_sack_blocks()
    {
        var segment = Segment(WireVectors.TcpSack);
        Assert.That(TcpOptions.TryParse(segment.Options, out var options), Is.EqualTo(WireError.None));
        Assert.That(options.SackBlocks.Count, Is.EqualTo(4));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(options.SackBlocks[0], Is.EqualTo(new TcpSackBlock(1, 16)));
            Assert.That(options.SackBlocks[1], Is.EqualTo(new TcpSackBlock(256, 4096)));
            Assert.That(options.SackBlocks[2], Is.EqualTo(new TcpSackBlock(65536, 1048576)));
            Assert.That(options.SackBlocks[3], Is.EqualTo(new TcpSackBlock(16777216, 268435456)));
            Assert.That(options.MaximumSegmentSize, Is.Null);
            Assert.That(options.SackPermitted, Is.False);
        }
        var (left, right) = options.SackBlocks[1];
        Assert.That((left, right), Is.EqualTo((256u, 4096u)));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = options.SackBlocks[4]);
    }

    [Test]
    public void Deconstruct_data_segment_payload_and_checksum()
    {
        var (offset, length, source, destination) = FrameLayers.Transport(WireVectors.TcpData);
        Assert.That(TcpSegment.TryParse(WireVectors.TcpData.AsSpan(offset, length), out var segment), Is.EqualTo(WireError.None));
        Assert.That(segment.Payload.Length, Is.EqualTo(72));
        Assert.That(System.Text.Encoding.ASCII.GetString(segment.Payload), Does.StartWith("GET / HTTP/1.1\r\n"));
        Assert.That(segment.SequenceLength, Is.EqualTo(72));
        Assert.That(segment.IsChecksumValid(source, destination), Is.True);
        Assert.That(segment.IsChecksumValid(source, new Ipv4Address(destination.Value ^ 0x0100)), Is.False);
    }

    [Test]
    public void Ns_bit_is_read_from_the_reserved_nibble_and_written_back()
    {
        byte[] bytes = FrameLayers.TransportBytes(WireVectors.TcpSynAck);
        bytes[12] |= 1;
        Assert.That(TcpSegment.TryParse(bytes, out var segment), Is.EqualTo(WireError.None));
        Assert.That(segment.Flags, Is.EqualTo(TcpFlags.Ns | TcpFlags.Syn | TcpFlags.Ack));
        var written = new byte[60];
        (SynAck with { Flags = TcpFlags.Ns | TcpFlags.Syn | TcpFlags.Ack }).WriteTo(written);
        Assert.That(written[12], Is.EqualTo(0xa1));
    }

    // ---- construct: set fields, compare with the real bytes

    [Test]
    public void Construct_linux_syn_ack_byte_for_byte()
    {
        byte[] expected = FrameLayers.TransportBytes(WireVectors.TcpSynAck);
        var written = new byte[expected.Length];
        Assert.That(SynAck.WriteTo(written), Is.EqualTo(40));
        TcpHeader.FillChecksum(written, SynAckSource, SynAckDestination);
        Assert.That(Convert.ToHexString(written), Is.EqualTo(Convert.ToHexString(expected)));
    }

    [Test]
    public void Construct_data_segment_with_payload_byte_for_byte()
    {
        var (offset, length, source, destination) = FrameLayers.Transport(WireVectors.TcpData);
        byte[] expected = WireVectors.TcpData.AsSpan(offset, length).ToArray();
        var written = new byte[length];
        int headerLength = DataSegment.WriteTo(written);
        Assert.That(headerLength, Is.EqualTo(32));
        expected.AsSpan(headerLength).CopyTo(written.AsSpan(headerLength));
        TcpHeader.FillChecksum(written, source, destination);
        Assert.That(Convert.ToHexString(written), Is.EqualTo(Convert.ToHexString(expected)));
    }

    // ---- parse: bytes to header record

    [Test]
    public void Parse_syn_ack_to_record()
    {
        Assert.That(TcpHeader.TryFrom(Segment(WireVectors.TcpSynAck), out var header), Is.EqualTo(WireError.None));
        Assert.That(header, Is.EqualTo(SynAck));
        Assert.That(TcpHeader.From(Segment(WireVectors.TcpData)), Is.EqualTo(DataSegment));
    }

    // ---- emit: header record parsed from real bytes, written back

    [Test]
    public void Emit_record_parsed_from_real_bytes_gives_the_same_bytes()
    {
        foreach (var frame in new[] { WireVectors.TcpSynAck, WireVectors.TcpData })
        {
            var (offset, length, source, destination) = FrameLayers.Transport(frame);
            byte[] expected = frame.AsSpan(offset, length).ToArray();
            var header = TcpHeader.From(Segment(frame));
            var written = new byte[length];
            int n = header.WriteTo(written);
            expected.AsSpan(n).CopyTo(written.AsSpan(n));
            TcpHeader.FillChecksum(written, source, destination);
            Assert.That(written, Is.EqualTo(expected));
        }
    }

    [Test]
    public void Emit_lays_out_every_option_combination_4_byte_aligned_and_within_40_bytes()
    {
        var full = new TcpSackBlocks([new(1, 2), new(3, 4), new(5, 6), new(7, 8)]);
        var options = new TcpOptions { MaximumSegmentSize = 1460, WindowScale = 7, SackPermitted = true, Timestamp = new(1, 2), SackBlocks = full };
        Assert.That(options.SackBlocksThatFit, Is.EqualTo(2));
        Assert.That(options.Length, Is.EqualTo(40));
        Assert.That((options with { MaximumSegmentSize = null, WindowScale = null, SackPermitted = false }).SackBlocksThatFit, Is.EqualTo(3), "RFC 2018: three blocks beside timestamps");
        Assert.That(new TcpOptions { SackBlocks = full }.Length, Is.EqualTo(36), "four blocks alone");
        var buffer = new byte[TcpHeader.MaximumSize];
        var header = new TcpHeader(1, 2, 3, 4, TcpFlags.Ack, 5, 0, options);
        Assert.That(header.WriteTo(buffer), Is.EqualTo(60));
        Assert.That(buffer[12] >> 4, Is.EqualTo(15));
    }

    // ---- property: emit then parse gives the same record

    private static readonly Gen<TcpOptions> OptionsGen =
        from mss in Gen.Choose(0, 65535).Select(v => (ushort)v).OrNull()
        from ws in Gen.Choose(0, 14).Select(v => (byte)v).OrNull()
        from sackOk in ArbMap.Default.GeneratorFor<bool>()
        from ts in ArbMap.Default.GeneratorFor<uint>().Two().Select(t => new TcpTimestamp(t.Item1, t.Item2)).OrNull()
        from blocks in ArbMap.Default.GeneratorFor<uint>().Two().Select(t => new TcpSackBlock(t.Item1, t.Item2)).ListOf().Select(l => l.Take(4).ToArray())
        select new TcpOptions { MaximumSegmentSize = mss, WindowScale = ws, SackPermitted = sackOk, Timestamp = ts, SackBlocks = new TcpSackBlocks(blocks) };

    private static readonly Gen<TcpHeader> HeaderGen =
        from ports in Gen.Choose(0, 65535).Two()
        from numbers in ArbMap.Default.GeneratorFor<uint>().Two()
        from flags in Gen.Choose(0, 0x1FF)
        from window in Gen.Choose(0, 65535)
        from urgent in Gen.Choose(0, 65535)
        from options in OptionsGen
        select new TcpHeader((ushort)ports.Item1, (ushort)ports.Item2, numbers.Item1, numbers.Item2, (TcpFlags)flags, (ushort)window, (ushort)urgent, options);

    [Test]
    public void Property_emit_then_parse_gives_the_same_header_sack_blocks_cut_to_what_fits()
    {
        Prop.ForAll(HeaderGen.ToArbitrary(), header =>
        {
            var buffer = new byte[TcpHeader.MaximumSize + 4];
            int n = header.WriteTo(buffer);
            if (n != header.Length || n % 4 != 0 || n > TcpHeader.MaximumSize) return false;
            if (TcpSegment.TryParse(buffer.AsSpan(0, n), out var segment) != WireError.None) return false;
            if (segment.HeaderLength != n || TcpHeader.TryFrom(segment, out var parsed) != WireError.None) return false;
            var expected = header with { Options = header.Options with { SackBlocks = header.Options.SackBlocks.Take(header.Options.SackBlocksThatFit) } };
            return parsed == expected;
        }).QuickCheckThrowOnFailure();
    }

    // ---- malformed input: a WireError, never an exception or a loop

    public static IEnumerable<TestCaseData> MalformedOptions()
    {
        TestCaseData Case(string hex, string why) => new TestCaseData(hex).SetArgDisplayNames(why + " " + hex);
        yield return Case("02", "kind without length");
        yield return Case("0101010102", "kind without length after NOPs");
        yield return Case("0200", "length 0");
        yield return Case("0201", "length 1");
        yield return Case("1E00", "unknown kind, length 0");
        yield return Case("1E01", "unknown kind, length 1");
        yield return Case("1E05AABB", "unknown kind past end");
        yield return Case("020405", "MSS past end");
        yield return Case("080A0000000100", "timestamps past end");
        yield return Case("0503", "SACK length 3, past end");
        yield return Case("02030500", "MSS length 3");
        yield return Case("0205050000000000", "MSS length 5");
        yield return Case("03020000", "window scale length 2");
        yield return Case("0304070000000000", "window scale length 4");
        yield return Case("04030000", "SACK-permitted length 3");
        yield return Case("08080000000000000000", "timestamps length 8");
        yield return Case("080B000000000000000000000000", "timestamps length 11");
        yield return Case("0502", "SACK with no block");
        yield return Case("0509000000010000000200", "SACK length 9");
        yield return Case("050C000000010000000200000000", "SACK length 12");
        yield return Case("020405B4" + "0101" + "08FF", "good MSS then timestamps past end");
    }

    [TestCaseSource(nameof(MalformedOptions))]
    public void Malformed_option_is_bad_option_in_reader_summary_and_header(string hex)
    {
        byte[] options = Convert.FromHexString(hex);
        var reader = new TcpOptionReader(options);
        int reads = 0;
        while (reader.Read()) reads++;
        Assert.That(reader.Error, Is.EqualTo(WireError.BadOption));
        Assert.That(reader.Read(), Is.False, "stays at the end after an error");
        Assert.That(TcpOptions.TryParse(options, out var parsed), Is.EqualTo(WireError.BadOption));
        Assert.That(parsed, Is.EqualTo(default(TcpOptions)));

        // The same bytes ending the options area of a real segment (NOPs in front make the area a multiple of 4),
        // followed by payload bytes that an overrunning option must not reach into.
        int area = (options.Length + 3) / 4 * 4;
        byte[] segmentBytes = new byte[20 + area + 8];
        segmentBytes.AsSpan(20).Fill((byte)TcpOptionKind.NoOperation);
        FrameLayers.TransportBytes(WireVectors.TcpSynAck).AsSpan(0, 20).CopyTo(segmentBytes);
        segmentBytes[12] = (byte)((20 + area) / 4 << 4);
        options.CopyTo(segmentBytes, 20 + area - options.Length);
        Assert.That(TcpSegment.TryParse(segmentBytes, out var segment), Is.EqualTo(WireError.None));
        Assert.That(TcpHeader.TryFrom(segment, out _), Is.EqualTo(WireError.BadOption));
        Assert.That(TcpHeader.From(segment).Options, Is.EqualTo(default(TcpOptions)));
    }

    [Test]
    public void Unknown_kinds_are_returned_and_stepped_over_by_their_length_and_eol_ends_the_walk()
    {
        byte[] options = Convert.FromHexString("1E04ABCD" + "01" + "020405B4" + "00" + "0201");   // junk after EOL is padding
        var reader = new TcpOptionReader(options);
        Assert.That(reader.Read(), Is.True);
        Assert.That((byte)reader.Kind, Is.EqualTo(30));
        Assert.That(reader.Data.ToArray(), Is.EqualTo(new byte[] { 0xAB, 0xCD }));
        Assert.That(reader.Read(), Is.True);
        Assert.That(reader.Kind, Is.EqualTo(TcpOptionKind.MaximumSegmentSize));
        Assert.That(reader.Read(), Is.False);
        Assert.That(reader.Error, Is.EqualTo(WireError.None));
        Assert.That(TcpOptions.TryParse(options, out var parsed), Is.EqualTo(WireError.None));
        Assert.That(parsed, Is.EqualTo(new TcpOptions { MaximumSegmentSize = 1460 }));
    }

    [Test]
    public void Truncation_at_every_byte_of_the_header_is_an_error()
    {
        byte[] bytes = FrameLayers.TransportBytes(WireVectors.TcpSynAck);   // 40-byte header
        for (int n = 0; n < TcpHeader.MinimumSize; n++)
            Assert.That(TcpSegment.TryParse(bytes.AsSpan(0, n), out _), Is.EqualTo(WireError.Truncated), $"{n} bytes");
        for (int n = TcpHeader.MinimumSize; n < 40; n++)
            Assert.That(TcpSegment.TryParse(bytes.AsSpan(0, n), out _), Is.EqualTo(WireError.BadHeaderLength), $"{n} bytes");
        Assert.That(TcpSegment.TryParse(bytes, out _), Is.EqualTo(WireError.None));
        for (int offset = 0; offset < 5; offset++)
        {
            byte[] copy = (byte[])bytes.Clone();
            copy[12] = (byte)(offset << 4);
            Assert.That(TcpSegment.TryParse(copy, out _), Is.EqualTo(WireError.BadHeaderLength), $"data offset {offset}");
        }
    }

    [Test]
    public void Random_option_bytes_never_throw_and_the_walk_ends_within_the_area()
    {
        var random = new Random(9293);
        var area = new byte[TcpOptions.MaximumLength];
        for (int i = 0; i < 20000; i++)
        {
            int length = random.Next(area.Length + 1);
            random.NextBytes(area);
            // Bias towards known kinds so that the length checks are exercised, not just unknown kinds.
            for (int j = 0; j < length; j += random.Next(1, 5)) if (random.Next(3) == 0) area[j] = (byte)random.Next(0, 9);
            var reader = new TcpOptionReader(area.AsSpan(0, length));
            int reads = 0;
            while (reader.Read()) Assert.That(++reads, Is.LessThanOrEqualTo(length / 2));
            TcpOptions.TryParse(area.AsSpan(0, length), out _);
        }
    }

    private static TcpSegment Segment(byte[] frame)
    {
        var (offset, length, _, _) = FrameLayers.Transport(frame);
        Assert.That(TcpSegment.TryParse(frame.AsSpan(offset, length), out var segment), Is.EqualTo(WireError.None));
        return segment;
    }
}
