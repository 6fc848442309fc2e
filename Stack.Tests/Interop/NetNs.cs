using System.Runtime.Versioning;
using TcpIpSharp.Linux;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tests.Interop;

/// <summary>
/// A throwaway network namespace for an interop test: uniquely named, IPv6 off (no chatter), loopback up, and always
/// deleted in <see cref="Dispose"/> together with the links opened and the processes started through it.
/// </summary>
/// <example>
/// <code>
/// using var ns = NetNs.Create("ping");
/// ns.AddTap("tap0", "192.0.2.1/24");                 // the kernel's side, as 192.0.2.1
/// using var link = ns.OpenTap("tap0");              // the stack's side
/// using var ping = ns.Start("ping", "-c", "3", "192.0.2.2");
/// </code>
/// </example>
/// <remarks>
/// Needs root and iproute2's <c>ip</c>; <see cref="Create"/> fails the test with a message naming what is missing.
/// Every command has a time limit. Addresses used inside should come from 192.0.2.0/24 or 198.51.100.0/24.
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed class NetNs : IDisposable
{
    /// <summary>Time limit of <see cref="Run"/> unless one is given.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private static int s_counter;
    private readonly List<IDisposable> _owned = [];
    private bool _disposed;

    private NetNs(string name, bool ipv6)
    {
        Name = name;
        Ipv6 = ipv6;
    }

    /// <summary>True when the kernel speaks IPv6 inside (made with <c>ipv6: true</c>): devices keep it on, with its chatter.</summary>
    public bool Ipv6 { get; }

    /// <summary>The namespace's name, as <c>ip netns</c> knows it.</summary>
    public string Name { get; }

    /// <summary>Its handle, <c>/var/run/netns/NAME</c>: what <see cref="TapLink.Open(string, string?)"/> and <see cref="PcapLiveLink.Open(string, string?, MacAddress?)"/> take.</summary>
    public string Path => NetworkNamespace.PathOf(Name);

    /// <summary>
    /// A router namespace and a peer namespace joined by a veth (<c>rt0</c>, 192.0.2.1/24, forwarding on; <c>peer0</c>,
    /// <paramref name="peerAddress"/>/24, routed to 198.51.100.0/24 through the router): the stack goes on a TAP in the
    /// router on 198.51.100.0/24, and iptables rules in the router's FORWARD chain lose frames on the way. With
    /// <paramref name="wireSizeFrames"/> the veth's offloads are off, so those rules see wire-size frames both ways.
    /// </summary>
    public static (NetNs Router, NetNs Peer) CreateRouterAndPeer(string purpose, string peerAddress, bool wireSizeFrames = false)
    {
        var router = Create(purpose + "rt");
        NetNs? peer = null;
        try
        {
            peer = Create(purpose + "peer");
            RunHost(DefaultTimeout, "ip", "link", "add", "rt0", "netns", router.Name, "type", "veth", "peer", "name", "peer0", "netns", peer.Name).ThrowIfFailed();
            if (wireSizeFrames)
            {
                router.Run("ethtool", "-K", "rt0", "tso", "off", "gso", "off", "gro", "off");
                peer.Run("ethtool", "-K", "peer0", "tso", "off", "gso", "off", "gro", "off");
            }
            router.Run("ip", "addr", "add", "192.0.2.1/24", "dev", "rt0");
            router.Run("ip", "link", "set", "rt0", "up");
            router.Run("sysctl", "-qw", "net.ipv4.ip_forward=1");
            peer.Run("ip", "addr", "add", peerAddress + "/24", "dev", "peer0");
            peer.Run("ip", "link", "set", "peer0", "up");
            peer.Run("ip", "route", "add", "198.51.100.0/24", "via", "192.0.2.1");
            router.WaitUntilUp("rt0");
            peer.WaitUntilUp("peer0");
            return (router, peer);
        }
        catch
        {
            peer?.Dispose();
            router.Dispose();
            throw;
        }
    }

    /// <summary>Makes a namespace named <c>tis-PURPOSE-PID-N</c>; IPv6 stays off unless <paramref name="ipv6"/> (then its addresses come from 2001:db8::/32 and fe80::/64 only).</summary>
    public static NetNs Create(string purpose, bool ipv6 = false)
    {
        RequireRootAnd("ip", "iproute2");
        string name = $"tis-{purpose}-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}";
        RunHost(DefaultTimeout, "ip", "netns", "add", name).ThrowIfFailed();
        var ns = new NetNs(name, ipv6);
        try
        {
            ns.Run("ip", "link", "set", "lo", "up");
            // Devices made later inherit "default"; without IPv6 in the kernel there is no chatter to stop anyway.
            if (!ipv6) ns.Exec(DefaultTimeout, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>Fails the test unless it runs as root and <paramref name="tool"/> is installed.</summary>
    public static void RequireRootAnd(string tool, string package)
    {
        if (!Environment.IsPrivilegedProcess)
            Assert.Fail($"this interop test needs root (network namespaces, TAP devices, raw capture); it ran as uid {Environment.UserName}");
        if (FindTool(tool) is null)
            Assert.Fail($"this interop test needs '{tool}' (Debian package {package}), which is not on PATH");
    }

    /// <summary>The full path of a program on PATH (or in /usr/sbin and /sbin), or null.</summary>
    public static string? FindTool(string tool)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
        return directories.Select(d => System.IO.Path.Combine(d, tool)).FirstOrDefault(File.Exists);
    }

    /// <summary>Runs a command inside the namespace and returns its standard output; throws if it fails or outlives <see cref="DefaultTimeout"/>.</summary>
    public string Run(params string[] command) => Exec(DefaultTimeout, command).ThrowIfFailed().StandardOutput;

    /// <summary>Runs a command inside the namespace, killing it at <paramref name="timeout"/>, and returns how it ended (never throws for a failed command).</summary>
    public ProcessResult Exec(TimeSpan timeout, params string[] command)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var process = new NsProcess(["ip", "netns", "exec", Name, .. command]);
        return process.WaitForExit(timeout);
    }

    /// <summary>Starts a command inside the namespace in the background (a server, a ping); it is killed at the latest in <see cref="Dispose"/>.</summary>
    public NsProcess Start(params string[] command)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var process = new NsProcess(["ip", "netns", "exec", Name, .. command]);
        _owned.Add(process);
        return process;
    }

    /// <summary>Shorthand for <c>ip</c> inside the namespace.</summary>
    public string Ip(params string[] arguments) => Run(["ip", .. arguments]);

    /// <summary>Makes a persistent TAP device, optionally with an address for the kernel's side, and sets it up. A link attaches to it with <see cref="OpenTap"/>.</summary>
    public void AddTap(string name, string? kernelAddress = null)
    {
        Ip("tuntap", "add", "dev", name, "mode", "tap");
        Configure(name, kernelAddress);
    }

    /// <summary>
    /// Makes a veth pair inside the namespace with every offload off on both ends (so frames carry real checksums and
    /// no 64 KB segments), IPv6 off, optional addresses, both ends up.
    /// </summary>
    public void AddVethPair(string name, string peer, string? address = null, string? peerAddress = null)
    {
        RequireRootAnd("ethtool", "ethtool");
        Ip("link", "add", name, "type", "veth", "peer", "name", peer);
        foreach (var end in new[] { name, peer })
            Run("ethtool", "-K", end, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off");
        Configure(name, address);
        Configure(peer, peerAddress);
        WaitUntilUp(name);
        WaitUntilUp(peer);
    }

    /// <summary>
    /// Waits until the kernel reports <paramref name="device"/>'s operational state UP (carrier on, as seen by
    /// <c>ip -br link</c>). Until then, for up to a second after a TAP is attached or a veth pair comes up, the kernel
    /// silently drops what it sends there: a test that sends a single frame and expects an answer must wait first.
    /// </summary>
    public void WaitUntilUp(string device, TimeSpan? timeout = null)
    {
        var limit = System.Diagnostics.Stopwatch.StartNew();
        string state = "";
        while (limit.Elapsed < (timeout ?? TimeSpan.FromSeconds(5)))
        {
            var fields = Ip("-br", "link", "show", "dev", device).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            state = fields.Length > 1 ? fields[1] : "";
            if (state == "UP") return;
            Thread.Sleep(20);
        }
        Assert.Fail($"{device} in namespace {Name} did not come up (state {state})");
    }

    private void Configure(string device, string? address)
    {
        if (!Ipv6) Exec(DefaultTimeout, "sysctl", "-qw", $"net.ipv6.conf.{device}.disable_ipv6=1");
        if (address is not null) Ip("addr", "add", address, "dev", device);
        Ip("link", "set", device, "up");
    }

    /// <summary>Opens (attaches to, or creates) the TAP <paramref name="name"/> inside this namespace, with the virtio-net header and offloads when <paramref name="offloads"/>, its frames written by a thread of its own when <paramref name="transmitThread"/>; closed in <see cref="Dispose"/> at the latest.</summary>
    /// <remarks>When the device is administratively up, waits for its carrier (see <see cref="WaitUntilUp"/>) before returning.</remarks>
    /// <param name="io">How frames cross to the kernel (per frame, or batched through io_uring).</param>
    public TapLink OpenTap(string name, bool offloads = false, bool transmitThread = false, TapIoMode io = TapIoMode.PerFrame)
    {
        var link = Own(TapLink.Open(name, Path, offloads, transmitThread, io));
        if (Ip("-o", "link", "show", "dev", name).Contains(",UP", StringComparison.Ordinal)) WaitUntilUp(name);
        return link;
    }

    /// <summary>Opens a pcap-live link on interface <paramref name="name"/> inside this namespace; closed in <see cref="Dispose"/> at the latest.</summary>
    public PcapLiveLink OpenPcap(string name, MacAddress? ownMac = null) => Own(PcapLiveLink.Open(name, Path, ownMac));

    /// <summary>As <see cref="OpenPcap"/>, with the direction filter off so that frames from <paramref name="ownMac"/> are dropped by address instead.</summary>
    internal PcapLiveLink OpenPcapFilteringBySource(string name, MacAddress ownMac) => Own(PcapLiveLink.Open(name, Path, ownMac, filterByDirection: false));

    /// <summary>Runs <paramref name="action"/> on a thread inside the namespace (see <see cref="NetworkNamespace.Run{T}(string, Func{T})"/>).</summary>
    public T Enter<T>(Func<T> action) => NetworkNamespace.Run(Path, action);

    private T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    /// <summary>Closes what was opened and started through it, kills anything left inside, and deletes the namespace.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Open TAP and packet-socket descriptors hold the namespace alive after "ip netns del": close them first.
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
        var pids = RunHost(DefaultTimeout, "ip", "netns", "pids", Name);
        foreach (var pid in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            RunHost(DefaultTimeout, "kill", "-9", pid);
        RunHost(DefaultTimeout, "ip", "netns", "del", Name);
    }

    /// <summary>Runs a command in the test's own namespace with a time limit.</summary>
    internal static ProcessResult RunHost(TimeSpan timeout, params string[] command)
    {
        using var process = new NsProcess(command);
        return process.WaitForExit(timeout);
    }
}
