using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using TcpIpSharp.Capture;
using TcpIpSharp.Replay;
using TcpIpSharp.Tap.Cli;
using TcpIpSharp.Tap.Services;
using TcpIpSharp.Wire;

namespace TcpIpSharp.Tap.Commands;

/// <summary>
/// <c>tcpipsharp replay FILE --host IP</c>: replays a capture with the stack as one of its hosts, in virtual time
/// (<see cref="CaptureReplay"/>), and prints the verdict: text, or one JSON object with <c>--json</c>. Exit status 0
/// when the stack reproduced every recorded frame of the host and sent nothing else, 1 on any difference, 2 for a bad
/// argument or an unreadable capture.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var command = new Command("replay", "Replay a capture with the stack as one of its hosts, in virtual time. The verdict says whether every recorded frame of the host was reproduced (exit 1 if not).")
        {
            Opt.Argument("FILE", "a pcap or pcapng capture"),
            Opt.Value("--host", "ADDRESS", "the recorded host the stack plays, IPv4 or IPv6 (--list-hosts shows them)"),
            Opt.Value("--ip", "A.B.C.D[/LEN]", "the host as an IPv4 address with its prefix length (instead of --host)"),
            Opt.Switch("--list-hosts", "list the capture's hosts and their conversations instead of replaying"),
            Opt.Value("--mac", "MAC", "the host's MAC address (the recorded one by default)"),
            Opt.Value("--gw", "A.B.C.D", "the host's IPv4 default gateway"),
            Opt.Value("--services", "LIST|none", "the services the stack runs (by default the ports the host answered from)", "echo", "discard", "chargen", "http", "none"),
            Opt.Value("--out", "FILE", "write the frames the stack sent to a pcap FILE"),
            Opt.Switch("--json", "print the verdict as one JSON object"),
            Opt.Switch("--fast", "feed each frame as soon as the stack is idle, not at its recorded time"),
            Opt.Switch("--serve-recorded", "serve the host's recorded TCP bytes on each connection it accepted"),
            Opt.Switch("--connect-recorded", "send the host's recorded TCP bytes on each connection it opened"),
            Opt.Value("--slow-start-limit", "N", "segments one ACK may grow the window by in slow start (2; 0 as Linux)"),
            Opt.Value("--vlan", "ID", "replay only the frames whose outer VLAN tag is ID (tags are removed either way)"),
            Opt.Value("--timeout", "SECONDS", "how long (virtual time) the stack may take to send what the host sent before the next peer segment (1)"),
        };
        command.SetAction(App.Action(Run));
        return command;
    }

    public static int Run(CommandLine cl)
    {
        // A replay is a batch job: no background collections beside it (on a 100,000-frame capture the concurrent
        // collector's thread cost CPU time the replay did not gain from; docs/replay.md "Speed").
        System.Runtime.GCSettings.LatencyMode = System.Runtime.GCLatencyMode.Batch;
        if (cl.Positional.Count != 1) throw new UsageException("replay takes one capture FILE");
        if (!File.Exists(cl.Positional[0])) throw new UsageException($"{cl.Positional[0]}: no such file");
        var read = new CaptureReadOptions { Vlan = cl.Has("--vlan") ? cl.GetInt("--vlan", 0) : null };
        var capture = CaptureFile.ReadEthernet(cl.Positional[0], read);
        if (cl.Has("--list-hosts")) return ListHosts(capture);

        IpAddress host;
        int? prefix = null;
        if (cl.Get("--host") is string h)
            host = IpAddress.TryParse(h, out var a) ? a : throw new UsageException($"--host: '{h}' is not an IPv4 or IPv6 address");
        else if (cl.Get("--ip") is string cidr)
        {
            if (cidr.Contains('/', StringComparison.Ordinal)) { (var h4, prefix) = CommandLine.ParseCidr(cidr); host = h4; }
            else host = CommandLine.ParseAddress(cidr, "--ip");
        }
        else throw new UsageException("--host A.B.C.D is required (the recorded host the stack plays; --list-hosts shows them)");
        MacAddress? mac = null;
        if (cl.Get("--mac") is string m) mac = MacAddress.TryParse(m, out var parsed) ? parsed : throw new UsageException($"--mac: '{m}' is not a MAC address");
        // Without --services, the services whose ports the recorded host answered from (a service on a port where the
        // host had none would answer what it refused).
        var services = cl.Has("--services") ? UpCommand.ParseServices(cl.Get("--services")) : ServicesSeen(capture.Frames, host);
        double timeout = cl.GetDouble("--timeout", 1);
        // --slow-start-limit N: segments one ACK may grow the window by in slow start (RFC 3465's L, 2 by default); 0 is
        // Linux's (no limit), which a Linux sender's recording facing stretch ACKs needs.
        NetworkStackOptions? stackOptions = cl.Has("--slow-start-limit")
            ? new NetworkStackOptions { Tcp = new Transport.Tcp.TcpConnectionOptions { SlowStartAckLimit = cl.GetInt("--slow-start-limit", 2) } }
            : null;
        var options = new ReplayOptions
        {
            Host = host, HostMac = mac, PrefixLength = prefix, Stack = stackOptions,
            Gateway = cl.Get("--gw") is string gw ? CommandLine.ParseAddress(gw, "--gw") : default,
            Fast = cl.Has("--fast"), ResponseTimeout = TimeSpan.FromSeconds(timeout),
            // --serve-recorded: the host's recorded TCP bytes serve its TCP connections (RecordedTcpServer), so the
            // built-in TCP services stay off; UDP ones run as named.
            ServeRecordedTcp = cl.Has("--serve-recorded"),
            // --connect-recorded: the host's recorded TCP bytes on each connection it opened (RecordedTcpClient), the
            // stack as the connecting side; the replay drives the recorded server from the capture.
            ConnectRecordedTcp = cl.Has("--connect-recorded"),
            Services = cl.Has("--serve-recorded") ? [Services(services)[0]] : Services(services),
        };
        // On a terminal only: the frames processed so far, four times a second (the replay runs on this thread).
        var progress = ProgressLine.ForConsole();
        if (progress is not null)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            long received = 0, sent = 0;
            TimeSpan shown = TimeSpan.Zero;
            options = options with
            {
                Setup = (stack, _) => stack.FrameObserver = (_, outgoing, _) =>
                {
                    if (outgoing) sent++;
                    else received++;
                    if (watch.Elapsed - shown < TimeSpan.FromMilliseconds(250)) return;
                    shown = watch.Elapsed;
                    progress.Show(string.Create(CultureInfo.InvariantCulture, $"replay: {received} frames fed to the stack, {sent} sent by it ({capture.Frames.Count} in the capture), {ProgressLine.Duration(watch.Elapsed)}"));
                },
            };
        }
        bool json = cl.Has("--json");
        if (!json)
        {
            WriteCaptureText(capture);
            Console.WriteLine(cl.Has("--serve-recorded")
                ? $"services: icmp-echo{string.Concat(services.Where(n => n != "http").Order(StringComparer.Ordinal).Select(n => ", " + n + " (udp)"))}, the host's recorded TCP bytes on each connection it accepted"
                : $"services: icmp-echo{string.Concat(services.Order(StringComparer.Ordinal).Select(n => ", " + n))}{(cl.Has("--services") ? "" : " (the ports the host answered from; --services to choose)")}");
            if (cl.Has("--connect-recorded")) Console.WriteLine("client: the host's recorded TCP bytes on each connection it opened");
        }
        ReplayResult result;
        try { result = CaptureReplay.Run(capture.Frames, options); }
        catch (ArgumentException e) { throw new UsageException(capture.Damage is null ? e.Message : $"{e.Message} ({capture.Damage})"); }
        finally { progress?.Clear(); }
        if (cl.Get("--out") is string output) CaptureFile.WriteEthernet(output, result.Sent);

        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            using (var writer = new Utf8JsonWriter(stdout))
                result.WriteJson(writer, w => WriteCaptureJson(w, cl.Positional[0], capture));
            stdout.WriteByte((byte)'\n');
        }
        else
        {
            Console.Write(result.ToString());
        }
        return result.Passed ? 0 : 1;
    }

    /// <summary>The services <c>--services</c> names, over UDP and TCP (HTTP on TCP 80), as <c>up</c> runs them.</summary>
    internal static IReadOnlyList<IStackService> Services(HashSet<string> services)
        =>
        [
            new UdpServices(services.Contains("echo"), services.Contains("discard"), services.Contains("chargen")),
            new TcpServices(services.Contains("echo"), services.Contains("discard"), services.Contains("chargen"), services.Contains("http")),
        ];

    /// <summary>The built-in services whose ports (echo 7, chargen 19, http 80) the host sent UDP or TCP from.</summary>
    internal static HashSet<string> ServicesSeen(IReadOnlyList<CaptureFrame> frames, IpAddress host)
    {
        // The host's MACs, so that a dual-stack host's ports of either family count.
        var macs = new HashSet<MacAddress>();
        foreach (var frame in frames)
            if (Source(frame.Data) is (IpAddress source, _, _, _) && source == host) macs.Add(MacAddress.Read(frame.Data.AsSpan(6)));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var frame in frames)
        {
            if (Source(frame.Data) is not (IpAddress source, IpProtocol protocol, int offset, bool first) || !first) continue;
            if (source != host && !macs.Contains(MacAddress.Read(frame.Data.AsSpan(6)))) continue;
            if (protocol is not (IpProtocol.Udp or IpProtocol.Tcp) || frame.Data.Length < offset + 4) continue;
            ushort port = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(frame.Data.AsSpan(offset));
            string? name = port switch { 7 => "echo", 19 => "chargen", 80 when protocol == IpProtocol.Tcp => "http", _ => null };
            if (name is not null) seen.Add(name);
        }
        return seen;
    }

    // An IP frame's source, upper-layer protocol, the offset of its upper layer in the frame and whether it holds its start.
    private static (IpAddress, IpProtocol, int, bool)? Source(byte[] data)
    {
        if (EthernetFrame.TryParse(data, out var eth) != WireError.None) return null;
        if (eth.EtherType == EtherType.Ipv4 && Ipv4Packet.TryParse(eth.Payload, out var ip) == WireError.None)
            return (ip.Source, ip.Protocol, eth.HeaderLength + ip.HeaderLength, ip.FragmentOffset == 0);
        if (eth.EtherType == EtherType.Ipv6 && Ipv6Packet.TryParse(eth.Payload, out var ip6) == WireError.None)
        {
            if (ip6.TryWalkHeaders(out var chain) != WireError.None) return (ip6.Source, default, 0, false);
            return (ip6.Source, chain.UpperLayerProtocol, eth.HeaderLength + chain.UpperLayerOffset, chain.Fragment is not { Offset: > 0 });
        }
        return null;
    }

    private static void WriteCaptureText(CaptureContents capture)
    {
        if (capture.Damage is not null) Console.WriteLine($"capture: {capture.Damage}; only the frames before it are used");
        foreach (var group in capture.Skipped.GroupBy(s => Category(s.Reason)))
            Console.WriteLine($"capture: {group.Count()} records skipped: {group.First().Reason} (first: record {group.First().Number})");
    }

    private static string Category(string reason) => reason.Split(':')[0];

    private static void WriteCaptureJson(Utf8JsonWriter w, string path, CaptureContents capture)
    {
        w.WriteString("file", path);
        w.WriteString("format", capture.Format == CaptureFormat.PcapNg ? "pcapng" : "pcap");
        w.WriteNumber("records", capture.Records);
        w.WriteStartArray("link_types");
        foreach (var t in capture.LinkTypes) w.WriteStringValue(t);
        w.WriteEndArray();
        if (capture.Damage is not null) w.WriteString("damage", capture.Damage);
        w.WriteStartArray("skipped");
        foreach (var s in capture.Skipped)
        {
            w.WriteStartObject();
            w.WriteNumber("n", s.Number);
            w.WriteString("reason", s.Reason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static int ListHosts(CaptureContents capture)
    {
        var hosts = CaptureHost.List(capture.Frames);
        if (hosts.Count == 0) Console.WriteLine("no IPv4 host sends anything in this capture");
        foreach (var host in hosts)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{host.Address}  mac {string.Join(",", host.Macs)}  sent {host.FramesSent}  received {host.FramesReceived}"));
            foreach (var talk in host.Conversations.Take(20)) Console.WriteLine("    " + talk);
            if (host.Conversations.Count > 20) Console.WriteLine($"    ... {host.Conversations.Count - 20} more");
        }
        WriteCaptureText(capture);
        return 0;
    }
}
