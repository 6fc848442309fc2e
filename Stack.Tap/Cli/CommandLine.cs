using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Cli;

/// <summary>
/// A command's parsed arguments as its code reads them: positional values and options by name. System.CommandLine
/// (<see cref="App"/>) has already checked the shape (known options, values present, argument counts); the values are
/// kept as text and checked here by the commands, so that every bad value has the one message it has always had.
/// </summary>
internal sealed class CommandLine
{
    private readonly ParseResult _result;
    private readonly Dictionary<string, Option> _options = new(StringComparer.Ordinal);

    public CommandLine(ParseResult result)
    {
        _result = result;
        for (var command = result.CommandResult; command is not null; command = command.Parent as CommandResult)
            foreach (var option in command.Command.Options)
            {
                _options.TryAdd(option.Name, option);
                foreach (var alias in option.Aliases) _options.TryAdd(alias, option);
            }
        foreach (var argument in result.CommandResult.Command.Arguments)
            if (result.GetResult(argument) is ArgumentResult a)
                foreach (var token in a.Tokens) Positional.Add(token.Value);
    }

    /// <summary>The positional arguments in order.</summary>
    public List<string> Positional { get; } = [];

    /// <summary>The command's name, as the user typed it.</summary>
    public string CommandName => _result.CommandResult.Command.Name;

    /// <summary>Where the command writes its results (standard output, or a test's writer).</summary>
    public TextWriter Output => _result.InvocationConfiguration.Output;

    /// <summary>Where the command writes its diagnostics and progress (standard error, or a test's writer).</summary>
    public TextWriter Error => _result.InvocationConfiguration.Error;

    public bool Has(string name) => Result(name) is { Implicit: false };

    /// <summary>True when the command defines <paramref name="name"/> and it was given (for options only some commands take, such as up's --autoip).</summary>
    public bool HasIfDefined(string name) => _options.ContainsKey(name) && Has(name);

    public string? Get(string name) => Result(name) is { Implicit: false, Tokens: { Count: > 0 } tokens } ? tokens[^1].Value : null;

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
        // Finite only: NaN slips through every range check, and infinities through some.
        return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) && double.IsFinite(n) ? n : throw new UsageException($"{name}: '{v}' is not a number");
    }

    private OptionResult? Result(string name)
        => _options.TryGetValue(name, out var option) ? _result.GetResult(option) : throw new InvalidOperationException($"{name} is not an option of {CommandName}");

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

/// <summary>A command-line mistake: printed on one line with a pointer to the command's help, exit status 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>Something the machine lacks (root, a tool, a device): printed on one line, exit status 3.</summary>
internal sealed class EnvironmentException(string message) : Exception(message);
