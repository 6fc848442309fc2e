using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace TcpIpSharp.Wire;

/// <summary>
/// Writes a DNS message into a span without allocating: the header, then questions, then records in section order;
/// <see cref="Finish"/> stores the counts of what was written. Names are plain labels, or with <c>compressNames</c>
/// pointers to a matching name (or name suffix) written earlier (RFC 1035 4.1.4). A write that does not fit returns
/// <see cref="WireError.BufferTooSmall"/> and leaves the message as it was.
/// </summary>
public ref struct DnsWriter
{
    private const int RememberedNames = 16;
    private const int MaximumPointerTarget = 0x3FFF;

    [InlineArray(RememberedNames)]
    private struct OffsetList
    {
        private ushort _element;
    }

    private readonly Span<byte> _buffer;
    private readonly bool _compress;
    private int _position;
    private int _questions, _answers, _authority, _additional;
    private DnsSection _section;
    private OffsetList _names;
    private int _nameCount;

    /// <summary>Starts a message at the beginning of <paramref name="destination"/>.</summary>
    public DnsWriter(Span<byte> destination, bool compressNames = false)
    {
        _buffer = destination;
        _compress = compressNames;
        _position = 0;
        _section = DnsSection.Question;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _position;

    /// <summary>Writes the header; must come first. Its counts are replaced by <see cref="Finish"/>.</summary>
    public WireError WriteHeader(DnsHeader header)
    {
        if (_position != 0) throw new InvalidOperationException("the header comes first");
        if (_buffer.Length < DnsHeader.Size) return WireError.BufferTooSmall;
        _position = header.WriteTo(_buffer);
        return WireError.None;
    }

    /// <summary>Writes a question.</summary>
    public WireError WriteQuestion(DnsQuestion question) => WriteQuestion(question.Name, question.Type, question.Class);

    /// <summary>Writes a question: name as dotted text, type and class.</summary>
    public WireError WriteQuestion(ReadOnlySpan<char> name, DnsType type, DnsClass @class = DnsClass.Internet)
    {
        StartEntry(DnsSection.Question);
        int p = _position;
        var error = WriteName(name, ref p, DnsReader.Field.QuestionSize);
        if (error != WireError.None) return error;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(p + DnsReader.Field.Type)..], (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(p + DnsReader.Field.Class)..], (ushort)@class);
        _position = p + DnsReader.Field.QuestionSize;
        _questions++;
        return WireError.None;
    }

    /// <summary>Writes an A record (RFC 1035 3.4.1).</summary>
    public WireError WriteAddressRecord(ReadOnlySpan<char> name, Ipv4Address address, uint timeToLive, DnsSection section = DnsSection.Answer)
    {
        Span<byte> data = stackalloc byte[Ipv4Address.Size];
        address.WriteTo(data);
        return WriteRecord(name, DnsType.A, DnsClass.Internet, timeToLive, data, section);
    }

    /// <summary>Writes a CNAME record: <paramref name="name"/> is an alias of <paramref name="canonicalName"/> (RFC 1035 3.3.1).</summary>
    public WireError WriteCanonicalNameRecord(ReadOnlySpan<char> name, ReadOnlySpan<char> canonicalName, uint timeToLive, DnsSection section = DnsSection.Answer)
        => WriteNameRecord(name, DnsType.Cname, canonicalName, timeToLive, section);

    /// <summary>Writes a record whose data is one name: CNAME, NS or PTR (compressed too when the writer compresses).</summary>
    public WireError WriteNameRecord(ReadOnlySpan<char> name, DnsType type, ReadOnlySpan<char> target, uint timeToLive, DnsSection section = DnsSection.Answer)
    {
        StartEntry(section);
        int p = _position;
        var error = WriteName(name, ref p, DnsReader.Field.RecordFixedSize);
        if (error != WireError.None) return error;
        int dataStart = p + DnsReader.Field.RecordFixedSize;
        int q = dataStart;
        error = WriteName(target, ref q, 0);
        if (error != WireError.None)
        {
            ForgetNamesFrom(_position);
            return error;
        }
        WriteFixed(p, type, DnsClass.Internet, timeToLive, q - dataStart);
        Commit(q, section);
        return WireError.None;
    }

    /// <summary>Writes a record with raw data (any type; names inside <paramref name="data"/> are not compressed).</summary>
    public WireError WriteRecord(ReadOnlySpan<char> name, DnsType type, DnsClass @class, uint timeToLive, scoped ReadOnlySpan<byte> data, DnsSection section = DnsSection.Answer)
    {
        StartEntry(section);
        if (data.Length > ushort.MaxValue) return WireError.BadLength;
        int p = _position;
        var error = WriteName(name, ref p, DnsReader.Field.RecordFixedSize + data.Length);
        if (error != WireError.None) return error;
        WriteFixed(p, type, @class, timeToLive, data.Length);
        data.CopyTo(_buffer[(p + DnsReader.Field.RecordFixedSize)..]);
        Commit(p + DnsReader.Field.RecordFixedSize + data.Length, section);
        return WireError.None;
    }

    /// <summary>Stores the numbers of entries written in the header's counts; returns the message length.</summary>
    public int Finish()
    {
        if (_position < DnsHeader.Size) throw new InvalidOperationException("no header written");
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[DnsMessage.Field.QuestionCount..], (ushort)_questions);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[DnsMessage.Field.AnswerCount..], (ushort)_answers);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[DnsMessage.Field.AuthorityCount..], (ushort)_authority);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[DnsMessage.Field.AdditionalCount..], (ushort)_additional);
        return _position;
    }

    private readonly void StartEntry(DnsSection section)
    {
        if (_position < DnsHeader.Size) throw new InvalidOperationException("write the header first");
        if (section < _section) throw new InvalidOperationException($"{section} entries cannot follow {_section} entries");
    }

    private void WriteFixed(int p, DnsType type, DnsClass @class, uint timeToLive, int dataLength)
    {
        var fixedPart = _buffer[p..];
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[DnsReader.Field.Type..], (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[DnsReader.Field.Class..], (ushort)@class);
        BinaryPrimitives.WriteUInt32BigEndian(fixedPart[DnsReader.Field.TimeToLive..], timeToLive);
        BinaryPrimitives.WriteUInt16BigEndian(fixedPart[DnsReader.Field.DataLength..], (ushort)dataLength);
    }

    private void Commit(int end, DnsSection section)
    {
        _position = end;
        _section = section;
        switch (section)
        {
            case DnsSection.Answer: _answers++; break;
            case DnsSection.Authority: _authority++; break;
            case DnsSection.Additional: _additional++; break;
        }
    }

    // Writes a name at p (advancing it) if it and `after` more bytes fit.
    private WireError WriteName(ReadOnlySpan<char> name, ref int p, int after)
    {
        var error = DnsName.EncodedLength(name, out int plainLength);
        if (error != WireError.None) return error;
        name = DnsName.TrimRoot(name);
        int suffixStart = name.Length, target = -1;
        if (_compress && !name.IsEmpty) FindSuffix(name, p, out suffixStart, out target);
        // Labels before the suffix take their text length plus one; a pointer takes 2, the root 1.
        int length = target < 0 ? plainLength : suffixStart == 0 ? 2 : suffixStart + 2;
        if (length + after > _buffer.Length - p) return WireError.BufferTooSmall;
        var prefix = target < 0 ? name : suffixStart == 0 ? default : name[..(suffixStart - 1)];
        while (!prefix.IsEmpty)
        {
            int dot = prefix.IndexOf('.');
            var label = dot < 0 ? prefix : prefix[..dot];
            Remember(p);
            _buffer[p++] = (byte)label.Length;
            foreach (char c in label) _buffer[p++] = (byte)c;
            prefix = dot < 0 ? default : prefix[(dot + 1)..];
        }
        if (target < 0) _buffer[p++] = 0;
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[p..], (ushort)(0xC000 | target));
            p += 2;
        }
        return WireError.None;
    }

    // The longest suffix of name (at a label boundary) equal to a name written earlier, compared byte for byte.
    private readonly void FindSuffix(ReadOnlySpan<char> name, int writtenEnd, out int suffixStart, out int target)
    {
        ReadOnlySpan<byte> written = _buffer[..writtenEnd];
        int i = 0;
        while (true)
        {
            var suffix = name[i..];
            for (int n = 0; n < _nameCount; n++)
            {
                if (DnsName.Matches(written, _names[n], suffix, ignoreCase: false))
                {
                    suffixStart = i;
                    target = _names[n];
                    return;
                }
            }
            int dot = suffix.IndexOf('.');
            if (dot < 0) break;
            i += dot + 1;
        }
        suffixStart = name.Length;
        target = -1;
    }

    private void Remember(int offset)
    {
        if (!_compress || _nameCount == RememberedNames || offset > MaximumPointerTarget) return;
        _names[_nameCount++] = (ushort)offset;
    }

    // Drops names remembered from an entry that was not committed.
    private void ForgetNamesFrom(int offset)
    {
        while (_nameCount > 0 && _names[_nameCount - 1] >= offset) _nameCount--;
    }
}
