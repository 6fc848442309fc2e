namespace TcpIpSharp.Tests.Tcp.Scripts;

/// <summary>
/// When a script line happens: absolute (<c>0.1</c>) or relative to the previous line's actual time (<c>+0.1</c>),
/// optionally a range (<c>0.1~0.3</c>, <c>+1~+1.2</c>) within which an outbound packet may appear.
/// </summary>
internal readonly record struct ScriptTime(bool Relative, TimeSpan Start, TimeSpan End)
{
    public bool IsRange => End != Start;

    public (TimeSpan From, TimeSpan To) Resolve(TimeSpan previous)
        => Relative ? (previous + Start, previous + End) : (Start, End);

    public override string ToString()
    {
        string sign = Relative ? "+" : "";
        string one(TimeSpan t) => sign + t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        return IsRange ? one(Start) + "~" + one(End) : one(Start);
    }
}
