using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>The fixed part of an MLDv2 query (RFC 3810 5.1); the sources follow it.</summary>
/// <param name="MaximumResponseCode">Maximum Response Code (milliseconds below 32768).</param>
/// <param name="MulticastAddress">The group queried; :: for a general query.</param>
/// <param name="SuppressRouterSideProcessing">S flag.</param>
/// <param name="QuerierRobustnessVariable">QRV, 0..7.</param>
/// <param name="QueryIntervalCode">QQIC (seconds below 128).</param>
/// <param name="NumberOfSources">Number of sources written after the fixed part.</param>
public readonly record struct MldQueryHeader(ushort MaximumResponseCode, Ipv6Address MulticastAddress, bool SuppressRouterSideProcessing = false,
    byte QuerierRobustnessVariable = 2, byte QueryIntervalCode = 125, ushort NumberOfSources = 0)
{
    /// <summary>Size of the fixed part.</summary>
    public const int Size = MldQuery.MinimumVersion2Size;

    /// <summary>Reads the fields from a parsed MLDv2 query.</summary>
    public static MldQueryHeader From(MldQuery query) => new(query.MaximumResponseCode, query.MulticastAddress, query.SuppressRouterSideProcessing,
        query.QuerierRobustnessVariable, query.QueryIntervalCode, (ushort)query.Sources.Count);

    /// <summary>Writes the fixed part with a zero checksum; returns the bytes written. Write the sources after it, then <see cref="Icmpv6Header.FillChecksum"/>.</summary>
    public int WriteTo(Span<byte> destination)
    {
        NdMessage.WriteStart(destination, Icmpv6Type.MulticastListenerQuery, Size);
        BinaryPrimitives.WriteUInt16BigEndian(destination[MldQuery.Field.MaximumResponseCode..], MaximumResponseCode);
        MulticastAddress.WriteTo(destination[MldQuery.Field.MulticastAddress..]);
        destination[MldQuery.Field.Flags] = (byte)((SuppressRouterSideProcessing ? 0x08 : 0) | (QuerierRobustnessVariable & 0x07));
        destination[MldQuery.Field.Qqic] = QueryIntervalCode;
        BinaryPrimitives.WriteUInt16BigEndian(destination[MldQuery.Field.NumberOfSources..], NumberOfSources);
        return Size;
    }
}
