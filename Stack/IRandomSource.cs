using System.Buffers.Binary;
using System.Security.Cryptography;

namespace TcpIpSharp;

/// <summary>Where the stack's randomness comes from: ports, IDs, sequence numbers. Injected, never ambient.</summary>
public interface IRandomSource
{
    /// <summary>Fills <paramref name="destination"/> with random bytes.</summary>
    void NextBytes(Span<byte> destination);

    /// <summary>A random 32-bit value.</summary>
    uint NextUInt32()
    {
        Span<byte> b = stackalloc byte[4];
        NextBytes(b);
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }
}

/// <summary>Cryptographic randomness for production (<see cref="RandomNumberGenerator"/>).</summary>
public sealed class CryptoRandomSource : IRandomSource
{
    /// <inheritdoc/>
    public void NextBytes(Span<byte> destination) => RandomNumberGenerator.Fill(destination);
}

/// <summary>Repeatable randomness from a seed, for tests and simulation.</summary>
public sealed class SeededRandomSource(int seed) : IRandomSource
{
#pragma warning disable CA5394 // deterministic by design: tests replay a seed
    private readonly Random _random = new(seed);
    /// <inheritdoc/>
    public void NextBytes(Span<byte> destination) => _random.NextBytes(destination);
#pragma warning restore CA5394
}
