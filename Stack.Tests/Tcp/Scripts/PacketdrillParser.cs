using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Tcp.Scripts;

/// <summary>Parses the subset of packetdrill's syntax described in README.md. Errors name the line.</summary>
internal static partial class PacketdrillParser
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    [GeneratedRegex(@"^(\+?)(\d*\.?\d+)(?:~(\+?)(\d*\.?\d+))?$")]
    private static partial Regex TimePattern();

    [GeneratedRegex(@"^(\d+):(\d+)\((\d+)\)$")]
    private static partial Regex RangePattern();

    [GeneratedRegex(@"^([a-z_]+)\((.*)\)\s*(?:=\s*(-?\d+)\s*([A-Z]+)?)?\s*$")]
    private static partial Regex CallPattern();

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z_0-9.]*)\s*(==|!=|<=|>=|<|>)\s*(\S+)$")]
    private static partial Regex ConditionPattern();

    public static PacketdrillScript Parse(string name, string text)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        var events = new List<ScriptEvent>();
        string[] lines = StripComments(text).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0) continue;
            try
            {
                if (line.StartsWith("--", StringComparison.Ordinal))
                {
                    int eq = line.IndexOf('=', StringComparison.Ordinal);
                    if (eq < 0) throw new ScriptFailure("a setting is --name=value");
                    settings[line[2..eq].Trim()] = line[(eq + 1)..].Trim();
                    continue;
                }
                events.Add(ParseEvent(i + 1, line));
            }
            catch (Exception e) when (e is FormatException or OverflowException or ScriptFailure)
            {
                throw new ScriptFailure($"{name}:{i + 1}: cannot parse `{line}`: {e.Message}", e);
            }
        }
        return new PacketdrillScript(name, settings, events);
    }

    // Blanks // and /* */ comments, keeping the line breaks so that line numbers stay right.
    private static string StripComments(string text)
    {
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n') i++;
                if (i < text.Length) sb.Append('\n');
            }
            else if (text[i] == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                i += 2;
                while (i < text.Length && !(text[i] == '*' && i + 1 < text.Length && text[i + 1] == '/'))
                {
                    if (text[i] == '\n') sb.Append('\n');
                    i++;
                }
                i++;
            }
            else if (text[i] != '\r') sb.Append(text[i]);
        }
        return sb.ToString();
    }

    private static ScriptEvent ParseEvent(int number, string line)
    {
        int space = line.IndexOfAny([' ', '\t']);
        if (space < 0) throw new ScriptFailure("a line is a time followed by an event");
        var time = ParseTime(line[..space]);
        string rest = line[space..].Trim();
        if (rest.StartsWith('<') || rest.StartsWith('>')) return ParsePacket(number, line, time, rest);
        if (rest.StartsWith("%{", StringComparison.Ordinal))
        {
            if (!rest.EndsWith("}%", StringComparison.Ordinal)) throw new ScriptFailure("an assertion ends with }%");
            return ParseAssertion(number, line, time, rest[2..^2]);
        }
        if (rest.StartsWith("state ", StringComparison.Ordinal) || rest.StartsWith("error ", StringComparison.Ordinal))
        {
            string[] words = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != 2) throw new ScriptFailure("`state NAME` or `error NAME`");
            return new ScriptEvent.Assert(number, line, time, [(words[0], "==", words[1])]);
        }
        var call = CallPattern().Match(rest);
        if (!call.Success) throw new ScriptFailure("not a packet, a call, or an assertion");
        var args = call.Groups[2].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        long? expected = call.Groups[3].Success ? long.Parse(call.Groups[3].Value, Invariant) : null;
        string? error = call.Groups[4].Success ? call.Groups[4].Value : null;
        return new ScriptEvent.Call(number, line, time, call.Groups[1].Value, args, expected, error);
    }

    private static ScriptTime ParseTime(string token)
    {
        var m = TimePattern().Match(token);
        if (!m.Success) throw new ScriptFailure($"`{token}` is not a time (0.1, +0.1, 0.1~0.2 or +0.1~+0.2)");
        bool relative = m.Groups[1].Value == "+";
        var start = TimeSpan.FromSeconds(double.Parse(m.Groups[2].Value, Invariant));
        var end = start;
        if (m.Groups[4].Success)
        {
            if ((m.Groups[3].Value == "+") != relative) throw new ScriptFailure("both ends of a time range are relative or both absolute");
            end = TimeSpan.FromSeconds(double.Parse(m.Groups[4].Value, Invariant));
            if (end < start) throw new ScriptFailure("a time range ends after it starts");
        }
        return new ScriptTime(relative, start, end);
    }

    private static ScriptEvent.Assert ParseAssertion(int number, string line, ScriptTime time, string body)
    {
        body = body.Trim();
        if (body.StartsWith("assert ", StringComparison.Ordinal)) body = body[7..];
        var conditions = new List<(string, string, string)>();
        foreach (string part in body.Replace("&&", " and ", StringComparison.Ordinal).Split(" and ", StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var m = ConditionPattern().Match(part);
            if (!m.Success) throw new ScriptFailure($"`{part}` is not `name op value`");
            conditions.Add((m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value));
        }
        if (conditions.Count == 0) throw new ScriptFailure("an empty assertion");
        return new ScriptEvent.Assert(number, line, time, conditions);
    }

    private static ScriptEvent ParsePacket(int number, string line, ScriptTime time, string rest)
    {
        bool inbound = rest[0] == '<';
        int p = 1;
        ushort? port = null;
        if (p < rest.Length && rest[p] == ':')
        {
            int q = p + 1;
            while (q < rest.Length && char.IsAsciiDigit(rest[q])) q++;
            port = ushort.Parse(rest[(p + 1)..q], Invariant);
            p = q;
        }
        string body = rest[p..].Trim();

        // packetdrill's IP ECN field: [noecn], [ect0], [ect1], [ce] before the flags; a list ([ect0,ce], an extension,
        // inbound only) sends the segment as IP fragments, one codepoint each.
        IpEcn? ecn = null;
        List<IpEcn>? fragments = null;
        if (body.StartsWith('['))
        {
            int close = body.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) throw new ScriptFailure("an ECN marker is [noecn], [ect0], [ect1] or [ce]");
            var marks = body[1..close].Split(',', StringSplitOptions.TrimEntries).Select(m => m switch
            {
                "noecn" => IpEcn.NotEct, "ect0" => IpEcn.Ect0, "ect1" => IpEcn.Ect1, "ce" => IpEcn.Ce,
                var other => throw new ScriptFailure($"unknown ECN marker [{other}] ([noecn], [ect0], [ect1], [ce])"),
            }).ToList();
            ecn = marks[0];
            if (marks.Count > 1)
            {
                if (!inbound) throw new ScriptFailure("fragments ([a,b]) only on inbound lines");
                fragments = marks;
            }
            body = body[(close + 1)..].Trim();
        }

        // The option list is the last <...> on the line.
        IReadOnlyList<ScriptOption>? options = null;
        int open = body.IndexOf('<', StringComparison.Ordinal);
        if (open >= 0)
        {
            if (!body.EndsWith('>')) throw new ScriptFailure("an option list ends the line with >");
            string list = body[(open + 1)..^1].Trim();
            options = list == "..." ? null : ParseOptions(list);
            if (list == "..." && inbound) throw new ScriptFailure("<...> only on outbound lines");
            body = body[..open].Trim();
        }
        string[] words = body.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) throw new ScriptFailure("flags expected");

        if (words[0] == "icmp") return ParseIcmp(number, line, time, inbound, port, words);

        var flags = TcpFlags.None;
        foreach (char c in words[0])
        {
            flags |= c switch
            {
                'S' => TcpFlags.Syn, 'F' => TcpFlags.Fin, 'R' => TcpFlags.Rst, 'P' => TcpFlags.Psh, '.' => TcpFlags.Ack,
                'U' => TcpFlags.Urg, 'E' => TcpFlags.Ece, 'W' => TcpFlags.Cwr,
                _ => throw new ScriptFailure($"unknown flag `{c}` (S F R P . U E W)"),
            };
        }
        if (words.Length < 2) throw new ScriptFailure("start:end(length) expected after the flags");
        var (start, end, length) = ParseRange(words[1]);
        uint? ack = null;
        ushort? window = null;
        for (int i = 2; i < words.Length; i++)
        {
            if (i + 1 >= words.Length) throw new ScriptFailure($"`{words[i]}` needs a value");
            switch (words[i])
            {
                case "ack": ack = uint.Parse(words[++i], Invariant); break;
                case "win": window = ushort.Parse(words[++i], Invariant); break;
                default: throw new ScriptFailure($"unknown packet field `{words[i]}` (ack, win)");
            }
        }
        if (inbound && flags.HasFlag(TcpFlags.Ack) && ack is null) throw new ScriptFailure("an inbound ACK (.) needs `ack N`");
        if (!flags.HasFlag(TcpFlags.Ack) && ack is not null) throw new ScriptFailure("`ack N` without the . flag");
        return new ScriptEvent.Packet(number, line, time, inbound, port, flags, start, end, length, ack, window, options, ecn, fragments);
    }

    private static (uint Start, uint End, int Length) ParseRange(string token)
    {
        var m = RangePattern().Match(token);
        if (!m.Success) throw new ScriptFailure($"`{token}` is not start:end(length)");
        uint start = uint.Parse(m.Groups[1].Value, Invariant), end = uint.Parse(m.Groups[2].Value, Invariant);
        int length = int.Parse(m.Groups[3].Value, Invariant);
        if (end - start != (uint)length) throw new ScriptFailure($"`{token}`: end - start is not the length");
        return (start, end, length);
    }

    private static ScriptEvent.Icmp ParseIcmp(int number, string line, ScriptTime time, bool inbound, ushort? port, string[] words)
    {
        if (!inbound) throw new ScriptFailure("only inbound ICMP lines are supported");
        // icmp unreachable frag_needed mtu 1200 [1:1461(1460)]
        if (words.Length < 4) throw new ScriptFailure("icmp TYPE CODE [mtu N] [start:end(len)]");
        var (type, code) = (words[1], words[2]) switch
        {
            ("unreachable", "net_unreachable") => (IcmpType.DestinationUnreachable, (byte)0),
            ("unreachable", "host_unreachable") => (IcmpType.DestinationUnreachable, (byte)1),
            ("unreachable", "protocol_unreachable") => (IcmpType.DestinationUnreachable, (byte)2),
            ("unreachable", "port_unreachable") => (IcmpType.DestinationUnreachable, (byte)3),
            ("unreachable", "frag_needed") => (IcmpType.DestinationUnreachable, (byte)4),
            ("time_exceeded", "ttl_exceeded") => (IcmpType.TimeExceeded, (byte)0),
            _ => throw new ScriptFailure($"unknown ICMP `{words[1]} {words[2]}`"),
        };
        int i = 3;
        ushort mtu = 0;
        if (words[i] == "mtu")
        {
            mtu = ushort.Parse(words[i + 1], Invariant);
            i += 2;
        }
        if (i >= words.Length || !words[i].StartsWith('[') || !words[i].EndsWith(']')) throw new ScriptFailure("the quoted segment is [start:end(len)]");
        var (start, _, length) = ParseRange(words[i][1..^1]);
        return new ScriptEvent.Icmp(number, line, time, port, type, code, mtu, start, length);
    }

    private static List<ScriptOption> ParseOptions(string list)
    {
        var options = new List<ScriptOption>();
        if (list.Length == 0) return options;
        foreach (string item in list.Split(',', StringSplitOptions.TrimEntries))
        {
            string[] w = item.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (w.Length == 0) throw new ScriptFailure("an empty option");
            options.Add(w[0] switch
            {
                "mss" when w.Length == 2 => new ScriptOption.Mss(ushort.Parse(w[1], Invariant)),
                "wscale" when w.Length == 2 => new ScriptOption.WindowScale(byte.Parse(w[1], Invariant)),
                "sackOK" when w.Length == 1 => new ScriptOption.SackPermitted(),
                "nop" when w.Length == 1 => new ScriptOption.Nop(),
                "eol" when w.Length == 1 => new ScriptOption.Eol(),
                "TS" when w.Length == 5 && w[1] == "val" && w[3] == "ecr" => new ScriptOption.Timestamp(Wild(w[2]), Wild(w[4])),
                "sack" when w.Length >= 2 => new ScriptOption.Sack(w[1..].Select(b =>
                {
                    string[] lr = b.Split(':');
                    if (lr.Length != 2) throw new ScriptFailure($"`{b}` is not a SACK block L:R");
                    return (uint.Parse(lr[0], Invariant), uint.Parse(lr[1], Invariant));
                }).ToList()),
                _ => throw new ScriptFailure($"unknown option `{item}` (mss N, wscale N, sackOK, nop, eol, TS val X ecr Y, sack L:R ...)"),
            });
        }
        return options;
    }

    private static uint? Wild(string token) => token == "*" ? null : uint.Parse(token, Invariant);
}
