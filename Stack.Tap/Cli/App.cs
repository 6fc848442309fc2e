using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Reflection;
using TcpIpSharp.Capture;
using TcpIpSharp.Tap.Commands;

namespace TcpIpSharp.Tap.Cli;

/// <summary>
/// The command line, on System.CommandLine: the commands' definitions, parsing, help, and one way of reporting
/// mistakes (one line, exit status 2, the nearest command or option suggested).
/// </summary>
/// <remarks>
/// Adding a command (docs/cli.md, "Adding a command"): a file <c>Commands/NameCommand.cs</c> with
/// <c>public static Command Create()</c> that builds the <see cref="Command"/> (its arguments with
/// <see cref="Opt.Argument"/>, its options with <see cref="Opt.Value"/> and <see cref="Opt.Switch"/>,
/// <see cref="LinkOptions.AddTo"/> when it opens a link) and sets its action with <see cref="Action"/>; then one line in
/// <see cref="Commands"/>. Help, completion and the docs/cli.md reference follow from the definition.
/// </remarks>
internal static class App
{
    /// <summary>The commands, in the order help lists them: each one's name and the method that defines it.</summary>
    private static readonly (string Name, Func<Command> Create)[] Commands =
    [
        ("up", UpCommand.Create),
        ("ping", PingCommand.Create),
        ("get", GetCommand.Create),
        ("send", SendCommand.Create),
        ("resolve", ResolveCommand.Create),
        ("browse", BrowseCommand.Create),
        ("ntp", NtpCommand.Create),
        ("replay", ReplayCommand.Create),
        ("decode", DecodeCommand.Create),
        ("demo", DemoCommand.Create),
        ("gateway", GatewayCommand.Create),
        ("completion", CompletionCommand.Create),
        ("cli-reference", CliReferenceCommand.Create),
    ];

    /// <summary>The program's definition: the root command and every command under it.</summary>
    /// <param name="only">
    /// Define only this command in full, the others by name (start-up: a command line that names its command is parsed
    /// against that command alone, and the others' options are never built); null for all (help, completion, docs).
    /// </param>
    public static RootCommand Build(string? only = null)
    {
        var root = new RootCommand("A userspace TCP/IP stack in C#: it runs on a Linux TAP as a host of its own, and reads captures as the stack sees them.");
        foreach (var (name, create) in Commands)
        {
            var command = only is null || name == only ? create() : new Command(name);
            if (command.Name != name) throw new InvalidOperationException($"App.Commands registers {name} for the command {command.Name}");
            root.Subcommands.Add(command);
        }
        var help = new Command("help", "show the help of the program or of a COMMAND") { Hidden = true };
        var about = new Argument<string>("COMMAND") { Arity = ArgumentArity.ZeroOrOne };
        help.Arguments.Add(about);
        help.SetAction(r =>
        {
            var name = r.GetValue(about);
            var target = name is null ? null : root.Subcommands.FirstOrDefault(c => c.Name == name);
            if (name is not null && target is null) throw new UsageException($"unknown command '{name}'");
            r.InvocationConfiguration.Output.Write(target is null ? HelpText.Root(root) : HelpText.Command(target));
            return ExitCodes.Success;
        });
        root.Subcommands.Add(help);
        // -h and --help only (not System.CommandLine's -?, /h and /?, which completion would offer), printed by HelpText.
        foreach (var option in root.Options.Where(o => o is HelpOption).ToList()) root.Options.Remove(option);
        root.Options.Add(new HelpOption("--help", "-h") { Action = new ShowHelp() });
        foreach (var option in root.Options)
            if (option is VersionOption v) v.Action = new ShowVersion();
        // No command: the short help on standard error, as a usage mistake.
        root.SetAction(r =>
        {
            r.InvocationConfiguration.Error.Write(HelpText.Root(root));
            return ExitCodes.Usage;
        });
        return root;
    }

    /// <summary>An action that runs a command's code on its parsed arguments.</summary>
    public static Func<ParseResult, int> Action(Func<CommandLine, int> run) => result => run(new CommandLine(result));

