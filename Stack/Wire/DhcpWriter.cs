using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// Writes a DHCP message into a span without allocating: <see cref="WriteHeader"/>, the options in the order given, then
/// <see cref="Finish"/> adds END and pads to the BOOTP minimum. One byte is always kept for END; an option that does not
/// fit returns <see cref="WireError.BufferTooSmall"/> and leaves the message as it was.
/// </summary>
/// <example><code>
/// var writer = new DhcpWriter(buffer);
/// writer.WriteHeader(new DhcpHeader(DhcpOperation.BootRequest, xid, mac, IsBroadcast: true));
/// writer.WriteMessageType(DhcpMessageType.Discover);
/// writer.WriteParameterRequestList([DhcpOption.SubnetMask, DhcpOption.Router, DhcpOption.DomainNameServer]);
/// int length = writer.Finish();
/// </code></example>
public ref struct DhcpWriter
{
    /// <summary>Smallest BOOTP message relays and old servers accept (RFC 1542 2.1): <see cref="Finish"/> pads to it.</summary>
    public const int MinimumMessageSize = 300;

    private readonly Span<byte> _buffer;
    private int _position;

    /// <summary>Starts a message at the beginning of <paramref name="destination"/>.</summary>
    public DhcpWriter(Span<byte> destination)
    {
        _buffer = destination;
        _position = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _position;

    /// <summary>Writes the fixed fields and the cookie; must come first.</summary>
    public WireError WriteHeader(DhcpHeader header)
    {
        if (_position != 0) throw new InvalidOperationException("the header comes first");
        if (_buffer.Length < DhcpHeader.Size + 1) return WireError.BufferTooSmall;
        _position = header.WriteTo(_buffer);
        return WireError.None;
    }

    /// <summary>Writes an option with raw data; <see cref="WireError.BadOption"/> for more than 255 bytes or a length <see cref="DhcpOptionReader"/> would reject.</summary>
    public WireError WriteOption(DhcpOption option, scoped ReadOnlySpan<byte> data)
    {
        if (_position < DhcpHeader.Size) throw new InvalidOperationException("write the header first");
        if (option is DhcpOption.Pad or DhcpOption.End || data.Length > byte.MaxValue || !DhcpOptionReader.HasValidLength(option, data))
            return WireError.BadOption;
        if (2 + data.Length + 1 > _buffer.Length - _position) return WireError.BufferTooSmall;
        _buffer[_position] = (byte)option;
        _buffer[_position + 1] = (byte)data.Length;
        data.CopyTo(_buffer[(_position + 2)..]);
        _position += 2 + data.Length;
        return WireError.None;
    }

    /// <summary>Writes DHCP Message Type (53).</summary>
    public WireError WriteMessageType(DhcpMessageType type)
    {
        ReadOnlySpan<byte> data = [(byte)type];
        return WriteOption(DhcpOption.MessageType, data);
    }

    /// <summary>Writes an option holding one address (mask, server id, requested address, broadcast address...).</summary>
    public WireError WriteAddress(DhcpOption option, Ipv4Address address)
    {
        Span<byte> data = stackalloc byte[Ipv4Address.Size];
        address.WriteTo(data);
        return WriteOption(option, data);
    }

    /// <summary>Writes an option holding a list of addresses (routers, DNS servers), 1 to 63 of them.</summary>
    public WireError WriteAddresses(DhcpOption option, scoped ReadOnlySpan<Ipv4Address> addresses)
    {
        if (addresses.Length > byte.MaxValue / Ipv4Address.Size) return WireError.BadOption;
        Span<byte> data = stackalloc byte[addresses.Length * Ipv4Address.Size];
        for (int i = 0; i < addresses.Length; i++) addresses[i].WriteTo(data[(i * Ipv4Address.Size)..]);
        return WriteOption(option, data);
    }

    /// <summary>Writes a 32-bit option (lease time, T1, T2).</summary>
    public WireError WriteUInt32(DhcpOption option, uint value)
    {
        Span<byte> data = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(data, value);
        return WriteOption(option, data);
    }

    /// <summary>Writes a 16-bit option (interface MTU, maximum message size).</summary>
    public WireError WriteUInt16(DhcpOption option, ushort value)
    {
        Span<byte> data = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(data, value);
        return WriteOption(option, data);
    }

    /// <summary>Writes Parameter Request List (55).</summary>
    public WireError WriteParameterRequestList(scoped ReadOnlySpan<DhcpOption> options)
    {
        if (options.Length > byte.MaxValue) return WireError.BadOption;
        Span<byte> data = stackalloc byte[options.Length];
        for (int i = 0; i < options.Length; i++) data[i] = (byte)options[i];
        return WriteOption(DhcpOption.ParameterRequestList, data);
    }

    /// <summary>Writes Client Identifier (61) as hardware type 1 and the MAC address (RFC 2132 9.14).</summary>
    public WireError WriteClientIdentifier(MacAddress address)
    {
        Span<byte> data = stackalloc byte[1 + MacAddress.Size];
        data[0] = DhcpHeader.HardwareTypeEthernet;
        address.WriteTo(data[1..]);
        return WriteOption(DhcpOption.ClientIdentifier, data);
    }

    /// <summary>Writes END, pads with zeros to <paramref name="minimumLength"/> (or as far as the buffer allows); returns the message length.</summary>
    public int Finish(int minimumLength = MinimumMessageSize)
    {
        if (_position < DhcpHeader.Size) throw new InvalidOperationException("no header written");
        _buffer[_position++] = (byte)DhcpOption.End;
        int end = Math.Min(Math.Max(_position, minimumLength), _buffer.Length);
        _buffer[_position..end].Clear();
        _position = end;
        return end;
    }
}
