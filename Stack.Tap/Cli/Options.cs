using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace TcpIpSharp.Tap.Cli;

/// <summary>
/// Builders for the two kinds of option the program has: a value (kept as text, checked by the command so that its
/// message is the program's own) and a switch (no value).
/// </summary>
internal static class Opt
{
    public static Option<string> Value(string name, string helpName, string description, params string[] completions)
    {
        var option = new Option<string>(name) { HelpName = helpName, Description = description };
        if (completions.Length > 0) option.CompletionSources.Add(completions);
        return option;
    }

    public static Option<bool> Switch(string name, string description)
        => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>A positional argument, kept as text like the options.</summary>
    public static Argument<string> Argument(string name, string description, bool optional = false)
        => new(name) { Description = description, Arity = optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne };
}

/// <summary>
/// The link options, defined once: every command that opens a link (<c>up</c>, <c>ping</c>, <c>get</c>, <c>send</c>,
/// <c>resolve</c>) takes the same set through <see cref="AddTo"/>, and <see cref="HostSetup"/> reads them. Help lists
/// them in a group of their own.
/// </summary>
internal static class LinkOptions
{
    /// <summary>The help group's title.</summary>
    public const string Title = "link options";

    private static readonly HashSet<Option> Made = new(ReferenceEqualityComparer.Instance);

    /// <summary>True for an option made here (help prints it in the link group; replay's own --ip is not one).</summary>
    public static bool IsLinkOption(Option option)
    {
        lock (Made) return Made.Contains(option);
    }

    private static IEnumerable<Option> Create() =>
    [
        Opt.Value("--tap", "NAME", "the TAP device to attach to (opened, or created if it does not exist)"),
        Opt.Value("--pcap-if", "IFACE", "attach to a network interface through libpcap instead of a TAP"),
        Opt.Value("--ip", "A.B.C.D/LEN", "the stack's IPv4 address and prefix length (or --dhcp)"),
        Opt.Value("--gw", "A.B.C.D", "the IPv4 default gateway"),
        Opt.Switch("--dhcp", "configure IPv4 address, gateway and DNS servers by DHCP"),
        Opt.Value("--hostname", "NAME", "the host name: answered by mDNS as NAME.local (up; PicoW by default) and sent by DHCP"),
        Opt.Value("--dns", "SERVER[,...]", "DNS servers, IPv4 or IPv6 (they win over DHCP's)"),
        Opt.Value("--ip6", "ADDR/LEN", "a static IPv6 address beside link-local and SLAAC"),
        Opt.Value("--gw6", "ADDR", "a static IPv6 default router"),
        Opt.Switch("--no-ipv6", "IPv4 only: no link-local address, no SLAAC"),
        Opt.Value("--mac", "MAC", "the stack's MAC address (random locally administered by default)"),
        Opt.Value("--mtu", "N", "the link MTU, 68-65535 (the device's by default)"),
        Opt.Value("--time-wait", "SECONDS", "TCP TIME-WAIT, 1-240 s (60 by default, as Linux)"),
        Opt.Value("--ecn", "off|accept|request", "TCP ECN (RFC 3168), as Linux's tcp_ecn; accept by default", "off", "accept", "request"),
        Opt.Value("--txqueuelen", "N", "the TAP's transmit queue: frames the kernel holds for the stack before it drops (10000 when the stack creates the TAP, else the device's own)"),
        Opt.Switch("--no-offload", "no checksum or segmentation offload on the TAP"),
        Opt.Switch("--tx-thread", "with --no-offload: write frames from a thread of the link's own"),
        Opt.Switch("--uring", "batch the TAP's frames through io_uring, or fail (the default with --no-offload, when available)"),
        Opt.Switch("--no-uring", "one read/write system call per frame on the TAP, no io_uring"),
        Opt.Switch("--uring-sqpoll", "as --uring, with a kernel thread issuing the TAP's reads and writes (IORING_SETUP_SQPOLL): the kernel's receive of each frame sent then runs beside the stack's thread"),
        Opt.Value("--reorder", "RATE[,MS[,K]]", "hold back RATE (0..1) of the frames sent by MS ms (5), or until K later frames went out, to test reordering"),
        Opt.Value("--reorder-rx", "RATE[,MS[,K]]", "the same for the frames received: the peer's sending meets reordering"),
        Opt.Switch("--no-rack", "loss detection by duplicate ACKs (RFC 6675) instead of RACK (RFC 8985)"),
        Opt.Value("--pcap", "FILE", "write every frame in and out to a pcap FILE"),
        Opt.Switch("--trace", "print a one-line summary of every frame in and out"),
        Opt.Value("--log-level", "LEVEL", "log the stack's events at LEVEL and above", Enum.GetNames<LogLevel>()),
    ];

    /// <summary>Adds the link options to a command (a fresh set of option objects each time, one definition).</summary>
    public static void AddTo(Command command)
    {
        foreach (var option in Create())
        {
            lock (Made) Made.Add(option);
            command.Options.Add(option);
        }
        var tap = command.Options.First(o => o.Name == "--tap");
        tap.CompletionSources.Add(_ => Directory.Exists("/sys/class/net") ? Directory.GetFileSystemEntries("/sys/class/net").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal) : []);
        var pcapIf = command.Options.First(o => o.Name == "--pcap-if");
        pcapIf.CompletionSources.Add(tap.CompletionSources[^1]);
    }

}
