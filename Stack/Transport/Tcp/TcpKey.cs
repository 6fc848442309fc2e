using System.Security.Cryptography;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Transport.Tcp;

/// <summary>
/// What identifies a connection on a host: the peer's address (either family) and port, and our port; in gateway mode
/// our address too (<see cref="LocalAddress"/>: the gateway answers for every address, and a guest may use one source
/// port toward two destinations), otherwise it is left unspecified.
/// </summary>
/// <remarks>
/// Our own address is not part of the key: a host has one address per family at a time for its connections, and a
/// peer's IPv4 (mapped) and IPv6 addresses never coincide. The hash mixes the key's 160 bits with a secret drawn once
/// per process, so that a peer choosing addresses and ports cannot aim many connections at one bucket of the table
/// (Linux keys its connection hash with a boot-time secret for the same reason).
/// </remarks>
internal readonly record struct TcpKey(IpAddress RemoteAddress, ushort RemotePort, ushort LocalPort, IpAddress LocalAddress = default)
{
    private static readonly ulong Secret = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(RandomNumberGenerator.GetBytes(8)) | 1;

    private ulong Low => (ulong)RemoteAddress.Value ^ ((ulong)RemotePort << 48 | (ulong)LocalPort << 32);

    /// <summary>Same peer address, peer port and local port.</summary>
    public bool Equals(TcpKey other)
        => RemoteAddress.Value == other.RemoteAddress.Value && RemotePort == other.RemotePort && LocalPort == other.LocalPort
           && LocalAddress.Value == other.LocalAddress.Value;

    /// <summary>A keyed mix of the bits (multiply by the secret, fold the high half in).</summary>
    public override int GetHashCode()
    {
        ulong v = Low;
        // An IPv6 peer's upper half goes through a keyed mix of its own first, so that a peer cannot cancel it with
        // the lower half; for an IPv4 peer it is zero and the mix costs what the 64-bit key did.
        if ((ulong)(RemoteAddress.Value >> 64) is var high && high != 0) v ^= Mix(high);
        if (LocalAddress.Value != 0) v ^= Mix(Mix((ulong)LocalAddress.Value) ^ (ulong)(LocalAddress.Value >> 64));   // gateway mode only
        v = (v ^ (Secret >> 1)) * Secret;
        v ^= v >> 31;
        v *= 0x9E37_79B9_7F4A_7C15;
        return (int)(v >> 32);
    }

    private static ulong Mix(ulong x)
    {
        x = (x ^ (Secret >> 3)) * Secret;
        return x ^ x >> 29;
    }
}
