namespace TcpIpSharp.Wire;

/// <summary>The character-strings of a TXT record (RFC 1035 3.3.14), each a length octet and up to 255 bytes; enumerable with foreach without allocating.</summary>
public ref struct DnsCharacterStrings
{
    private readonly ReadOnlySpan<byte> _data;
    private int _next;

    internal DnsCharacterStrings(ReadOnlySpan<byte> data)
    {
        _data = data;
        _next = 0;
        Current = default;
    }

    /// <summary>The string at the current position.</summary>
    public ReadOnlySpan<byte> Current { get; private set; }

    /// <summary>Returns this enumerator (for foreach).</summary>
    public readonly DnsCharacterStrings GetEnumerator() => this;

    /// <summary>Moves to the next string; false at the end (or at a string running past the data, which a checked record never has).</summary>
    public bool MoveNext()
    {
        if (_next >= _data.Length) return false;
        int length = _data[_next];
        if (length > _data.Length - _next - 1)
        {
            _next = _data.Length;
            return false;
        }
        Current = _data.Slice(_next + 1, length);
        _next += 1 + length;
        return true;
    }

    /// <summary>Checks that <paramref name="data"/> is one or more whole character-strings.</summary>
    internal static bool AreWellFormed(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return false;
        int p = 0;
        while (p < data.Length) p += 1 + data[p];
        return p == data.Length;
    }
}
