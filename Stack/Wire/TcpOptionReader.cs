namespace TcpIpSharp.Wire;

/// <summary>
/// Walks a TCP options area (RFC 9293 3.2) without allocating, one option per <see cref="Read"/>.
/// End of Option List ends the walk, No-Operation is skipped, every other kind (unknown ones too) is returned
/// with its data and stepped over by its length. A malformed length stops the walk with <see cref="WireError.BadOption"/>.
/// </summary>
/// <example><code>
/// var reader = new TcpOptionReader(segment.Options);
/// while (reader.Read()) Use(reader.Kind, reader.Data);
/// if (reader.Error != WireError.None) Drop();
/// </code></example>
public ref struct TcpOptionReader
{
    private readonly ReadOnlySpan<byte> _options;
    private int _position;

    /// <summary>Starts a walk over <paramref name="options"/>, the bytes between the fixed header and the data.</summary>
    public TcpOptionReader(ReadOnlySpan<byte> options)
    {
        _options = options;
        _position = 0;
        Kind = TcpOptionKind.EndOfOptionList;
        Data = default;
        Error = WireError.None;
    }

    /// <summary>Kind of the option last read (may be a value with no name in <see cref="TcpOptionKind"/>).</summary>
    public TcpOptionKind Kind { get; private set; }
    /// <summary>Data of the option last read: the bytes after kind and length.</summary>
    public ReadOnlySpan<byte> Data { get; private set; }
    /// <summary><see cref="WireError.None"/>, or <see cref="WireError.BadOption"/> once a malformed option stopped the walk.</summary>
    public WireError Error { get; private set; }

    /// <summary>Moves to the next option; false at the end of the list or on a malformed option (see <see cref="Error"/>).</summary>
    public bool Read()
    {
        // Locals rather than fields in the loop: this runs once per option on the receive path.
        var options = _options;
        int position = _position;
        while (position < options.Length)
        {
            byte kind = options[position];
            if (kind == (byte)TcpOptionKind.EndOfOptionList) break;
            if (kind == (byte)TcpOptionKind.NoOperation)
            {
                position++;
                continue;
            }
            // RFC 9293 3.2 (MUST-7): an option whose length is missing, below 2 or past the area is an error, never a loop.
            if (position + 1 >= options.Length) return Fail();
            int length = options[position + 1];
            if (length < 2 || length > options.Length - position) return Fail();
            if (!HasValidLength((TcpOptionKind)kind, length)) return Fail();
            Kind = (TcpOptionKind)kind;
            Data = options.Slice(position + 2, length - 2);
            _position = position + length;
            return true;
        }
        _position = options.Length;
        Kind = TcpOptionKind.EndOfOptionList;
        Data = default;
        return false;
    }

    private static bool HasValidLength(TcpOptionKind kind, int length) => kind switch
    {
        TcpOptionKind.MaximumSegmentSize => length == 4,
        TcpOptionKind.WindowScale => length == 3,          // RFC 7323 2.2
        TcpOptionKind.SackPermitted => length == 2,        // RFC 2018 2
        TcpOptionKind.Timestamps => length == 10,          // RFC 7323 3.2
        TcpOptionKind.Sack => length >= 10 && (length - 2) % 8 == 0,   // RFC 2018 3: at least one block
        _ => true,
    };

    private bool Fail()
    {
        _position = _options.Length;
        Kind = TcpOptionKind.EndOfOptionList;
        Data = default;
        Error = WireError.BadOption;
        return false;
    }
}
