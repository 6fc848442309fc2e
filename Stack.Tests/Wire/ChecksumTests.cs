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
    public void Rfc1071_example_sums_to_ddf2()
    {
        // RFC 1071 1.1 (numerical example): 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        Assert.That(InternetChecksum.Compute(data), Is.EqualTo((ushort)0x220d));
    }
}
