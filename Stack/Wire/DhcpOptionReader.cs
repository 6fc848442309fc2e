namespace TcpIpSharp.Wire;

/// <summary>
/// Walks the options of a DHCP message without allocating (RFC 2132): the options field, then, when an Option Overload (52)
/// in the options field says so, the file field and then the sname field (RFC 2131 4.1), each walked once. PAD is skipped,
/// END ends an area; an option whose length is missing or overruns its area, or whose length is wrong for the codes
/// <see cref="DhcpOption"/> names, stops the walk with <see cref="WireError.BadOption"/>. Every other code is returned as is.
/// </summary>
public ref struct DhcpOptionReader
{
    private const int OptionsArea = 0, FileArea = 1, ServerNameArea = 2, Done = 3;

    private readonly ReadOnlySpan<byte> _message;
    private ReadOnlySpan<byte> _area;
    private int _areaKind;
    private int _position;
    private byte _overload;

    internal DhcpOptionReader(ReadOnlySpan<byte> message)
    {
        _message = message;
        _area = message[DhcpMessage.Field.Options..];
        _areaKind = OptionsArea;
        _position = 0;
        _overload = 0;
        Option = DhcpOption.End;
        Data = default;
        Error = WireError.None;
    }

    /// <summary>Code of the option last read (may be a value with no name in <see cref="DhcpOption"/>).</summary>
    public DhcpOption Option { get; private set; }
    /// <summary>Data of the option last read.</summary>
    public ReadOnlySpan<byte> Data { get; private set; }
    /// <summary><see cref="WireError.None"/>, or <see cref="WireError.BadOption"/> once a malformed option stopped the walk.</summary>
    public WireError Error { get; private set; }
    /// <summary>The Option Overload value seen in the options field so far (0 none, 1 file, 2 sname, 3 both).</summary>
    public readonly byte Overload => _overload;

    /// <summary>Moves to the next option; false at the end of the last area or on a malformed option (see <see cref="Error"/>).</summary>
    public bool Read()
    {
        // Locals rather than fields in the loop: this runs once per option on the receive path.
        var area = _area;
        int position = _position;
        while (true)
        {
            if (position >= area.Length)
            {
                // An area may end without END (seen in lwIP's tests); that is its end all the same.
                if (!NextArea()) break;
                area = _area;
                position = 0;
                continue;
            }
            byte code = area[position];
            if (code == (byte)DhcpOption.Pad)
            {
                position++;
                continue;
            }
            if (code == (byte)DhcpOption.End)
            {
                position = area.Length;
                continue;
            }
            if (position + 1 >= area.Length) return Fail();
            int length = area[position + 1];
            if (length > area.Length - position - 2) return Fail();
            var data = area.Slice(position + 2, length);
            if (!HasValidLength((DhcpOption)code, data)) return Fail();
            // RFC 2131 4.1: only the overload in the options field counts; one in file or sname cannot start another walk.
            if (code == (byte)DhcpOption.OptionOverload && _areaKind == OptionsArea) _overload = data[0];
            _position = position + 2 + length;
            Option = (DhcpOption)code;
            Data = data;
            return true;
        }
        Option = DhcpOption.End;
        Data = default;
        return false;
    }

    /// <summary>Checks every option of a message the way <see cref="Read"/> walks them, without stopping at each.</summary>
    internal static WireError Validate(ReadOnlySpan<byte> message)
    {
        byte overload = 0;
        if (!IsValidArea(message[DhcpMessage.Field.Options..], ref overload)) return WireError.BadOption;
        byte ignored = 0;
        if ((overload & 1) != 0 && !IsValidArea(message.Slice(DhcpMessage.Field.File, DhcpMessage.FileLength), ref ignored)) return WireError.BadOption;
        if ((overload & 2) != 0 && !IsValidArea(message.Slice(DhcpMessage.Field.ServerName, DhcpMessage.ServerNameLength), ref ignored)) return WireError.BadOption;
        return WireError.None;
    }

    private static bool IsValidArea(ReadOnlySpan<byte> area, ref byte overload)
    {
        int position = 0;
        while (position < area.Length)
        {
            byte code = area[position];
            if (code == (byte)DhcpOption.Pad) { position++; continue; }
            if (code == (byte)DhcpOption.End) return true;
            if (position + 1 >= area.Length) return false;
            int length = area[position + 1];
            if (length > area.Length - position - 2) return false;
            var data = area.Slice(position + 2, length);
            if (!HasValidLength((DhcpOption)code, data)) return false;
            if (code == (byte)DhcpOption.OptionOverload) overload = data[0];
            position += 2 + length;
        }
        return true;
    }

    // Moves to the next area the overload names; false when none is left.
    private bool NextArea()
    {
        if (_areaKind == Done) return false;
        _position = 0;
        if (_areaKind == OptionsArea && (_overload & 1) != 0)
        {
            _areaKind = FileArea;
            _area = _message.Slice(DhcpMessage.Field.File, DhcpMessage.FileLength);
        }
        else if (_areaKind != ServerNameArea && (_overload & 2) != 0)
        {
            _areaKind = ServerNameArea;
            _area = _message.Slice(DhcpMessage.Field.ServerName, DhcpMessage.ServerNameLength);
        }
        else
        {
            _areaKind = Done;
            _area = default;
            return false;
        }
        return true;
    }

    // Length rules per option code (RFC 2132), looked up rather than switched on: one table load instead of a branch
    // that mispredicts on every option. Low six bits: minimum length; Exact: exactly that; Addresses: a multiple of 4.
    private const byte Exact = 0x40, Addresses = 0x80;
    private static ReadOnlySpan<byte> LengthRules =>
    [
        0, Exact|4, 0, Addresses|4, 0, 0, Addresses|4, 0, 0, 0, 0, 0, 1, 0, 0, 1,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Exact|2, 0, Exact|4, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, Exact|4, Exact|4, Exact|1, Exact|1, Exact|4, 1, 0, Exact|2, Exact|4, Exact|4, 0, 2, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// <summary>Whether data suits the option's fixed or minimum length (RFC 2132); codes not named in <see cref="DhcpOption"/> take any length.</summary>
    internal static bool HasValidLength(DhcpOption option, ReadOnlySpan<byte> data)
    {
        int rule = LengthRules[(byte)option];
        if (rule == 0) return true;
        int minimum = rule & 0x3F;
        if (data.Length < minimum) return false;
        if ((rule & Exact) != 0 && data.Length != minimum) return false;
        if ((rule & Addresses) != 0 && (data.Length & 3) != 0) return false;
        return option != DhcpOption.OptionOverload || data[0] is >= 1 and <= 3;
    }

    private bool Fail()
    {
        _areaKind = Done;
        _area = default;
        Option = DhcpOption.End;
        Data = default;
        Error = WireError.BadOption;
        return false;
    }
}
