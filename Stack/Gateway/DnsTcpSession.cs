using System.Buffers.Binary;
using TcpIpSharp.Transport.Tcp;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Gateway;

/// <summary>
/// One DNS-over-TCP connection to the gateway's address (RFC 7766), all on the stack's thread: it reads queries, each
/// behind its two-byte length (8), keeps up to <see cref="MaximumOutstanding"/> of them in flight at once (pipelining,
/// 6.2.1.1: the answers go back as they come, matched by ID), writes each answer behind its length, and closes after the
/// guest's FIN once every answer is written, or when idle (6.2.3), or aborts on a query it cannot take (longer than
/// <see cref="GatewayDns.MaximumQuery"/>, shorter than a header).
/// </summary>
internal sealed class DnsTcpSession : PumpedFlow
{
    /// <summary>Queries of one connection answered at once; beyond it the session stops reading (the window closes).</summary>
    public const int MaximumOutstanding = 4;

    private readonly GatewayDns _dns;
    private readonly TcpConnection _connection;
    private readonly byte[] _length = new byte[2];
    private readonly Queue<DnsQuery> _answers = new(MaximumOutstanding);
    private DnsQuery? _reading;          // the query being read (its slot taken once all of it has arrived)
    private int _lengthRead, _messageLength, _messageRead;
    private int _answerWritten;          // bytes of the head answer (with its length) in the send ring
    private int _outstanding;            // queries taken and not yet answered back
    private bool _guestEnd, _done;
    private TimeSpan _lastActive;

    public DnsTcpSession(GatewayDns dns, TcpConnection connection, TimeSpan now)
    {
        _dns = dns;
        _connection = connection;
        _lastActive = now;
    }

    public override void Pump(TimeSpan now)
    {
        if (_done) return;
        var connection = _connection;
        if (connection.State == TcpState.Closed) { End(); return; }
        WriteAnswers(now);
        while (!_guestEnd && _outstanding < MaximumOutstanding)
        {
            if (_lengthRead < 2)
            {
                int n = connection.Receive(_length.AsSpan(_lengthRead));
                if (n == 0) { _guestEnd = true; break; }
                if (n < 0) break;
                _lengthRead += n;
                if (_lengthRead < 2) break;
                _messageLength = BinaryPrimitives.ReadUInt16BigEndian(_length);
                if (_messageLength < DnsHeader.Size || _messageLength > GatewayDns.MaximumQuery) { Abort(); return; }
            }
            if (_reading is null)
            {
                // A slot (its buffers) is taken only once the whole query is here: a guest that sends lengths alone, or
                // a query a byte at a time, holds none while it dawdles (a review found 32 such connections holding 32 of
                // the 64 slots, idle period after idle period, and every other guest's DNS waiting).
                if (connection.Available < _messageLength)
                {
                    if (connection.IsEndOfStream) _guestEnd = true;   // (not reached with bytes left: they are Available)
                    break;
                }
                if ((_reading = _dns.TryTake()) is null) { _dns.WaitForSlot(this); break; }
            }
            int m = connection.Receive(_reading.Query.AsSpan(_messageRead, _messageLength - _messageRead));
            if (m == 0) { _guestEnd = true; break; }
            if (m < 0) break;
            _messageRead += m;
            if (_messageRead < _messageLength) break;
            var query = _reading;
            _reading = null;
            query.QueryLength = _messageLength;
            query.OverTcp = true;
            query.Session = this;
            _lengthRead = _messageRead = 0;
            _outstanding++;
            _lastActive = now;
            _dns.Submit(query);
        }
        // RFC 7766 6.2.3: the client closed; the server closes once its answers are out.
        if (_guestEnd && _outstanding == 0) { connection.Close(); End(); }
    }

    /// <summary>An answer for this session is back; false when the session has ended (or there is no answer: the caller frees the slot).</summary>
    public bool TakeAnswer(DnsQuery query, TimeSpan now)
    {
        if (_done) return false;
        if (query.ResponseLength == 0) { _outstanding--; Pump(now); return false; }
        _answers.Enqueue(query);
        _lastActive = now;   // the guest has the idle timeout to start reading it
        Pump(now);
        return true;
    }

    private void WriteAnswers(TimeSpan now)
    {
        while (_answers.TryPeek(out var answer))
        {
            int total = 2 + answer.ResponseLength;
            int n = _connection.Send(answer.Response.AsSpan(_answerWritten, total - _answerWritten));
            if (n > 0) _lastActive = now;   // a guest reading slowly is not idle
            _answerWritten += n;
            if (_answerWritten < total) return;   // the send ring is full: the rest when the guest has read
            _answers.Dequeue();
            _answerWritten = 0;
            _outstanding--;
            _lastActive = now;
            _dns.Release(answer);
        }
    }

    /// <summary>
    /// Closes the connection when nothing passed for <paramref name="idle"/> and no query is still being answered; resets
    /// it when answers wait that the guest has not read for that long (they hold slots every other query needs).
    /// </summary>
    public void CloseIfIdle(TimeSpan now, TimeSpan idle)
    {
        if (_done || _outstanding > _answers.Count || now - _lastActive < idle) return;
        if (_answers.Count > 0) { Abort(); return; }
        _connection.Close();
        End();
    }

    public void Abort()
    {
        if (_done) return;
        _connection.Abort();
        End();
    }

    private void End()
    {
        if (_done) return;
        _done = true;
        _connection.Ready = null;
        if (_reading is { } reading) { _reading = null; _dns.Release(reading); }
        while (_answers.TryDequeue(out var answer)) _dns.Release(answer);
        _dns.OnSessionEnded(this);
    }
}
