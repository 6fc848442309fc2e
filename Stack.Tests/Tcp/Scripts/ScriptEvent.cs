using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp.Scripts;

/// <summary>One line of a script: its number, text, time and what happens.</summary>
internal abstract record ScriptEvent(int Line, string Text, ScriptTime Time)
{
    /// <summary>
    /// <c>&lt; S 0:0(0) win 65535 &lt;mss 1460&gt;</c> (inbound, injected) or <c>&gt; S. 0:0(0) ack 1 &lt;...&gt;</c> (outbound, expected).
    /// <see cref="Options"/> null: not checked (outbound) / none (inbound). <see cref="Ecn"/> (packetdrill's <c>[ect0]</c>,
    /// <c>[ce]</c>...): the IP ECN field; null: not checked (outbound) / Not-ECT (inbound). <see cref="Fragments"/>
    /// (an extension, inbound only: <c>[ect0,ce]</c>): the segment goes as that many IP fragments with these ECN fields.
    /// </summary>
    public sealed record Packet(int Line, string Text, ScriptTime Time, bool Inbound, ushort? RemotePort, TcpFlags Flags,
        uint Start, uint End, int Length, uint? Ack, ushort? Window, IReadOnlyList<ScriptOption>? Options, IpEcn? Ecn = null,
        IReadOnlyList<IpEcn>? Fragments = null) : ScriptEvent(Line, Text, Time);

    /// <summary><c>&lt; icmp unreachable frag_needed mtu 1200 [1:1461(1460)]</c>: an ICMP error quoting a segment the stack sent.</summary>
    public sealed record Icmp(int Line, string Text, ScriptTime Time, ushort? RemotePort, IcmpType Type, byte Code, ushort Mtu,
        uint QuotedStart, int QuotedLength) : ScriptEvent(Line, Text, Time);

    /// <summary><c>write(1000) = 1000</c>: a call on the connection; <see cref="Expected"/> is the value after <c>=</c>, if any.</summary>
    public sealed record Call(int Line, string Text, ScriptTime Time, string Name, IReadOnlyList<string> Arguments, long? Expected,
        string? ExpectedError) : ScriptEvent(Line, Text, Time);

    /// <summary><c>%{ state == ESTABLISHED and cwnd == 14600 }%</c> or <c>state ESTABLISHED</c>.</summary>
    public sealed record Assert(int Line, string Text, ScriptTime Time, IReadOnlyList<(string Name, string Operator, string Value)> Conditions)
        : ScriptEvent(Line, Text, Time);
}
