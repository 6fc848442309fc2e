using System.Globalization;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Services.Sntp;

/// <summary>
/// One SNTP exchange (RFC 4330): in flight until <see cref="IsCompleted"/>, then the server's answer (offset, delay,
/// stratum, its time) or why there is none. Offset and delay are RFC 5905 8's: θ = ((T2−T1)+(T3−T4))/2 and
/// δ = (T4−T1)−(T3−T2), T1 and T4 the stack's wall clock at sending and receiving, T2 and T3 the server's.
/// </summary>
public sealed class SntpQuery
{
    internal SntpQuery(IpAddress server) => Server = server;

    /// <summary>The server asked (unspecified when there was none).</summary>
    public IpAddress Server { get; }
    /// <summary>True once answered or failed; <see cref="Completed"/> has then been raised (unless it completed at once).</summary>
    public bool IsCompleted { get; private set; }
    /// <summary>How it ended (<see cref="SntpError.Pending"/> until then).</summary>
    public SntpError Error { get; private set; } = SntpError.Pending;
    /// <summary>The kiss code of a Kiss-o'-Death ("DENY", "RSTR", "RATE"...), or null.</summary>
    public string? KissCode { get; private set; }
    /// <summary>How far the stack's wall clock is behind the server's (θ; positive: the server is ahead).</summary>
    public TimeSpan Offset { get; private set; }
    /// <summary>The round-trip delay (δ), without the server's own processing time.</summary>
    public TimeSpan Delay { get; private set; }
    /// <summary>The server's stratum (1 primary, 2-15 secondary).</summary>
    public int Stratum { get; private set; }
    /// <summary>The server's leap indicator.</summary>
    public NtpLeap Leap { get; private set; }
    /// <summary>The server's reference ID (for stratum 1 four ASCII letters naming its source, otherwise an address).</summary>
    public uint ReferenceId { get; private set; }
    /// <summary>The server's transmit timestamp (T3), era chosen nearest the stack's clock (2036-safe).</summary>
    public DateTime ServerTransmitTime { get; private set; }
    /// <summary>The server's time when the answer arrived: the stack's wall clock then plus <see cref="Offset"/> (what <c>ntptime.time()</c> gives).</summary>
    public DateTime Time { get; private set; }
    /// <summary>The stack's clock time the answer arrived.</summary>
    public TimeSpan AnsweredAt { get; private set; }
    /// <summary>Requests sent for this query.</summary>
    public int Attempts { get; internal set; }

    /// <summary>Raised on the stack thread when the query completes.</summary>
    public event Action<SntpQuery>? Completed;

    // The request in flight: its transmit timestamp as sent (the nonce the reply must echo) and the exact T1.
    internal NtpTimestamp Sent;
    internal DateTime SentWallClock;
    internal TimeSpan OffsetAtSend;   // the stack's wall-clock offset when the request left: the offset measured is relative to it
    internal TimeSpan Deadline;
    internal bool AwaitedArp, Resent;
    internal TimeSpan Timeout { get; init; }

    internal void Answer(TimeSpan offset, TimeSpan delay, int stratum, NtpLeap leap, uint referenceId, DateTime transmit, DateTime time, TimeSpan at)
    {
        Offset = offset; Delay = delay; Stratum = stratum; Leap = leap; ReferenceId = referenceId;
        ServerTransmitTime = transmit; Time = time; AnsweredAt = at;
        Finish(SntpError.None);
    }

    internal void Fail(SntpError error, uint kissCode = 0)
    {
        if (kissCode != 0) KissCode = KissCodeText(kissCode);
        Finish(error);
    }

    private void Finish(SntpError error)
    {
        if (IsCompleted) return;
        Error = error;
        IsCompleted = true;
    }

    internal void RaiseCompleted() => Completed?.Invoke(this);

    /// <summary>A kiss code or stratum-1 reference ID as four characters (non-printable bytes as '?').</summary>
    public static string KissCodeText(uint code) => string.Create(4, code, static (span, c) =>
    {
        for (int i = 0; i < 4; i++)
        {
            byte b = (byte)(c >> (24 - 8 * i));
            span[i] = b is >= 0x20 and < 0x7F ? (char)b : '?';
        }
    });

    /// <summary>
    /// The offset in seconds as ntpdate prints it, signed, six decimals. Rounded first: a negative offset under half a
    /// microsecond printed as "-+0.000000" (.NET formats a negative value that rounds to zero with the first section and
    /// a minus sign), which no ntpdate reader parses; it is "+0.000000".
    /// </summary>
    internal string OffsetText => (Math.Round(Offset.TotalSeconds, 6) + 0.0).ToString("+0.000000;-0.000000", CultureInfo.InvariantCulture);

    /// <summary>As <c>ntpdate -q</c> prints a server: offset and delay in seconds, stratum.</summary>
    public override string ToString() => Error == SntpError.None
        ? string.Create(CultureInfo.InvariantCulture, $"server {Server}, stratum {Stratum}, offset {OffsetText}, delay {Delay.TotalSeconds:0.000000}")
        : $"server {Server}: {Error}{(KissCode is null ? "" : $" ({KissCode})")}";
}
