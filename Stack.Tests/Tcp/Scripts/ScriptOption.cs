namespace TcpIpSharp.Tests.Tcp.Scripts;

/// <summary>One item of a packet line's option list (<c>&lt;mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7&gt;</c>).</summary>
internal abstract record ScriptOption
{
    /// <summary><c>mss N</c>.</summary>
    public sealed record Mss(ushort Value) : ScriptOption
    {
        public override string ToString() => $"mss {Value}";
    }

    /// <summary><c>wscale N</c>.</summary>
    public sealed record WindowScale(byte Shift) : ScriptOption
    {
        public override string ToString() => $"wscale {Shift}";
    }

    /// <summary><c>sackOK</c>.</summary>
    public sealed record SackPermitted : ScriptOption
    {
        public override string ToString() => "sackOK";
    }

    /// <summary><c>nop</c>: laid out in inbound packets, ignored when checking outbound ones.</summary>
    public sealed record Nop : ScriptOption
    {
        public override string ToString() => "nop";
    }

    /// <summary><c>eol</c>: laid out in inbound packets, ignored when checking outbound ones.</summary>
    public sealed record Eol : ScriptOption
    {
        public override string ToString() => "eol";
    }

    /// <summary><c>TS val X ecr Y</c>; null stands for <c>*</c> (any).</summary>
    public sealed record Timestamp(uint? Value, uint? EchoReply) : ScriptOption
    {
        public override string ToString() => $"TS val {(Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "*")} ecr {(EchoReply?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "*")}";
    }

    /// <summary><c>sack L:R L:R ...</c>, relative to the ISN of the side whose data is acknowledged.</summary>
    public sealed record Sack(IReadOnlyList<(uint Left, uint Right)> Blocks) : ScriptOption
    {
        public override string ToString() => "sack " + string.Join(' ', Blocks.Select(b => $"{b.Left}:{b.Right}"));
    }
}
