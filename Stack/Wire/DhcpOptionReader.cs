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
        while (_areaKind != Done)
        {
            if (_position >= _area.Length)
            {
                // An area may end without END (seen in lwIP's tests); that is its end all the same.
                NextArea();
                continue;
            }
            byte code = _area[_position];
            if (code == (byte)DhcpOption.Pad)
            {
                _position++;
                continue;
            }
            if (code == (byte)DhcpOption.End)
            {
                NextArea();
                continue;
            }
            if (_position + 1 >= _area.Length) return Fail();
            int length = _area[_position + 1];
            if (length > _area.Length - _position - 2) return Fail();
            var data = _area.Slice(_position + 2, length);
            if (!HasValidLength((DhcpOption)code, data)) return Fail();
            // RFC 2131 4.1: only the overload in the options field counts; one in file or sname cannot start another walk.
            if (code == (byte)DhcpOption.OptionOverload && _areaKind == OptionsArea) _overload = data[0];
            _position += 2 + length;
            Option = (DhcpOption)code;
            Data = data;
            return true;
        }
        Option = DhcpOption.End;
        Data = default;
        return false;
    }

    private void NextArea()
    {
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
        }
    }

    /// <summary>Whether data suits the option's fixed or minimum length (RFC 2132); codes not named in <see cref="DhcpOption"/> take any length.</summary>
    internal static bool HasValidLength(DhcpOption option, ReadOnlySpan<byte> data) => option switch
    {
        DhcpOption.SubnetMask or DhcpOption.BroadcastAddress or DhcpOption.RequestedIpAddress or DhcpOption.ServerIdentifier
            or DhcpOption.IpAddressLeaseTime or DhcpOption.RenewalTime or DhcpOption.RebindingTime => data.Length == 4,
        DhcpOption.Router or DhcpOption.DomainNameServer => data.Length >= 4 && data.Length % 4 == 0,
        DhcpOption.InterfaceMtu or DhcpOption.MaximumMessageSize => data.Length == 2,
        DhcpOption.MessageType => data.Length == 1,
        DhcpOption.OptionOverload => data.Length == 1 && data[0] is >= 1 and <= 3,
        DhcpOption.HostName or DhcpOption.DomainName or DhcpOption.ParameterRequestList => data.Length >= 1,
        DhcpOption.ClientIdentifier => data.Length >= 2,
        _ => true,
    };

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
