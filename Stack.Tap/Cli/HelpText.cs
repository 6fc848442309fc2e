using System.CommandLine;
using System.CommandLine.Help;
using System.Text;

namespace TcpIpSharp.Tap.Cli;

/// <summary>
/// The help the program prints, rendered from the command definitions (System.CommandLine's symbols): the short
/// top-level list, each command's own page with the link options in a group of their own, and the reference block of
/// docs/cli.md. Fixed width (not the terminal's), so that the docs and a test see the same text.
/// </summary>
internal static class HelpText
{
    private const int Width = 100, MaxLabel = 30;

    /// <summary>The top-level help: one line per command and a pointer to per-command help.</summary>
    public static string Root(RootCommand root)
    {
        var b = new StringBuilder();
        b.AppendLine("usage: tcpipsharp COMMAND [ARGS]");
        b.AppendLine();
        b.AppendLine(Wrap(root.Description ?? "", 0));
        b.AppendLine();
        b.AppendLine("commands:");
        // A command that opens a link takes the link options too: [OPTIONS] however few options of its own it has.
        var commands = Visible(root).Select(c => (Label: ShortSynopsis(c, HasLink(c) ? 0 : 1), (string?)Summary(c))).ToList();
        Rows(b, commands);
        b.AppendLine();
        b.AppendLine("options:");
        Rows(b, [("-h, --help", "this text; tcpipsharp COMMAND --help for a command's arguments and options"), ("--version", "the program's version")]);
        b.AppendLine();
        var linked = Visible(root).Where(HasLink).Select(c => c.Name).ToList();
        b.AppendLine(Wrap($"{Join(linked)} open a link and take the same {LinkOptions.Title} ({LinkRequired}): see tcpipsharp {linked.FirstOrDefault() ?? "up"} --help.", 0));
        return b.ToString();
    }

    /// <summary>A command's own help: synopsis, description, arguments, options, and the link options as a group.</summary>
    public static string Command(Command command)
    {
        var b = new StringBuilder();
        b.Append("usage: ").AppendLine(Synopsis(command));
        if (!string.IsNullOrEmpty(command.Description))
        {
            b.AppendLine();
            b.AppendLine(Wrap(command.Description, 0));
        }
        var arguments = command.Arguments.Where(a => !a.Hidden).Select(a => (a.Name, a.Description)).ToList();
        if (arguments.Count > 0)
        {
            b.AppendLine();
            b.AppendLine("arguments:");
            Rows(b, arguments);
        }
        var own = command.Options.Where(o => !o.Hidden && !LinkOptions.IsLinkOption(o) && o is not HelpOption and not VersionOption).Select(o => (Label(o), o.Description)).ToList();
        own.Add(("-h, --help", "this text"));
        b.AppendLine();
        b.AppendLine("options:");
        Rows(b, own);
        var link = command.Options.Where(LinkOptions.IsLinkOption).Select(o => (Label(o), o.Description)).ToList();
        if (link.Count > 0)
        {
            b.AppendLine();
            b.AppendLine(Wrap($"{LinkOptions.Title} (the same for {Join(Siblings(command))}; {LinkRequired}):", 0));
            Rows(b, link);
        }
        return b.ToString();
    }

    /// <summary>The full synopsis: <c>tcpipsharp get URL [-o FILE] [--timeout SECONDS] LINK</c>.</summary>
    public static string Synopsis(Command command)
    {
        var parts = new List<string> { "tcpipsharp", ShortSynopsis(command, 3) };
        if (HasLink(command)) parts.Add(LinkOptions.Title.ToUpperInvariant().Replace(' ', '-'));
        return string.Join(' ', parts);
    }

    /// <summary>The name, the arguments, and the command's own options (listed when at most <paramref name="listed"/>, else [OPTIONS]).</summary>
    public static string ShortSynopsis(Command command, int listed)
    {
        var parts = new List<string> { command.Name };
        parts.AddRange(command.Arguments.Where(a => !a.Hidden).Select(a => a.Arity.MinimumNumberOfValues == 0 ? $"[{a.Name}]" : a.Name));
        var own = command.Options.Where(o => !o.Hidden && !LinkOptions.IsLinkOption(o) && o is not HelpOption and not VersionOption).ToList();
        if (own.Count > 0 && own.Count <= listed) parts.AddRange(own.Select(o => "[" + Label(o) + "]"));
        else if (own.Count > listed) parts.Add("[OPTIONS]");
        return string.Join(' ', parts);
    }

    /// <summary>The reference block of docs/cli.md: the top-level help and every command's help, as the program prints them.</summary>
    public static string Reference(RootCommand root)
    {
        var b = new StringBuilder();
        b.AppendLine("```text").AppendLine("$ tcpipsharp --help").Append(Root(root)).AppendLine("```");
        foreach (var command in Visible(root))
        {
            b.AppendLine();
            b.AppendLine($"### {command.Name}");
            b.AppendLine();
            b.AppendLine("```text").AppendLine($"$ tcpipsharp {command.Name} --help").Append(Command(command)).AppendLine("```");
        }
        return b.ToString();
    }

    private const string LinkRequired = "--tap or --pcap-if, and --ip or --dhcp, are required";

    /// <summary>A command's one-line summary: its description's first sentence.</summary>
    public static string Summary(Command command)
    {
        string text = command.Description ?? "";
        int end = text.IndexOf(". ", StringComparison.Ordinal);
        return (end < 0 ? text : text[..end]).TrimEnd('.');
    }

    private static IEnumerable<Command> Visible(Command root) => root.Subcommands.Where(c => !c.Hidden);

    private static bool HasLink(Command command) => command.Options.Any(LinkOptions.IsLinkOption);

    private static IEnumerable<string> Siblings(Command command)
        => command.Parents.OfType<Command>().FirstOrDefault() is { } parent ? Visible(parent).Where(HasLink).Select(c => c.Name) : [command.Name];

    private static string Join(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count <= 1 ? string.Concat(list) : string.Join(", ", list[..^1]) + " and " + list[^1];
    }

    private static string Label(Option option)
    {
        var names = option.Aliases.Where(a => a.StartsWith('-')).Append(option.Name).OrderBy(n => n.Length);
        string label = string.Join(", ", names);
        return option.Arity.MaximumNumberOfValues == 0 ? label : $"{label} {option.HelpName ?? "VALUE"}";
    }

    private static void Rows(StringBuilder b, IReadOnlyList<(string Label, string? Description)> rows)
    {
        int column = Math.Min(MaxLabel, rows.Max(r => r.Label.Length)) + 4;
        foreach (var (label, description) in rows)
        {
            string text = description ?? "";
            if (label.Length + 4 > column)
            {
                b.Append("  ").AppendLine(label);
                b.Append(' ', column).AppendLine(Wrap(text, column));
            }
            else b.Append("  ").Append(label).Append(' ', column - 2 - label.Length).AppendLine(Wrap(text, column));
        }
    }

    // Wraps at Width; lines after the first are indented by indent.
    private static string Wrap(string text, int indent)
    {
        var b = new StringBuilder();
        int at = indent;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (at > indent && at + 1 + word.Length > Width)
            {
                b.AppendLine().Append(' ', indent);
                at = indent;
            }
            else if (at > indent) { b.Append(' '); at++; }
            b.Append(word);
            at += word.Length;
        }
        return b.ToString();
    }
}
