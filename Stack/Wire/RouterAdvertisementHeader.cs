using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>The fixed part of a Router Advertisement (RFC 4861 4.2).</summary>
/// <param name="CurrentHopLimit">Cur Hop Limit (0: unspecified).</param>
/// <param name="ManagedAddressConfiguration">M flag.</param>
/// <param name="OtherConfiguration">O flag.</param>
/// <param name="RouterLifetime">Router lifetime in seconds (0: not a default router).</param>
/// <param name="ReachableTime">Reachable time in milliseconds (0: unspecified).</param>
/// <param name="RetransTimer">Retransmission timer in milliseconds (0: unspecified).</param>
public readonly record struct RouterAdvertisementHeader(byte CurrentHopLimit, bool ManagedAddressConfiguration, bool OtherConfiguration,
    ushort RouterLifetime, uint ReachableTime, uint RetransTimer)
{
    /// <summary>Size of the fixed part (options follow).</summary>
    public const int Size = RouterAdvertisement.Field.Options;

    /// <summary>Reads the fields from a parsed advertisement.</summary>
    public static RouterAdvertisementHeader From(RouterAdvertisement advertisement) => new(advertisement.CurrentHopLimit,
        advertisement.ManagedAddressConfiguration, advertisement.OtherConfiguration, advertisement.RouterLifetime,
        advertisement.ReachableTime, advertisement.RetransTimer);

    /// <summary>Writes the fixed part with a zero checksum; returns the bytes written. Write options after it, then <see cref="Icmpv6Header.FillChecksum"/>.</summary>
    public int WriteTo(Span<byte> destination)
    {
        NdMessage.WriteStart(destination, Icmpv6Type.RouterAdvertisement, Size);
        destination[RouterAdvertisement.Field.CurrentHopLimit] = CurrentHopLimit;
        destination[RouterAdvertisement.Field.Flags] = (byte)((ManagedAddressConfiguration ? 0x80 : 0) | (OtherConfiguration ? 0x40 : 0));
        BinaryPrimitives.WriteUInt16BigEndian(destination[RouterAdvertisement.Field.RouterLifetime..], RouterLifetime);
        BinaryPrimitives.WriteUInt32BigEndian(destination[RouterAdvertisement.Field.ReachableTime..], ReachableTime);
        BinaryPrimitives.WriteUInt32BigEndian(destination[RouterAdvertisement.Field.RetransTimer..], RetransTimer);
        return Size;
    }
}
