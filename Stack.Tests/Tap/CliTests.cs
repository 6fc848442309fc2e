using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Tests.Interop;
using TcpIpSharp.Tests.Support;

namespace TcpIpSharp.Tests.Tap;

/// <summary>
/// The command line (issue 20): help for every command from the definitions, one-line mistakes with exit 2 and the
/// nearest name, the exit-status table, completion in bash, progress only on a terminal, and docs/cli.md generated.
/// </summary>
public class CliTests
{
    private static readonly RootCommand Root = App.Build();

    private static IEnumerable<Command> Commands => Root.Subcommands.Where(c => !c.Hidden);

    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        int exit = App.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Test]
    public void Every_command_has_help_that_lists_its_arguments_and_options()
    {
        Assert.That(Commands.Select(c => c.Name), Is.SupersetOf(new[] { "up", "ping", "get", "send", "resolve", "replay", "decode", "demo", "completion" }));
        foreach (var command in Commands)
        {
            foreach (var help in new[] { "--help", "-h" })
            {
                var (exit, output, error) = Run(command.Name, help);
                Assert.That(exit, Is.Zero, $"{command.Name} {help}: {error}");
                Assert.That(output, Does.StartWith($"usage: tcpipsharp {command.Name}"));
                foreach (var argument in command.Arguments) Assert.That(output, Does.Contain(argument.Name), $"{command.Name} --help names {argument.Name}");
                foreach (var option in command.Options.Where(o => !o.Hidden)) Assert.That(output, Does.Contain(option.Name), $"{command.Name} --help names {option.Name}");
            }
        }
        // The link options are one group, the same for every command that opens a link.
        // gateway takes --tun or --tap as its own options (a TUN has no link options such as --mac or --gw), not the group.
        var linked = Commands.Where(c => c.Options.Any(o => o.Name == "--tap") && c.Name != "gateway").Select(c => c.Name).ToList();
        Assert.That(linked, Is.EquivalentTo(new[] { "up", "ping", "get", "send", "resolve", "browse", "ntp" }));
        var groups = linked.Select(name => Run(name, "--help").Output).Select(help => help[help.IndexOf("\nlink options", StringComparison.Ordinal)..]).Distinct().ToList();
        Assert.That(groups, Has.Count.EqualTo(1), "one definition, one text");
        Assert.That(groups[0], Does.Contain("--tap NAME").And.Contain("--ip A.B.C.D/LEN").And.Contain("--dhcp").And.Contain("--mtu N").And.Contain("--ecn off|accept|request"));
    }

    [Test]
    public void No_command_has_two_options_or_commands_of_one_name()
    {
        foreach (var command in Commands.Prepend(Root))
        {
            var names = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).Concat(command.Subcommands.Select(c => c.Name)).ToList();
            Assert.That(names, Is.Unique, command.Name);
        }
    }

    [Test]
    public void The_top_level_help_is_one_line_per_command_and_points_to_per_command_help()
    {
        var (exit, output, _) = Run("--help");
        Assert.That(exit, Is.Zero);
        var lines = output.Split('\n');
        int first = Array.IndexOf(lines, "commands:") + 1;
        var listed = lines[first..].TakeWhile(l => l.Length > 0).ToList();
        Assert.That(listed.Select(l => l.Trim().Split(' ')[0]), Is.EqualTo(Commands.Select(c => c.Name)), "one line each, in order");
        Assert.That(listed, Has.All.Length.LessThanOrEqualTo(100));
        Assert.That(output, Does.Contain("tcpipsharp COMMAND --help"));
        Assert.That(output, Does.Not.Contain("--reorder"), "no link options at the top");
        Assert.That(Run("help", "get").Output, Is.EqualTo(Run("get", "--help").Output));
        var (none, noneOutput, noneError) = Run();
        Assert.That((none, noneOutput, noneError), Is.EqualTo((2, "", output)), "no command: the help on standard error, exit 2");
    }

    private static IEnumerable<TestCaseData> BadValues()
    {
        string[] link = ["--tap", "tcpipsharp-none0"];
        TestCaseData Case(string message, params string[] args) => new TestCaseData(args, message).SetArgDisplayNames(string.Join(' ', args));
        yield return Case("--ip: '192.0.2.2' needs a prefix length, as in 192.0.2.2/24", ["get", "http://192.0.2.1/", .. link, "--ip", "192.0.2.2"]);
        yield return Case("--ip: '192.0.2.2/33' has a bad prefix length", ["ping", "192.0.2.1", .. link, "--ip", "192.0.2.2/33"]);
        yield return Case("--ip: '192.0.2.300' is not an IPv4 address", ["up", .. link, "--ip", "192.0.2.300/24"]);
        yield return Case("--gw: 'gateway' is not an IPv4 address", ["up", .. link, "--ip", "192.0.2.2/24", "--gw", "gateway"]);
        yield return Case("--mtu must be between 68 and 65535", ["get", "http://192.0.2.1/", .. link, "--ip", "192.0.2.2/24", "--mtu", "40"]);
        yield return Case("--mtu: 'big' is not a number", ["up", .. link, "--ip", "192.0.2.2/24", "--mtu", "big"]);
        yield return Case("--mac: '02:00' is not a MAC address", ["up", .. link, "--ip", "192.0.2.2/24", "--mac", "02:00"]);
        yield return Case("--ecn takes off, accept or request", ["up", .. link, "--ip", "192.0.2.2/24", "--ecn", "maybe"]);
        yield return Case("--txqueuelen must be between 1 and 1000000", ["up", .. link, "--ip", "192.0.2.2/24", "--txqueuelen", "0"]);
        yield return Case("--time-wait must be between 1 and 240 seconds", ["up", .. link, "--ip", "192.0.2.2/24", "--time-wait", "0"]);
        yield return Case("--ip6: 'ff02::1/64' is not an IPv6 address with a prefix length (ADDR/LEN, LEN 1..128)", ["up", .. link, "--ip", "192.0.2.2/24", "--ip6", "ff02::1/64"]);
        yield return Case("--dhcp configures the address and gateway: leave out --ip and --gw", ["up", .. link, "--dhcp", "--ip", "192.0.2.2/24"]);
        yield return Case("--ip A.B.C.D/LEN or --dhcp is required", ["up", .. link]);
        yield return Case("--services: unknown service 'ftp'", ["up", .. link, "--ip", "192.0.2.2/24", "--services", "echo,ftp"]);
        yield return Case("HOST: '192.0.2.999' is not an IPv4 or IPv6 address", ["ping", "192.0.2.999", .. link, "--ip", "192.0.2.2/24"]);
        yield return Case("-c must be at least 1", ["ping", "192.0.2.1", "-c", "0", .. link, "--ip", "192.0.2.2/24"]);
        yield return Case("'ftp://192.0.2.1/' is not an http:// URL", ["get", "ftp://192.0.2.1/", .. link, "--ip", "192.0.2.2/24"]);
        yield return Case("-i: /nonexistent/f.bin: no such file", ["send", "192.0.2.1", "9000", "-i", "/nonexistent/f.bin", .. link, "--ip", "192.0.2.2/24"]);
        yield return Case("'70000' is not a port (1-65535)", ["send", "192.0.2.1", "70000", .. link, "--ip", "192.0.2.2/24"]);
        yield return Case("--type: 'BOGUS' is not a record type", ["resolve", "example.test", "--type", "BOGUS", .. link, "--ip", "192.0.2.2/24", "--dns", "192.0.2.1"]);
        yield return Case("--host: 'nowhere' is not an IPv4 or IPv6 address", ["replay", Path.Combine(TestPaths.SharedCaptures, "tcpdump/tests/dns_tcp.pcap"), "--host", "nowhere"]);
        yield return Case("none.pcap: no such file", ["replay", Path.Combine(TestPaths.RepositoryRoot, "none.pcap"), "--host", "192.0.2.1"]);
        yield return Case("SHELL: 'fish' is not bash or zsh", ["completion", "fish"]);
        yield return Case("--autoip chooses the address: leave out --ip", ["up", .. link, "--autoip", "--ip", "192.0.2.2/24"]);
        yield return Case("--hostname: 'a.b' is not a host name", ["up", .. link, "--ip", "192.0.2.2/24", "--hostname", "a.b"]);
        yield return Case("'_http' is not a service type", ["browse", "_http", .. link, "--ip", "192.0.2.2/24"]);
        yield return Case("give the SERVER, or --dhcp", ["ntp", .. link, "--ip", "192.0.2.2/24"]);
        yield return Case("SERVER: 'time' is not an IPv4 or IPv6 address", ["ntp", "time", .. link, "--ip", "192.0.2.2/24"]);
        // The shape, checked by System.CommandLine and reported in the program's words.
        yield return Case("--ip needs a value", ["up", .. link, "--ip"]);
        yield return Case("URL is missing", ["get", .. link, "--ip", "192.0.2.2/24"]);
        yield return Case("unexpected argument 'extra'", ["ping", "192.0.2.1", "extra", .. link, "--ip", "192.0.2.2/24"]);
    }

    [TestCaseSource(nameof(BadValues))]
    public void A_bad_value_gets_its_message_on_one_line_and_exit_2(string[] args, string message)
    {
        // Checked before any link is opened: the TAP named here is never created.
        var (exit, output, error) = Run(args);
        Assert.That(exit, Is.EqualTo(ExitCodes.Usage), error);
        Assert.That(output, Is.Empty);
        Assert.That(Lines(error), Has.Length.EqualTo(1), error);
        Assert.That(error, Does.StartWith($"tcpipsharp {args[0]}: ").And.Contain(message).And.Contain($"see tcpipsharp {args[0]} --help"));
    }

    [Test]
    public void An_unknown_command_or_option_names_the_nearest()
    {
        Assert.That(Run("gte", "http://192.0.2.1/"), Is.EqualTo((2, "", "tcpipsharp: unknown command 'gte' (did you mean 'get'?); see tcpipsharp --help\n")));
        Assert.That(Run("reslove", "x").Error, Does.Contain("unknown command 'reslove' (did you mean 'resolve'?)"));
        Assert.That(Run("frobnicate").Error, Does.Contain("unknown command 'frobnicate'; see tcpipsharp --help"));
        var (exit, _, error) = Run("get", "http://192.0.2.1/", "--tmeout", "3", "--tap", "t", "--ip", "192.0.2.2/24");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Is.EqualTo("tcpipsharp get: unknown option '--tmeout' (did you mean '--timeout'?); see tcpipsharp get --help\n"));
        Assert.That(Run("up", "--no-ipv4").Error, Does.Contain("unknown option '--no-ipv4' (did you mean '--no-ipv6'?)"));
        Assert.That(Run("decode", "a.pcap", "--jsn").Error, Does.Contain("(did you mean '--json'?)"));
    }

    [Test]
    public void A_link_that_cannot_be_opened_is_exit_3()
    {
        // No such interface (or no libpcap): the environment, not the command line.
        var (exit, output, error) = Run("ping", "192.0.2.1", "--pcap-if", "tcpipsharp-none0", "--ip", "192.0.2.2/24");
        Assert.That(exit, Is.EqualTo(ExitCodes.Environment), error);
        Assert.That(output, Is.Empty);
        Assert.That(Lines(error), Has.Length.EqualTo(1));
        Assert.That(error, Does.StartWith("tcpipsharp ping: ").And.Contain("tcpipsharp-none0").Or.Contain("libpcap"));
    }

    [Test]
    public void The_built_program_prints_help_version_and_exit_statuses()
    {
        var (help, helpText, _) = ExternalTool.Run(HostProgram.Path, ["get", "--help"]);
        Assert.That(help, Is.Zero);
        Assert.That(helpText, Does.StartWith("usage: tcpipsharp get URL"));
        var (version, versionText, _) = ExternalTool.Run(HostProgram.Path, ["--version"]);
        Assert.That((version, versionText), Is.EqualTo((0, "tcpipsharp " + App.Version + "\n")));
        var (bad, badOut, badError) = ExternalTool.Run(HostProgram.Path, ["up", "--tap", "tcpipsharp-none0", "--ip", "192.0.2.2/24", "--mtu", "40"]);
        Assert.That((bad, badOut, badError), Is.EqualTo((2, "", "tcpipsharp up: --mtu must be between 68 and 65535; see tcpipsharp up --help\n")));
    }

    [Test]
    public void Bash_and_zsh_completion_complete_commands_options_and_values()
    {
        string bash = ExternalTool.Require("bash", "bash");
        var (exit, script, _) = ExternalTool.Run(HostProgram.Path, ["completion", "bash"]);
        Assert.That(exit, Is.Zero);
        string file = Path.Combine(Path.GetTempPath(), $"tcpipsharp-completion-{Environment.ProcessId}.bash");
        File.WriteAllText(file, script);
        try
        {
            // Bash's own completion call: COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT as readline sets them.
            string driver = $$"""
                source '{{file}}'
                complete -p tcpipsharp >/dev/null || exit 9
                c() {
                  COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
                  read -ra COMP_WORDS <<< "$1"; [[ "$1" == *" " ]] && COMP_WORDS+=("")
                  COMP_WORDS[0]='{{HostProgram.Path}}'; COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                  COMPREPLY=(); _tcpipsharp_complete; echo "$1|${COMPREPLY[*]}"
                }
                c "tcpipsharp ge"
                c "tcpipsharp re"
                c "tcpipsharp get http://192.0.2.1/ --ti"
                c "tcpipsharp up --ecn "
                c "tcpipsharp up --no-"
                c "tcpipsharp decode x.pcap --j"
                c "tcpipsharp completion "
                """;
            var (code, output, error) = ExternalTool.Run(bash, ["--norc", "-c", driver]);
            Assert.That(code, Is.Zero, error);
            var answers = Lines(output).ToDictionary(l => l.Split('|')[0], l => l.Split('|')[1]);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(answers["tcpipsharp ge"], Is.EqualTo("get"));
                Assert.That(answers["tcpipsharp re"], Is.EqualTo("replay resolve"));
                Assert.That(answers["tcpipsharp get http://192.0.2.1/ --ti"], Is.EqualTo("--time-wait --timeout"));
                Assert.That(answers["tcpipsharp up --ecn "], Is.EqualTo("accept off request"));
                Assert.That(answers["tcpipsharp up --no-"], Is.EqualTo("--no-ipv6 --no-mdns --no-offload --no-rack --no-uring"));
                Assert.That(answers["tcpipsharp decode x.pcap --j"], Is.EqualTo("--json"));
                Assert.That(answers["tcpipsharp completion "], Does.Contain("bash zsh"));
            }
        }
        finally
        {
            File.Delete(file);
        }
        // zsh, where installed (test.sh installs it): the script parses and its function completes.
        if (ExternalTool.Find("zsh") is string zsh)
        {
            var (zshExit, zshScript, _) = ExternalTool.Run(HostProgram.Path, ["completion", "zsh"]);
            Assert.That(zshExit, Is.Zero);
            var (parse, _, parseError) = ExternalTool.Run(zsh, ["-n", "-c", zshScript]);
            Assert.That(parse, Is.Zero, parseError);
            // The function against what zsh's completion system hands it (BUFFER, CURSOR, words), compadd recorded.
            string zshDriver = $$"""
                compdef() { : }
                compadd() { shift; print -r -- "$BUFFER|$*" }
                {{zshScript}}
                BUFFER="tcpipsharp get http://192.0.2.1/ --ti"; CURSOR=${#BUFFER}; words=('{{HostProgram.Path}}' get http://192.0.2.1/ --ti); _tcpipsharp
                BUFFER="tcpipsharp up --ecn "; CURSOR=${#BUFFER}; words=('{{HostProgram.Path}}' up --ecn ''); _tcpipsharp
                """;
            var (zshCode, zshOutput, zshError) = ExternalTool.Run(zsh, ["-f", "-c", zshDriver]);
            Assert.That(zshCode, Is.Zero, zshError);
            Assert.That(Lines(zshOutput), Is.EqualTo(new[] { "tcpipsharp get http://192.0.2.1/ --ti|--time-wait --timeout", "tcpipsharp up --ecn |accept off request" }));
        }
    }

    [Test]
    public void Docs_cli_md_holds_the_reference_generated_from_the_definitions()
    {
        const string Begin = "<!-- cli-reference: generated by tools/update-cli-doc.sh; do not edit by hand -->\n", End = "<!-- end of cli-reference -->";
        string doc = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "cli.md"));
        int start = doc.IndexOf(Begin, StringComparison.Ordinal), end = doc.IndexOf(End, StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), "docs/cli.md has the reference markers");
        string written = doc[(start + Begin.Length)..end];
        Assert.That(written, Is.EqualTo(HelpText.Reference(Root)), "docs/cli.md is behind the definitions: run tools/update-cli-doc.sh");
        foreach (var command in Commands) Assert.That(written, Does.Contain($"usage: {HelpText.Synopsis(command)}\n"));
        foreach (int status in new[] { ExitCodes.Success, ExitCodes.Failed, ExitCodes.Usage, ExitCodes.Environment })
            Assert.That(doc, Does.Contain($"\n| {status} |"), "the exit-status table");
    }

    [Test]
    public void Decode_reports_its_speed_on_a_terminal_only()
    {
        string script = ExternalTool.Require("script", "bsdutils");
        string capture = Path.Combine(TestPaths.RequireSharedCaptures(), "tcpdump/tests/dns_tcp.pcap");
        // Under script(1) standard error is a pseudo-terminal; piped, it is not.
        var (exit, terminal, _) = ExternalTool.Run(script, ["-qec", $"'{HostProgram.Path}' decode '{capture}' > /dev/null", "/dev/null"]);
        Assert.That(exit, Is.Zero, terminal);
        Assert.That(terminal, Does.Match(@"decode: \d+ frames in \d+\.\d+ s \(\d+ frames/s\)"));
        var (pipedExit, _, piped) = ExternalTool.Run(HostProgram.Path, ["decode", capture]);
        Assert.That((pipedExit, piped), Is.EqualTo((0, "")));
    }

    [Test, NonParallelizable]
    public void Get_shows_progress_on_a_terminal_and_not_when_piped()
    {
        string script = ExternalTool.Require("script", "bsdutils");
        using var ns = NetNs.Create("cliget");
        ns.AddTap("tap1", "198.51.100.1/24");
        string www = Directory.CreateTempSubdirectory("tcpipsharp-cli-").FullName;
        try
        {
            using (var f = File.Create(Path.Combine(www, "f.bin"))) f.SetLength(20_000_000);
            using var server = ns.Start("python3", "-m", "http.server", "8080", "--bind", "198.51.100.1", "--directory", www);
            for (int i = 0; i < 50 && !ns.Exec(TimeSpan.FromSeconds(2), "curl", "-s", "-o", "/dev/null", "http://198.51.100.1:8080/").Succeeded; i++) Thread.Sleep(100);
            string get = $"'{HostProgram.Path}' get http://198.51.100.1:8080/f.bin -o /dev/null --tap tap1 --ip 198.51.100.2/24";
            var terminal = ns.Exec(TimeSpan.FromSeconds(60), script, "-qec", get, "/dev/null");
            Assert.That(terminal.ExitCode, Is.Zero, terminal.ToString());
            TestContext.Out.WriteLine(terminal.StandardOutput.Replace("\r", "\\r\n", StringComparison.Ordinal));
            // (The reader splits lines at the carriage returns too.)
            Assert.That(terminal.StandardOutput, Does.Match(@"get: [\d.]+ [kMG]?B of 20\.0 MB \(\d+%\)").And.Contain("\u001b[K"));
            Assert.That(terminal.StandardOutput, Does.Contain("get: HTTP/1.0 200 OK; 20000000 body bytes"));

            var piped = ns.Exec(TimeSpan.FromSeconds(60), HostProgram.Path, "get", "http://198.51.100.1:8080/f.bin", "-o", "/dev/null", "--tap", "tap1", "--ip", "198.51.100.2/24");
            Assert.That(piped.ExitCode, Is.Zero, piped.ToString());
            Assert.That(Lines(piped.StandardError), Has.Length.EqualTo(2), "the two closing lines only");
            Assert.That(piped.StandardError, Does.StartWith("get: HTTP/1.0 200 OK; 20000000 body bytes").And.Not.Contain("\r").And.Not.Contain(" of 20.0 MB"));
        }
        finally
        {
            Directory.Delete(www, recursive: true);
        }
    }

    [Test, NonParallelizable]
    public void Up_status_is_live_on_a_terminal_and_json_prints_the_statistics_as_one_object()
    {
        string script = ExternalTool.Require("script", "bsdutils");
        using var ns = NetNs.Create("cliup");
        ns.AddTap("tap0", "192.0.2.1/24");
        // timeout(1) sends SIGINT after 4 s: up stops, clears its live line and prints the JSON object.
        string up = $"timeout --preserve-status -s INT 4 '{HostProgram.Path}' up --tap tap0 --ip 192.0.2.2/24 --services none --status --json";
        using var terminal = ns.Start(script, "-qec", up, "/dev/null");
        var ping = ns.Exec(TimeSpan.FromSeconds(10), "ping", "-c", "8", "-i", "0.2", "-W", "1", "192.0.2.2");
        Assert.That(ping.StandardOutput, Does.Contain(" received"), ping.ToString());
        var result = terminal.WaitForExit(TimeSpan.FromSeconds(20));
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.StandardOutput, Does.Match(@"up: \d+ frames/s in, \d+ out, \d+ tcp connections, \d+ drops/s"));
        // Standard error's erase of the live line shares the terminal: the object starts at its brace.
        string line = Lines(result.StandardOutput).Last(l => l.Contains("{\"link\":", StringComparison.Ordinal));
        string json = line[line.IndexOf('{', StringComparison.Ordinal)..].TrimEnd('\r');
        using (var doc = JsonDocument.Parse(json))
        {
            Assert.That(doc.RootElement.GetProperty("link").GetProperty("received").GetInt64(), Is.GreaterThan(0));
            Assert.That(doc.RootElement.GetProperty("icmp").GetProperty("echo_replies_sent").GetInt64(), Is.GreaterThan(0));
            Assert.That(doc.RootElement.GetProperty("tcp").ValueKind, Is.EqualTo(JsonValueKind.Object));
        }
        Assert.That(result.StandardOutput, Does.Not.Contain("tcpipsharp: statistics"), "--json instead of the table");

        // Piped, --status prints nothing and the table is as before.
        var piped = ns.Exec(TimeSpan.FromSeconds(20), "timeout", "--preserve-status", "-s", "INT", "2", HostProgram.Path, "up", "--tap", "tap0", "--ip", "192.0.2.2/24", "--services", "none", "--status");
        Assert.That(piped.ExitCode, Is.Zero, piped.ToString());
        Assert.That(piped.StandardError, Is.Empty);
        Assert.That(piped.StandardOutput, Does.Contain("tcpipsharp: statistics").And.Not.Contain("frames/s"));
    }
}
