using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

/// <summary>The fused copy-and-checksum (issue 18 item 2) against the scalar reference and a plain copy.</summary>
public class CopyAndSumTests
{
    [Test]
    public void Copies_and_sums_as_the_scalar_reference_for_every_length_to_2000_at_odd_and_even_offsets()
    {
        var random = new Random(18);
        var source = new byte[2100];
        random.NextBytes(source);
        var target = new byte[2100];
        for (int length = 0; length <= 2000; length++)
        {
            foreach (var (from, to) in new[] { (0, 0), (1, 0), (0, 3), (7, 5) })
            {
                target.AsSpan().Fill(0xA5);
                var part = source.AsSpan(from, length);
                uint sum = InternetChecksum.CopyAndSum(part, target.AsSpan(to), 0);
                Assert.That(InternetChecksum.Finish(sum), Is.EqualTo(InternetChecksum.ComputeScalar(part)), $"length {length} from {from} to {to}");
                Assert.That(target.AsSpan(to, length).SequenceEqual(part), Is.True, $"copy, length {length}");
                Assert.That(target.AsSpan(0, to).ToArray(), Has.All.EqualTo(0xA5), "bytes before the destination untouched");
                Assert.That(target.AsSpan(to + length).ToArray(), Has.All.EqualTo(0xA5), "bytes after the copy untouched");
            }
        }
    }

    [Test]
    public void Continues_a_running_sum_as_Add_does()
    {
        var random = new Random(1071);
        var data = new byte[1600];
        var target = new byte[1600];
        for (int i = 0; i < 500; i++)
        {
            random.NextBytes(data);
            int length = random.Next(data.Length);
            uint running = (uint)random.Next();
            Assert.That(InternetChecksum.Finish(InternetChecksum.CopyAndSum(data.AsSpan(0, length), target, running)),
                Is.EqualTo(InternetChecksum.Finish(InternetChecksum.Add(running, data.AsSpan(0, length)))), $"length {length}");
        }
    }

    [Test]
    public void A_copy_split_by_a_ring_wrap_at_any_point_sums_as_the_whole()
    {
        // A ring's write wraps: the first part runs to the end of the array, the rest starts at 0. The first part may
        // be odd, so the second's sum is taken at an odd offset.
        var random = new Random(9293);
        var ring = new byte[4096];
        foreach (int length in new[] { 1, 2, 3, 63, 64, 65, 1448, 1460, 1461, 2000 })
        {
            var payload = new byte[length];
            random.NextBytes(payload);
            ushort expected = InternetChecksum.ComputeScalar(payload);
            for (int first = 0; first <= length; first++)
            {
                uint header = (uint)random.Next(0, 0x1FFFF);
                uint sum = InternetChecksum.CopyAndSum(payload.AsSpan(0, first), ring.AsSpan(ring.Length - first), header);
                uint rest = InternetChecksum.CopyAndSum(payload.AsSpan(first), ring, 0);
                sum = first % 2 == 0 ? InternetChecksum.Combine(sum, rest) : InternetChecksum.AddAtOddOffset(sum, rest);
                uint reference = InternetChecksum.Add(header, payload);
                Assert.That(InternetChecksum.Finish(sum), Is.EqualTo(InternetChecksum.Finish(reference)), $"length {length} split at {first}");
                Assert.That(ring.AsSpan(ring.Length - first).SequenceEqual(payload.AsSpan(0, first)) && ring.AsSpan(0, length - first).SequenceEqual(payload.AsSpan(first)), Is.True);
                if (header == 0) Assert.That(InternetChecksum.Finish(sum), Is.EqualTo(expected));
            }
        }
    }

    [Test]
    public void All_ones_past_the_lane_fold_point_do_not_overflow()
    {
        var ones = new byte[(2 << 20) + 200];
        ones.AsSpan().Fill(0xFF);
        var target = new byte[ones.Length];
        foreach (int length in new[] { 64, 1480, 65536, (2 << 20) + 62, ones.Length - 1, ones.Length })
            Assert.That(InternetChecksum.Finish(InternetChecksum.CopyAndSum(ones.AsSpan(0, length), target, 0xFFFF_FFFF)),
                Is.EqualTo(InternetChecksum.Finish(InternetChecksum.Add(0xFFFF_FFFF, ones.AsSpan(0, length)))), $"length {length}");
    }

    [Test]
    public void A_TCP_checksum_assembled_from_a_payload_sum_equals_the_full_one()
    {
        var random = new Random(793);
        var v4a = Ipv4Address.Parse("192.0.2.10");
        var v4b = Ipv4Address.Parse("192.0.2.11");
        var v6a = Ipv6Address.Parse("2001:db8::a");
        var v6b = Ipv6Address.Parse("2001:db8::b");
        for (int i = 0; i < 400; i++)
        {
            int header = 20 + 4 * random.Next(0, 11);
            var segment = new byte[header + random.Next(0, 1500)];
            random.NextBytes(segment);
            segment[12] = (byte)(header / 4 << 4);
            segment[16] = segment[17] = 0;
            var (source, destination) = i % 2 == 0 ? ((IpAddress)v4a, (IpAddress)v4b) : ((IpAddress)v6a, (IpAddress)v6b);
            var full = (byte[])segment.Clone();
            TcpHeader.FillChecksum(full, source, destination);
            var assembled = (byte[])segment.Clone();
            TcpHeader.FillChecksumFromPayloadSum(assembled, source, destination, header, InternetChecksum.Add(0, segment.AsSpan(header)));
            Assert.That(assembled, Is.EqualTo(full), $"header {header} payload {segment.Length - header}");
        }
    }

    [Test]
    public void A_destination_shorter_than_the_source_is_refused()
        => Assert.Throws<ArgumentException>(() => InternetChecksum.CopyAndSum(new byte[10], new byte[9], 0));
}
