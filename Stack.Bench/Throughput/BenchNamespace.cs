using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using TcpIpSharp.Linux;

namespace TcpIpSharp.Bench.Throughput;

/// <summary>
/// A throwaway network namespace named <c>tis-bench-PID-PURPOSE</c>: IPv6 off, loopback up; deleted (after killing
/// whatever runs inside) by <see cref="Dispose"/>, and by <see cref="DeleteAll"/> on Ctrl-C, SIGTERM or an exception.
/// Addresses used inside come from 192.0.2.0/24, 198.51.100.0/24 and (<see cref="Configure6"/>) 2001:db8::/32 only.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class BenchNamespace : IDisposable
{
    private const string Prefix = "tis-bench-";
    private static readonly Lock s_gate = new();
    private static readonly List<BenchNamespace> s_live = [];
    private readonly List<Process> _processes = [];
    private bool _disposed;

    private BenchNamespace(string name) => Name = name;

    /// <summary>The name <c>ip netns</c> knows.</summary>
    public string Name { get; }

    /// <summary>The namespace handle (<c>/var/run/netns/NAME</c>) for <see cref="NetworkNamespace.Run{T}"/> and <see cref="TapLink.Open(string, string?)"/>.</summary>
    public string Path => NetworkNamespace.PathOf(Name);

    /// <summary>Makes and registers a namespace.</summary>
    public static BenchNamespace Create(string purpose)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Environment.ProcessId}-{purpose}");
        Shell.Check("ip", "netns", "add", name);
        var ns = new BenchNamespace(name);
        lock (s_gate) s_live.Add(ns);
        try
        {
            ns.Ip("link", "set", "lo", "up");
            ns.Exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>Runs <c>ip</c> inside; throws if it fails.</summary>
    public string Ip(params string[] args) => Shell.Check("ip", ["-n", Name, .. args]);

    /// <summary>Runs a command inside; throws if it fails.</summary>
    public string Exec(params string[] command) => Shell.Check("ip", ["netns", "exec", Name, .. command]);

    /// <summary>Runs a command inside with a time limit; returns how it ended.</summary>
    public Shell.Result Exec(TimeSpan timeout, params string[] command) => Shell.Run(timeout, "ip", ["netns", "exec", Name, .. command]);

    /// <summary>Starts a command inside in the background; killed in <see cref="Dispose"/> at the latest.</summary>
    public Process Start(params string[] command)
    {
        var p = Shell.Start("ip", ["netns", "exec", Name, .. command]);
        lock (s_gate) _processes.Add(p);
        return p;
    }

    /// <summary>IPv6 off on <paramref name="device"/>, an address (optional), and up.</summary>
    public void Configure(string device, string? address)
    {
        Exec("sysctl", "-qw", $"net.ipv6.conf.{device}.disable_ipv6=1");
        if (address is not null) Ip("addr", "add", address, "dev", device);
        Ip("link", "set", device, "up");
    }

    /// <summary>
    /// IPv6 on for <paramref name="device"/> only (the namespace's default stays off): no duplicate address detection,
    /// no router advertisements taken; an IPv4 address, a 2001:db8:: address (<c>nodad</c>), and up.
    /// </summary>
    public void Configure6(string device, string ipv4Address, string ipv6Address)
    {
        if (!ipv6Address.StartsWith("2001:db8:", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException("IPv6 addresses in the harness come from 2001:db8::/32 only", nameof(ipv6Address));
        Exec("sysctl", "-qw", $"net.ipv6.conf.{device}.disable_ipv6=0", $"net.ipv6.conf.{device}.accept_dad=0", $"net.ipv6.conf.{device}.accept_ra=0");
        Ip("addr", "add", ipv4Address, "dev", device);
        Ip("addr", "add", ipv6Address, "dev", device, "nodad");
        Ip("link", "set", device, "up");
    }

    /// <summary>Waits until <paramref name="device"/> reports operational state UP (a TAP has no carrier until a process attaches; the kernel drops what it sends before).</summary>
    public void WaitUntilUp(string device)
    {
        var limit = Stopwatch.StartNew();
        string state = "";
        while (limit.Elapsed < TimeSpan.FromSeconds(5))
        {
            var fields = Ip("-br", "link", "show", "dev", device).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            state = fields.Length > 1 ? fields[1] : "";
            if (state == "UP") return;
            Thread.Sleep(20);
        }
        throw new InvalidOperationException($"{device} in namespace {Name} did not come up (state {state})");
    }

    /// <summary>Kills what runs inside and deletes the namespace (idempotent, never throws).</summary>
    public void Dispose()
    {
        lock (s_gate)
        {
            if (_disposed) return;
            _disposed = true;
            s_live.Remove(this);
        }
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit(2000);
            }
            catch (InvalidOperationException) { }
            catch (System.ComponentModel.Win32Exception) { }
            p.Dispose();
        }
        Delete(Name);
    }

    private static void Delete(string name)
    {
        var pids = Shell.Run(TimeSpan.FromSeconds(5), "ip", "netns", "pids", name);
        foreach (var pid in pids.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            Shell.Run(TimeSpan.FromSeconds(5), "kill", "-9", pid);
        Shell.Run(TimeSpan.FromSeconds(10), "ip", "netns", "del", name);
    }

    /// <summary>Deletes every namespace this process made and has not deleted yet (Ctrl-C, SIGTERM, a failure).</summary>
    public static void DeleteAll()
    {
        BenchNamespace[] live;
        lock (s_gate) live = [.. s_live];
        foreach (var ns in live) ns.Dispose();
    }

    /// <summary>Deletes namespaces left by an earlier harness run whose process no longer exists (killed with SIGKILL).</summary>
    public static void DeleteStale()
    {
        var list = Shell.Run(TimeSpan.FromSeconds(5), "ip", "netns", "list");
        foreach (var line in list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string name = line.Split(' ')[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            string pid = name[Prefix.Length..].Split('-')[0];
            if (!Directory.Exists("/proc/" + pid)) Delete(name);
        }
    }
}
