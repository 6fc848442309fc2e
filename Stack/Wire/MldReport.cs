using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>A view over an MLDv2 report (RFC 3810 5.2): a count, then that many multicast address records.</summary>
public readonly ref struct MldReport
{
    internal static class Field
    {
        public const int Reserved = 4;          // 4..6
        public const int NumberOfRecords = 6;   // 6..8
        public const int Records = 8;
    }

    private readonly ReadOnlySpan<byte> _bytes;
    private MldReport(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks the type and that every record the report counts fits in the message.</summary>
    public static WireError TryParse(ReadOnlySpan<byte> message, out MldReport report)
    {
        report = default;
        if (message.Length < Icmpv6Packet.MinimumSize) return WireError.Truncated;
        if (message[Icmpv6Packet.Field.Type] != (byte)Icmpv6Type.MulticastListenerReportV2) return WireError.BadMessage;
        if (message.Length < Field.Records) return WireError.Truncated;
        var candidate = new MldReport(message);
        var reader = candidate.GetRecords();
        while (reader.Read()) { }
        if (reader.Error != WireError.None) return reader.Error;
        report = candidate;
        return WireError.None;
    }

    /// <summary>The whole ICMPv6 message.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;
    /// <summary>Number of multicast address records.</summary>
    public ushort NumberOfRecords => BinaryPrimitives.ReadUInt16BigEndian(_bytes[Field.NumberOfRecords..]);
    /// <summary>A reader over the records.</summary>
    public MldAddressRecordReader GetRecords() => new(_bytes[Field.Records..], NumberOfRecords);
}
