namespace TcpIpSharp.Wire;

/// <summary>
/// Reads the domain names of a DNS Search List option (RFC 8106 5.2) one by one: uncompressed DNS names in wire form,
/// followed by zero padding. A compression pointer, a label past the option or a name over 255 bytes stops the walk.
/// </summary>
public ref struct NdDomainNameReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    internal NdDomainNameReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
        Error = WireError.None;
    }

    /// <summary><see cref="WireError.None"/>, or why a malformed name stopped the walk.</summary>
    public WireError Error { get; private set; }

    /// <summary>Reads the next name; false at the padding or the end, or on a malformed name (see <see cref="Error"/>).</summary>
    public bool Read(out DnsName name)
    {
        name = default;
        int start = _position;
        // RFC 8106 5.2: the names end where zero padding starts (a root name there would be padding too).
        if (start >= _data.Length || _data[start] == 0) { _position = _data.Length; return false; }
        int p = start;
        while (true)
        {
            if (p >= _data.Length) return Fail(WireError.Truncated);
            int length = _data[p];
            if ((length & 0xC0) != 0) return Fail(WireError.BadLabel);   // no compression in an option (RFC 8106 5.2)
            p += 1 + length;
            if (p - start > DnsName.MaximumLength) return Fail(WireError.NameTooLong);
            if (length == 0) break;
        }
        if (p > _data.Length) return Fail(WireError.Truncated);
        name = new DnsName(_data, start);
        _position = p;
        return true;
    }

    private bool Fail(WireError error)
    {
        Error = error;
        _position = _data.Length;
        return false;
    }
}
