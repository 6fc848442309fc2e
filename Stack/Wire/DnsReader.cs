using System.Buffers.Binary;

namespace TcpIpSharp.Wire;

/// <summary>
/// Walks the sections of a DNS message in wire order without allocating: the questions with <see cref="TryReadQuestion"/>,
/// then the answer, authority and additional records with <see cref="TryReadRecord"/>. Each entry's name and lengths
/// (and the data of the record types <see cref="DnsRecordView"/> decodes) are checked before it is returned; the first
/// malformed entry ends the walk with its <see cref="Error"/>.
/// </summary>
/// <example><code>
/// var reader = message.GetReader();
/// while (reader.TryReadQuestion(out var question)) { ... }
/// while (reader.TryReadRecord(out var record)) { if (reader.Section == DnsSection.Answer) ... }
/// if (reader.Error != WireError.None) Drop();
/// </code></example>
public ref struct DnsReader
{
    internal static class Field
    {
        // After an entry's name.
        public const int Type = 0;          // 0..2
        public const int Class = 2;         // 2..4
        public const int TimeToLive = 4;    // 4..8 (records)
        public const int DataLength = 8;    // 8..10 (records)
        public const int QuestionSize = 4;
        public const int RecordFixedSize = 10;
    }

    private readonly ReadOnlySpan<byte> _message;
    private int _position;
    private int _questionsLeft;
    private int _answersLeft;
    private int _authorityLeft;
    private int _additionalLeft;
    private readonly bool _isUpdate;

    /// <summary>Starts at the first question of <paramref name="message"/>.</summary>
    public DnsReader(DnsMessage message)
    {
        _message = message.Bytes;
        _position = DnsHeader.Size;
        _questionsLeft = message.QuestionCount;
        _answersLeft = message.AnswerCount;
        _authorityLeft = message.AuthorityCount;
        _additionalLeft = message.AdditionalCount;
        _isUpdate = message.Opcode == DnsOpcode.Update;
        Section = DnsSection.Question;
        Error = WireError.None;
    }

    /// <summary>Section of the entry last read.</summary>
    public DnsSection Section { get; private set; }
    /// <summary><see cref="WireError.None"/>, or why the walk stopped early.</summary>
    public WireError Error { get; private set; }
    /// <summary>Offset just after the last entry read.</summary>
    public readonly int Position => _position;

    /// <summary>Reads the next question; false when none is left or one is malformed (see <see cref="Error"/>).</summary>
    public bool TryReadQuestion(out DnsQuestionView question)
    {
        question = default;
        if (Error != WireError.None || _questionsLeft == 0) return false;
        var error = DnsName.Measure(_message, _position, out int end, out _);
        if (error == WireError.None && end + Field.QuestionSize > _message.Length) error = WireError.Truncated;
        if (error != WireError.None) return Fail(error);
        var fixedPart = _message[end..];
        question = new DnsQuestionView(_message, _position,
            (DnsType)BinaryPrimitives.ReadUInt16BigEndian(fixedPart[Field.Type..]),
            (DnsClass)BinaryPrimitives.ReadUInt16BigEndian(fixedPart[Field.Class..]));
        _position = end + Field.QuestionSize;
        _questionsLeft--;
        Section = DnsSection.Question;
        return true;
    }

    /// <summary>Reads the next answer, authority or additional record, first stepping over any questions not yet read; false at the end or on a malformed entry (see <see cref="Error"/>).</summary>
    public bool TryReadRecord(out DnsRecordView record)
    {
        record = default;
        while (_questionsLeft > 0)
            if (!TryReadQuestion(out _)) return false;
        if (Error != WireError.None) return false;
        DnsSection section;
        if (_answersLeft > 0) { section = DnsSection.Answer; _answersLeft--; }
        else if (_authorityLeft > 0) { section = DnsSection.Authority; _authorityLeft--; }
        else if (_additionalLeft > 0) { section = DnsSection.Additional; _additionalLeft--; }
        else return false;

        // The section of the entry being read, so that an error names the section it is in.
        Section = section;
        var error = DnsName.Measure(_message, _position, out int end, out _);
        if (error != WireError.None) return Fail(error);
        if (end + Field.RecordFixedSize > _message.Length) return Fail(WireError.Truncated);
        var fixedPart = _message[end..];
        var type = (DnsType)BinaryPrimitives.ReadUInt16BigEndian(fixedPart[Field.Type..]);
        var @class = (DnsClass)BinaryPrimitives.ReadUInt16BigEndian(fixedPart[Field.Class..]);
        int dataOffset = end + Field.RecordFixedSize;
        int dataLength = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[Field.DataLength..]);
        if (dataLength > _message.Length - dataOffset) return Fail(WireError.Truncated);
        // RFC 2136 2.4 and 2.5: a DNS UPDATE's prerequisites and deletions of class ANY or NONE carry no RDATA (only
        // there: in any other message an A record without its address stays malformed).
        bool updateWithoutData = _isUpdate && dataLength == 0 && @class is DnsClass.Any or DnsClass.None;
        error = updateWithoutData ? WireError.None : DnsRecordView.CheckData(_message, type, dataOffset, dataLength);
        if (error != WireError.None) return Fail(error);
        record = new DnsRecordView(_message, _position, type, @class,
            BinaryPrimitives.ReadUInt32BigEndian(fixedPart[Field.TimeToLive..]), dataOffset, dataLength);
        _position = dataOffset + dataLength;
        return true;
    }

    private bool Fail(WireError error)
    {
        Error = error;
        _questionsLeft = _answersLeft = _authorityLeft = _additionalLeft = 0;
        return false;
    }
}
