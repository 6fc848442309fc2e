namespace TcpIpSharp.Tap.Cli;

/// <summary>The program's exit statuses, the same for every command (docs/cli.md, "Exit status").</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked: the transfer completed, the verdict passed, the name resolved.</summary>
    public const int Success = 0;

    /// <summary>The command ran but its result is a failure: a transfer failed or was cut short, no ping answered, the replay's verdict differs, the lookup failed.</summary>
    public const int Failed = 1;

    /// <summary>A usage mistake: an unknown command or option, a missing or bad value, a file that is not a capture.</summary>
    public const int Usage = 2;

    /// <summary>The machine cannot do it: no permission to open the TAP, no such device, libpcap missing, not root for <c>demo</c>.</summary>
    public const int Environment = 3;
}
