using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Wire;

public class ChecksumTests
{
    [Test]
    public void Vectorised_sum_equals_scalar_reference_on_random_lengths_including_odd()
    {
        var random = new Random(1071);
        var buffer = new byte[70000];
        random.NextBytes(buffer);
        for (int length = 0; length < 300; length++)
            Assert.That(InternetChecksum.Compute(buffer.AsSpan(0, length)), Is.EqualTo(InternetChecksum.ComputeScalar(buffer.AsSpan(0, length))), $"length {length}");
        for (int i = 0; i < 200; i++)
        {
            int length = random.Next(buffer.Length);
            int offset = random.Next(buffer.Length - length);
            var span = buffer.AsSpan(offset, length);
            Assert.That(InternetChecksum.Compute(span), Is.EqualTo(InternetChecksum.ComputeScalar(span)), $"offset {offset} length {length}");
        }
    }

    [Test]
    public void Sums_of_all_ones_do_not_overflow_the_wide_lanes()
    {
        // 0xFF everywhere is the largest sum per byte; 5 MB passes the 2 MB point where the lanes are folded.
        var ones = new byte[5 << 20];
        ones.AsSpan().Fill(0xFF);
        foreach (int length in new[] { 64, 1480, 65536, (2 << 20) + 62, ones.Length - 1, ones.Length })
            Assert.That(InternetChecksum.Compute(ones.AsSpan(0, length)), Is.EqualTo(InternetChecksum.ComputeScalar(ones.AsSpan(0, length))), $"length {length}");
        var random = new Random(7);
        var data = new byte[5 << 20];
        random.NextBytes(data);
        Assert.That(InternetChecksum.Compute(data), Is.EqualTo(InternetChecksum.ComputeScalar(data)), "5 MB of random bytes");
    }

    [Test]
    public void A_sum_in_parts_equals_the_sum_of_the_whole_when_every_part_but_the_last_is_even()
    {
        var random = new Random(9);
        var data = new byte[3000];
        random.NextBytes(data);
        for (int cut = 0; cut <= 2000; cut += 2)
        {
            uint parts = InternetChecksum.Add(InternetChecksum.Add(0, data.AsSpan(0, cut)), data.AsSpan(cut, 999));
            Assert.That(InternetChecksum.Finish(parts), Is.EqualTo(InternetChecksum.ComputeScalar(data.AsSpan(0, cut + 999))), $"cut at {cut}");
        }
    }

    [Test]
    public void Rfc1071_example_sums_to_ddf2()
    {
        // RFC 1071 1.1 (numerical example): 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        Assert.That(InternetChecksum.Compute(data), Is.EqualTo((ushort)0x220d));
    }

    [Test]
    public void A_checksum_updated_for_one_changed_word_still_verifies_the_message()
    {
        // RFC 1624: the updated checksum must make the changed message sum to all ones, including the words where
        // eqn. 2 went wrong (the old field 0x0000/0xFFFF) and the echo request/reply type words.
        var random = new Random(1624);
        var message = new byte[64];
        for (int i = 0; i < 20000; i++)
        {
            random.NextBytes(message);
            if (i % 4 == 0) message.AsSpan(4).Clear();   // sums near zero: the edge cases
            message[2] = message[3] = 0;
            ushort checksum = InternetChecksum.Compute(message);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), checksum);
            Assert.That(InternetChecksum.IsValid(message), "before");
            int word = random.Next(message.Length / 2) is var w && w == 1 ? 0 : w;   // any word but the checksum's
            ushort oldWord = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(word * 2));
            ushort newWord = i % 3 == 0 ? (ushort)(oldWord ^ 0x0100) : (ushort)random.Next(65536);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(word * 2), newWord);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), InternetChecksum.Update(checksum, oldWord, newWord));
            Assert.That(InternetChecksum.IsValid(message), $"round {i}: word {word} {oldWord:x4} -> {newWord:x4}");
        }
    }
}
