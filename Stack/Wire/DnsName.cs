namespace TcpIpSharp.Wire;

/// <summary>
/// A domain name inside a DNS message, possibly compressed (RFC 1035 4.1.4), decoded on demand into a caller's buffer as
/// dotted text without a trailing dot (the root name is empty text). Label bytes are copied unchanged, one char per byte.
/// Names reached through <see cref="DnsReader"/> have already been checked, so decoding them into a buffer of
/// <see cref="MaximumTextLength"/> chars cannot fail.
/// </summary>
public readonly ref struct DnsName
{
    /// <summary>Longest name on the wire, length octets and root included (RFC 1035 2.3.4).</summary>
    public const int MaximumLength = 255;
    /// <summary>Longest dotted text of a name: 255 octets less the first length octet and the root.</summary>
    public const int MaximumTextLength = 253;
    /// <summary>Longest label (RFC 1035 2.3.4).</summary>
    public const int MaximumLabelLength = 63;
    /// <summary>Most compression pointers followed in one name; more means a loop (a legitimate name needs a handful).</summary>
    public const int MaximumPointerHops = 32;

    private readonly ReadOnlySpan<byte> _message;
    private readonly int _offset;

    internal DnsName(ReadOnlySpan<byte> message, int offset)
    {
        _message = message;
        _offset = offset;
    }

    /// <summary>Offset of the name's first byte in the message.</summary>
    public int Offset => _offset;

    /// <summary>Length of the dotted text (0 for the root), or -1 when the name is malformed.</summary>
    public int TextLength => Measure(_message, _offset, out _, out int textLength) == WireError.None ? textLength : -1;

    /// <summary>Writes the dotted text; <see cref="WireError.BufferTooSmall"/> when it does not fit.</summary>
    public WireError TryDecode(Span<char> destination, out int charsWritten)
    {
        charsWritten = 0;
        var walker = new LabelWalker(_message, _offset);
        int written = 0;
        while (true)
        {
            var error = walker.Next(out var label);
            if (error != WireError.None) return error;
            if (label.IsEmpty) break;
            if (written > 0)
            {
                if (written >= destination.Length) return WireError.BufferTooSmall;
                destination[written++] = '.';
            }
            if (label.Length > destination.Length - written) return WireError.BufferTooSmall;
            for (int i = 0; i < label.Length; i++) destination[written + i] = (char)label[i];
            written += label.Length;
        }
        charsWritten = written;
        return WireError.None;
    }

    /// <summary>Writes the dotted text as bytes (ASCII for ordinary names); <see cref="WireError.BufferTooSmall"/> when it does not fit.</summary>
    public WireError TryDecode(Span<byte> destination, out int bytesWritten)
    {
        bytesWritten = 0;
        var walker = new LabelWalker(_message, _offset);
        int written = 0;
        while (true)
        {
            var error = walker.Next(out var label);
            if (error != WireError.None) return error;
            if (label.IsEmpty) break;
            if (written > 0)
            {
                if (written >= destination.Length) return WireError.BufferTooSmall;
                destination[written++] = (byte)'.';
            }
            if (!label.TryCopyTo(destination[written..])) return WireError.BufferTooSmall;
            written += label.Length;
        }
        bytesWritten = written;
        return WireError.None;
    }

    /// <summary>True when the name equals <paramref name="name"/> (dotted text, trailing dot optional), ignoring ASCII case (RFC 4343).</summary>
    public bool Matches(ReadOnlySpan<char> name) => Matches(_message, _offset, name, ignoreCase: true);

    /// <summary>The dotted text, or a description of the error for a malformed name (allocates: for tests and logs).</summary>
    public override string ToString()
    {
        Span<char> text = stackalloc char[MaximumTextLength];
        var error = TryDecode(text, out int n);
        return error == WireError.None ? new string(text[..n]) : $"<{error}>";
    }

    /// <summary>Checks a name: where it ends in place (after its labels or its first pointer) and how long its text is.</summary>
    internal static WireError Measure(ReadOnlySpan<byte> message, int offset, out int endInPlace, out int textLength)
    {
        endInPlace = 0;
        textLength = 0;
        var walker = new LabelWalker(message, offset);
        int length = -1;
        while (true)
        {
            var error = walker.Next(out var label);
            if (error != WireError.None) return error;
            if (label.IsEmpty) break;
            length += label.Length + 1;
        }
        endInPlace = walker.EndInPlace;
        textLength = Math.Max(length, 0);
        return WireError.None;
    }

    /// <summary>Compares the name at <paramref name="offset"/> with dotted text; false for a malformed name.</summary>
    internal static bool Matches(ReadOnlySpan<byte> message, int offset, ReadOnlySpan<char> name, bool ignoreCase)
    {
        if (name.Length > 0 && name[^1] == '.') name = name[..^1];
        var walker = new LabelWalker(message, offset);
        bool first = true;
        while (true)
        {
            if (walker.Next(out var label) != WireError.None) return false;
            if (label.IsEmpty) return name.IsEmpty;
            if (!first)
            {
                if (name.IsEmpty || name[0] != '.') return false;
                name = name[1..];
            }
            first = false;
            if (name.Length < label.Length) return false;
            for (int i = 0; i < label.Length; i++)
            {
                char c = name[i];
                char b = (char)label[i];
                if (c != b && !(ignoreCase && char.IsAsciiLetter(c) && (c | 0x20) == (b | 0x20))) return false;
            }
            name = name[label.Length..];
            if (!name.IsEmpty && name[0] != '.') return false;
        }
    }

    /// <summary>
    /// Encodes dotted text as uncompressed labels. A trailing dot is allowed; "" and "." are the root. Empty labels and labels
    /// over 63 bytes are <see cref="WireError.BadLabel"/>, chars above U+00FF too; over 255 octets is <see cref="WireError.NameTooLong"/>.
    /// </summary>
    public static WireError TryEncode(ReadOnlySpan<char> name, Span<byte> destination, out int bytesWritten)
    {
        bytesWritten = 0;
        var error = EncodedLength(name, out int length);
        if (error != WireError.None) return error;
        if (length > destination.Length) return WireError.BufferTooSmall;
        WriteLabels(TrimRoot(name), destination);
        bytesWritten = length;
        return WireError.None;
    }

    internal static ReadOnlySpan<char> TrimRoot(ReadOnlySpan<char> name) => name.Length > 0 && name[^1] == '.' ? name[..^1] : name;

    /// <summary>Checks dotted text and gives the length of its uncompressed encoding.</summary>
    internal static WireError EncodedLength(ReadOnlySpan<char> name, out int length)
    {
        name = TrimRoot(name);
        length = 1;
        if (name.IsEmpty) return WireError.None;
        int labelLength = 0;
        foreach (char c in name)
        {
            if (c == '.')
            {
                if (labelLength == 0) return WireError.BadLabel;
                labelLength = 0;
                continue;
            }
            if (c > 0xFF || ++labelLength > MaximumLabelLength) return WireError.BadLabel;
        }
        if (labelLength == 0) return WireError.BadLabel;
        length = name.Length + 2;   // one length octet per label replaces each dot, plus the first and the root
        return length > MaximumLength ? WireError.NameTooLong : WireError.None;
    }

    /// <summary>Writes checked dotted text (no trailing dot) as labels ending in the root; returns the bytes written.</summary>
    internal static int WriteLabels(ReadOnlySpan<char> name, Span<byte> destination)
    {
        int p = 0;
        while (!name.IsEmpty)
        {
            int dot = name.IndexOf('.');
            var label = dot < 0 ? name : name[..dot];
            destination[p++] = (byte)label.Length;
            foreach (char c in label) destination[p++] = (byte)c;
            name = dot < 0 ? default : name[(dot + 1)..];
        }
        destination[p++] = 0;
        return p;
    }

    /// <summary>Steps through the labels of a name, following pointers, checking lengths, hops and bounds on the way.</summary>
    internal ref struct LabelWalker
    {
        private readonly ReadOnlySpan<byte> _message;
        private int _position;
        private int _hops;
        private int _wireLength;
        private bool _done;

        public LabelWalker(ReadOnlySpan<byte> message, int offset)
        {
            _message = message;
            _position = offset;
            EndInPlace = -1;
        }

        /// <summary>Where the name ends in its original place: after the root label or after the first pointer.</summary>
        public int EndInPlace { get; private set; }

        /// <summary>The next label; an empty label is the root and ends the name.</summary>
        public WireError Next(out ReadOnlySpan<byte> label)
        {
            label = default;
            if (_done) return WireError.None;
            while (true)
            {
                if ((uint)_position >= (uint)_message.Length) return WireError.Truncated;
                byte length = _message[_position];
                if ((length & 0xC0) == 0xC0)
                {
                    // RFC 1035 4.1.4: a pointer is two octets, 11 then a 14-bit offset from the start of the message.
                    if (_position + 1 >= _message.Length) return WireError.Truncated;
                    if (EndInPlace < 0) EndInPlace = _position + 2;
                    if (++_hops > MaximumPointerHops) return WireError.BadPointer;
                    int target = (length & 0x3F) << 8 | _message[_position + 1];
                    if (target >= _message.Length) return WireError.BadPointer;
                    _position = target;
                    continue;
                }
                // 01 (extended label, RFC 6891 5) and 10 (reserved): also every "length" of 64..191.
                if ((length & 0xC0) != 0) return WireError.BadLabel;
                if (_position + 1 + length > _message.Length) return WireError.Truncated;
                _wireLength += 1 + length;
                if (_wireLength > MaximumLength) return WireError.NameTooLong;
                label = _message.Slice(_position + 1, length);
                _position += 1 + length;
                if (length == 0)
                {
                    _done = true;
                    if (EndInPlace < 0) EndInPlace = _position;
                }
                return WireError.None;
            }
        }
    }
}
