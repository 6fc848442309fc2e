namespace TcpIpSharp.Wire;

/// <summary>
/// Walks the options of a Neighbour Discovery message (RFC 4861 4.6) without allocating, one option per <see cref="Read"/>.
/// Every option (unknown ones too, which the receiver ignores) is returned and stepped over by its length. A length of 0
/// (RFC 4861 4.6: the message must be discarded) or one past the end stops the walk with <see cref="WireError.BadOption"/>.
/// </summary>
/// <example><code>
/// var reader = new NdOptionReader(advertisement.Options);
/// while (reader.Read())
///     if (reader.Current.Type == NdOptionType.PrefixInformation &amp;&amp; reader.Current.TryGetPrefixInformation(out var prefix) == WireError.None) Use(prefix);
/// if (reader.Error != WireError.None) Drop();
/// </code></example>
public ref struct NdOptionReader
{
    private readonly ReadOnlySpan<byte> _options;
    private int _position;

    /// <summary>Starts a walk over <paramref name="options"/>, the bytes after a message's fixed fields.</summary>
    public NdOptionReader(ReadOnlySpan<byte> options)
    {
        _options = options;
        _position = 0;
        Current = default;
        Error = WireError.None;
    }

    /// <summary>The option last read.</summary>
    public NdOption Current { get; private set; }
    /// <summary><see cref="WireError.None"/>, or <see cref="WireError.BadOption"/> once a malformed option stopped the walk.</summary>
    public WireError Error { get; private set; }

    /// <summary>Moves to the next option; false at the end or on a malformed option (see <see cref="Error"/>).</summary>
    public bool Read()
    {
        int remaining = _options.Length - _position;
        if (remaining <= 0) return false;
        // RFC 4861 4.6: the length counts 8-byte units; 0 is invalid and the message is discarded.
        if (remaining < 2 || _options[_position + NdOption.Field.Length] == 0 || _options[_position + NdOption.Field.Length] * 8 > remaining)
        {
            Error = WireError.BadOption;
            _position = _options.Length;
            return false;
        }
        int length = _options[_position + NdOption.Field.Length] * 8;
        Current = new NdOption(_options.Slice(_position, length));
        _position += length;
        return true;
    }

    /// <summary>Checks every option's length (what a message's TryParse does once).</summary>
    public static WireError Validate(ReadOnlySpan<byte> options)
    {
        var reader = new NdOptionReader(options);
        while (reader.Read()) { }
        return reader.Error;
    }

    /// <summary>Finds the first option of <paramref name="type"/>; false when there is none (or the options are malformed).</summary>
    public static bool TryFind(ReadOnlySpan<byte> options, NdOptionType type, out NdOption option)
    {
        var reader = new NdOptionReader(options);
        while (reader.Read())
        {
            if (reader.Current.Type == type)
            {
                option = reader.Current;
                return true;
            }
        }
        option = default;
        return false;
    }
}
