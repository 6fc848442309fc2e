using System.Globalization;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Cli;

/// <summary>A small parser: positional arguments, "--name value" options and "--flag" switches.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    public List<string> Positional { get; } = [];

    public CommandLine(IEnumerable<string> args, params string[] switches)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var a = e.Current;
            if (a.StartsWith('-') && a.Length > 1 && !char.IsAsciiDigit(a[1]))
            {
                if (switches.Contains(a)) { _options[a] = null; continue; }
                if (!e.MoveNext()) throw new UsageException($"{a} needs a value");
                _options[a] = e.Current;
            }
            else Positional.Add(a);
        }
    }

    public bool Has(string name) => _options.ContainsKey(name);
    public string? Get(string name) => _options.GetValueOrDefault(name);
    public string Require(string name) => Get(name) ?? throw new UsageException($"{name} is required");

    public int GetInt(string name, int fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : throw new UsageException($"{name}: '{v}' is not a number");
    }

    public double GetDouble(string name, double fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) ? n : throw new UsageException($"{name}: '{v}' is not a number");
    }

    public static Ipv4Address ParseAddress(string text, string what)
        => Ipv4Address.TryParse(text, out var a) ? a : throw new UsageException($"{what}: '{text}' is not an IPv4 address");

    /// <summary>Parses an IPv4 or IPv6 address (an IPv6 <c>%zone</c> is accepted and ignored: the stack has one interface).</summary>
    public static IpAddress ParseIpAddress(string text, string what)
    {
        var t = text.AsSpan();
        if (t.Contains(':') && t.IndexOf('%') is int zone and > 0) t = t[..zone];
        return IpAddress.TryParse(t, out var a) ? a : throw new UsageException($"{what}: '{text}' is not an IPv4 or IPv6 address");
    }

    /// <summary>Parses "A.B.C.D/LEN".</summary>
    public static (Ipv4Address Address, int Prefix) ParseCidr(string text)
    {
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0) throw new UsageException($"--ip: '{text}' needs a prefix length, as in 192.0.2.2/24");
        var address = ParseAddress(text[..slash], "--ip");
        if (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int prefix) || prefix > 32)
            throw new UsageException($"--ip: '{text}' has a bad prefix length");
        return (address, prefix);
    }
}

/// <summary>A command-line mistake: printed with the usage, exit status 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
