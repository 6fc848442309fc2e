using System.CommandLine;
using System.Diagnostics;
using TcpIpSharp.Tap.Cli;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp demo</c> (as root): makes a throwaway network namespace with a TAP, starts the stack inside it as
/// 192.0.2.2/24 and 2001:db8:1::2/64 (with its link-local address), runs the kernel's ping, ping -6, arping, a UDP echo
/// through socat and curl -6 against it, prints what they printed and the stack's statistics, and removes the
/// namespace (unless --keep).
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Try the stack with ping and curl in a throwaway namespace (root). It runs ping, arping, a UDP echo through socat and curl -6 against the stack on a TAP, prints what they printed and the stack's statistics, and removes the namespace.")
        {
            Opt.Switch("--keep", "leave the namespace and the stack running afterwards"),
        };
        command.SetAction(App.Action(Run));
        return command;
    }
    private const string KernelAddress = "192.0.2.1";
    private const string StackAddress = "192.0.2.2";
    private const string KernelAddress6 = "2001:db8:1::1", StackAddress6 = "2001:db8:1::2", StackLinkLocal = "fe80::ff:fe00:2";

    public static int Run(CommandLine cl)
    {
        if (Environment.UserName != "root" && !IsRoot()) throw new EnvironmentException("run as root (it creates a network namespace and a TAP device)");
        foreach (var tool in new[] { "ip", "ping", "arping", "socat" })
            if (Which(tool) is null) throw new EnvironmentException($"'{tool}' is not installed (Debian: apt-get install iproute2 iputils-ping arping socat)");

        string ns = $"tcpipsharp-demo-{Environment.ProcessId}";
        Process? host = null;
        bool keep = cl.Has("--keep");
        try
        {
            Step($"ip netns add {ns}", "ip", "netns", "add", ns);
            Sh("ip", "-n", ns, "link", "set", "lo", "up");
            Sh("ip", "-n", ns, "tuntap", "add", "dev", "tap0", "mode", "tap");
            Sh("ip", "-n", ns, "addr", "add", KernelAddress + "/24", "dev", "tap0");
            Sh("ip", "-n", ns, "addr", "add", KernelAddress6 + "/64", "dev", "tap0", "nodad");
            Sh("ip", "-n", ns, "link", "set", "tap0", "up");
            Console.WriteLine($"# namespace {ns}: the kernel is {KernelAddress} and {KernelAddress6} on tap0; the stack attaches to tap0 as {StackAddress}, {StackAddress6} and {StackLinkLocal}");

            var (file, prefix) = SelfCommand();
            var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "netns", "exec", ns, file }.Concat(prefix).Concat(["up", "--tap", "tap0", "--ip", StackAddress + "/24", "--gw", KernelAddress, "--ip6", StackAddress6 + "/64", "--mac", "02:00:00:00:00:02"]))
                psi.ArgumentList.Add(a);
            host = Process.Start(psi)!;
            var hostOutput = new System.Text.StringBuilder();
            host.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (hostOutput) hostOutput.AppendLine(e.Data); };
            host.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (hostOutput) hostOutput.AppendLine(e.Data); };
            host.BeginOutputReadLine();
            host.BeginErrorReadLine();

            // Wait for the stack to answer (the TAP has no carrier until it attaches).
            var ready = Stopwatch.StartNew();
            while (Sh("ip", "netns", "exec", ns, "ping", "-c", "1", "-W", "1", StackAddress).Code != 0)
            {
                if (host.HasExited || ready.Elapsed > TimeSpan.FromSeconds(20))
                {
                    Console.Error.WriteLine("tcpipsharp demo: the stack did not answer within 20 s; its output:\n" + hostOutput);
                    return ExitCodes.Failed;
                }
            }
            Step($"ping -c 5 -i 0.2 {StackAddress}", "ip", "netns", "exec", ns, "ping", "-c", "5", "-i", "0.2", StackAddress);
            Step($"ping -c 2 -s 8000 {StackAddress}   (fragmented both ways)", "ip", "netns", "exec", ns, "ping", "-c", "2", "-s", "8000", StackAddress);
            Step($"arping -c 2 -I tap0 {StackAddress}", "ip", "netns", "exec", ns, "arping", "-c", "2", "-w", "3", "-I", "tap0", StackAddress);
            Step($"echo 'hello from the kernel' | socat -T1 - UDP4:{StackAddress}:7   (UDP echo)",
                "ip", "netns", "exec", ns, "sh", "-c", $"echo 'hello from the kernel' | socat -T1 - UDP4:{StackAddress}:7");
            Step($"ip neigh show {StackAddress}", "ip", "-n", ns, "neigh", "show", StackAddress);

            // IPv6: the stack's addresses pass duplicate address detection (about a second) before they answer.
            ready.Restart();
            while (Sh("ip", "netns", "exec", ns, "ping", "-6", "-c", "1", "-W", "1", StackAddress6).Code != 0 && ready.Elapsed < TimeSpan.FromSeconds(10)) { }
            Step($"ping -6 -c 3 -i 0.2 {StackAddress6}", "ip", "netns", "exec", ns, "ping", "-6", "-c", "3", "-i", "0.2", StackAddress6);
            Step($"ping -6 -c 2 {StackLinkLocal}%tap0   (link-local, from the MAC)", "ip", "netns", "exec", ns, "ping", "-6", "-c", "2", StackLinkLocal + "%tap0");
            Step($"ping -6 -c 2 -s 8000 {StackAddress6}   (fragmented both ways)", "ip", "netns", "exec", ns, "ping", "-6", "-c", "2", "-s", "8000", StackAddress6);
            if (Which("curl") is not null)
                Step($"curl -6 -s -o /dev/null -w ... http://[{StackAddress6}]/bytes/10000000   (the stack's HTTP service over IPv6)",
                    "ip", "netns", "exec", ns, "curl", "-6", "-s", "-g", "-o", "/dev/null", "--max-time", "30",
                    "-w", "HTTP %{http_code}, %{size_download} bytes in %{time_total} s\n", $"http://[{StackAddress6}]/bytes/10000000");
            else Console.WriteLine("\n# (curl is not installed: apt-get install curl for the curl -6 step)");
            Step($"ip -6 neigh show {StackAddress6}", "ip", "-n", ns, "-6", "neigh", "show", StackAddress6);

            if (keep)
            {
                Console.WriteLine($"\n# the stack keeps running (pid {host.Id}). Try:\n#   ip netns exec {ns} ping {StackAddress}\n#   ip netns exec {ns} ping -6 {StackAddress6}\n#   ip netns exec {ns} socat - UDP4:{StackAddress}:7\n# stop it and remove the namespace with:\n#   kill {host.Id}; ip netns del {ns}");
                return 0;
            }
            Stop(host);
            Console.WriteLine("\n$ (the stack's statistics, printed when it stopped)");
            lock (hostOutput) Console.Write(hostOutput.ToString());
            return 0;
        }
        finally
        {
            if (!keep)
            {
                if (host is { HasExited: false }) Stop(host);
                Sh("ip", "netns", "del", ns);
                Console.WriteLine($"# removed namespace {ns}");
            }
        }
    }

    private static void Stop(Process host)
    {
        Sh("kill", "-INT", host.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!host.WaitForExit(5000)) host.Kill(entireProcessTree: true);
        host.WaitForExit();
    }

    private static (string File, string[] Prefix) SelfCommand()
    {
        var path = Environment.ProcessPath ?? "tcpipsharp";
        // Under "dotnet TcpIpSharp.Tap.dll" the process is dotnet itself: run the same assembly again.
        if (Path.GetFileNameWithoutExtension(path) == "dotnet") return (path, [typeof(DemoCommand).Assembly.Location]);
        return (path, []);
    }

    private static void Step(string shown, string file, params string[] args)
    {
        Console.WriteLine($"\n$ {shown}");
        var (code, output) = Sh(file, args);
        Console.Write(output);
        if (code != 0) Console.WriteLine($"(exit status {code})");
    }

    private static (int Code, string Output) Sh(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30_000)) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string? Which(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':').Concat(["/usr/sbin", "/sbin"]))
            if (File.Exists(Path.Combine(dir, tool))) return Path.Combine(dir, tool);
        return null;
    }

    private static bool IsRoot() => File.Exists("/proc/self/status") && File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");
}