    /// <summary>Parses and runs one command line; returns the exit status.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        // --version alone, the start-up check of scripts and packagers, is answered before System.CommandLine is loaded
        // (its parser is JIT-compiled at every start: docs/cli.md, "Start-up time").
        if (args is ["--version"])
        {
            output.WriteLine("tcpipsharp " + Version);
            return ExitCodes.Success;
        }
        // A command named first (or --version) needs only its own definition; anything else (--help, completion, a
        // mistake to suggest for) gets them all.
        string? only = args is [var first, ..] && (first == "--version" || Array.Exists(Commands, c => c.Name == first)) ? first : null;
        var root = Build(only);
        // No response files: an argument that starts with '@' is an argument.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        string name = parse.CommandResult.Command == root ? "tcpipsharp" : "tcpipsharp " + parse.CommandResult.Command.Name;
        if (parse.Action is ParseErrorAction)
        {
            error.WriteLine($"{name}: {Mistake(parse)}; see {name} --help");
            return ExitCodes.Usage;
        }
        try
        {
            // The commands handle SIGINT and SIGTERM themselves (up prints its statistics, DHCP releases its lease).
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (UsageException e)
        {
            error.WriteLine($"{name}: {e.Message}; see {name} --help");
            return ExitCodes.Usage;
        }
        catch (CaptureFormatException e)
        {
            error.WriteLine($"{name}: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is EnvironmentException or IOException or UnauthorizedAccessException or PlatformNotSupportedException or DllNotFoundException)
        {
            // A link that cannot be opened (no such TAP, no permission, no libpcap), a file that cannot be written.
            error.WriteLine($"{name}: {e.Message}");
            return ExitCodes.Environment;
        }
    }

    /// <summary>The program's version, as <c>--version</c> prints it.</summary>
    public static string Version =>
        (typeof(App).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    // The first mistake, in the program's words: an unknown command or option with the nearest one, a missing value.
    private static string Mistake(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (parse.UnmatchedTokens.Count > 0)
        {
            string token = parse.UnmatchedTokens[0];
            bool option = token.StartsWith('-');
            bool atRoot = command is RootCommand;
            IEnumerable<string> candidates = option
                ? command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Append(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal) || n.Length == 2)
                : atRoot ? command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name) : [];
            string what = option ? "unknown option" : atRoot ? "unknown command" : "unexpected argument";
            return Nearest(token, candidates) is string near ? $"{what} '{token}' (did you mean '{near}'?)" : $"{what} '{token}'";
        }
        var first = parse.Errors[0];
        if (first.SymbolResult is OptionResult { Tokens.Count: 0 } missing) return $"{missing.IdentifierToken?.Value ?? missing.Option.Name} needs a value";
        if (first.SymbolResult is CommandResult or ArgumentResult)
        {
            var absent = command.Arguments.FirstOrDefault(a => parse.GetResult(a) is not ArgumentResult { Tokens.Count: > 0 });
            if (absent is not null) return $"{absent.Name} is missing";
        }
        return first.Message.TrimEnd('.');
    }

    /// <summary>The candidate nearest to what was typed (edits, a swap of neighbours counting one: at most a third of its length, at least 1, at most 3), or null.</summary>
    internal static string? Nearest(string typed, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates.Distinct())
        {
            int d = Distance(typed, c);
            if (c.StartsWith(typed, StringComparison.Ordinal) && typed.TrimStart('-').Length >= 2) d = Math.Min(d, 1);
            if (d < bestDistance) (best, bestDistance) = (c, d);
        }
        return best is not null && bestDistance <= Math.Min(3, Math.Max(1, typed.Length / 3)) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        // Optimal string alignment: insertions, deletions, substitutions and swaps of neighbours ("gte" is one from "get").
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    private sealed class ShowHelp : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            // From the whole definition (the parse may have had only this command's).
            var root = Build();
            var command = parseResult.CommandResult.Command;
            parseResult.InvocationConfiguration.Output.Write(command is RootCommand ? HelpText.Root(root) : HelpText.Command(root.Subcommands.First(c => c.Name == command.Name)));
            return ExitCodes.Success;
        }
    }

    private sealed class ShowVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine("tcpipsharp " + Version);
            return ExitCodes.Success;
        }
    }
}
