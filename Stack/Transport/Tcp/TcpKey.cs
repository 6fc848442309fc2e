using System.Security.Cryptography;

namespace TcpIpSharp.Transport.Tcp;

/// <summary>What identifies a connection on a single-address host: the peer's address and port, and our port.</summary>
/// <remarks>
/// The hash mixes the 64 bits of the key with a secret drawn once per process, so that a peer choosing addresses and
/// ports cannot aim many connections at one bucket of the table (Linux keys its connection hash with a boot-time
/// secret for the same reason). Equality compares the 64 bits at once.
/// </remarks>
internal readonly record struct TcpKey(uint RemoteAddress, ushort RemotePort, ushort LocalPort)
{
    private static readonly ulong Secret = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(RandomNumberGenerator.GetBytes(8)) | 1;

    private ulong Packed => (ulong)RemoteAddress << 32 | (uint)RemotePort << 16 | LocalPort;

    /// <summary>Same peer address, peer port and local port.</summary>
    public bool Equals(TcpKey other) => Packed == other.Packed;

    /// <summary>A keyed mix of the 64 bits (multiply by the secret, fold the high half in).</summary>
    public override int GetHashCode()
    {
        ulong v = (Packed ^ (Secret >> 1)) * Secret;
        v ^= v >> 31;
        v *= 0x9E37_79B9_7F4A_7C15;
        return (int)(v >> 32);
    }
}
