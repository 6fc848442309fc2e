using System.CommandLine;
using TcpIpSharp.Tap.Cli;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp completion bash|zsh</c>: prints a shell completion script. The script asks the program itself what
/// may come next, through System.CommandLine's <c>[suggest:POSITION]</c> directive, so commands, options and the
/// values an option offers (device names for --tap, off|accept|request for --ecn...) follow the definitions with
/// nothing to regenerate.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create()
    {
        var shell = Opt.Argument("SHELL", "bash or zsh");
        shell.CompletionSources.Add("bash", "zsh");
        var command = new Command("completion", "Print a bash or zsh completion script. See README, Shell completion.") { shell };
        command.SetAction(App.Action(cl =>
        {
            cl.Output.Write(cl.Positional[0] switch
            {
                "bash" => Bash,
                "zsh" => Zsh,
                var other => throw new UsageException($"SHELL: '{other}' is not bash or zsh"),
            });
            return ExitCodes.Success;
        }));
        return command;
    }

    // COMP_LINE and COMP_POINT are the line and the cursor's offset in it; the program drops its own name from the line.
    internal const string Bash = """
        # bash completion for tcpipsharp (from: tcpipsharp completion bash)
        # Load it in this shell:  source <(tcpipsharp completion bash)
        # or for every shell:     tcpipsharp completion bash > /etc/bash_completion.d/tcpipsharp
        _tcpipsharp_complete()
        {
            local IFS=$'\n'
            local cur="${COMP_WORDS[COMP_CWORD]}"
            local candidates
            candidates=$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)
            COMPREPLY=( $(compgen -W "${candidates}" -- "${cur}") )
        }
        complete -o default -F _tcpipsharp_complete tcpipsharp

        """;

    internal const string Zsh = """
        #compdef tcpipsharp
        # zsh completion for tcpipsharp (from: tcpipsharp completion zsh)
        # Load it in this shell:  source <(tcpipsharp completion zsh)
        # or save it as _tcpipsharp in a directory of $fpath.
        _tcpipsharp() {
            local line="${BUFFER}" point="${CURSOR}"
            local -a candidates
            candidates=("${(@f)$("${words[1]}" "[suggest:${point}]" "${line}" 2>/dev/null)}")
            compadd -- "${candidates[@]}"
        }
        if [[ "${funcstack[1]}" == _tcpipsharp ]]; then _tcpipsharp "$@"; else compdef _tcpipsharp tcpipsharp; fi

        """;
}
