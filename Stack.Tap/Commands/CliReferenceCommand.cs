using System.CommandLine;
using TcpIpSharp.Tap.Cli;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp cli-reference</c> (hidden): prints the reference part of docs/cli.md, every command's help as the
/// program prints it. tools/update-cli-doc.sh puts it into docs/cli.md; a test compares the two.
/// </summary>
internal static class CliReferenceCommand
{
    public static Command Create()
    {
        var command = new Command("cli-reference", "print the generated reference of docs/cli.md") { Hidden = true };
        command.SetAction(App.Action(cl =>
        {
            cl.Output.Write(HelpText.Reference((RootCommand)App.Build()));
            return ExitCodes.Success;
        }));
        return command;
    }
}
